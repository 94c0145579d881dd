"""The `compress` command line from Python: each call runs it with --json and returns the summary."""
import json
import os
import shutil
import subprocess


class CompressError(Exception):
    """compress exited non-zero; the message is its error."""


def _executable(executable):
    found = executable or os.environ.get("WHITTLE_COMPRESS") or shutil.which("compress")
    if not found:
        raise CompressError("the compress executable is not found: put it on PATH or set WHITTLE_COMPRESS")
    return found


def compress(model, output, data=None, prep=None, budget=None, bits=None, options=(), executable=None):
    """Runs the main job: `model` (.onnx) → `output` (.wtm); returns its --json summary as a dict.

        whittle.compress("lite0.onnx", "lite0.wtm", data="photos/", prep="tf", budget="4MB")

    `options` are further flags as written on the command line, e.g. ["--calibration-count", "50"].
    """
    command = [_executable(executable), str(model), "-o", str(output), "--json"]
    for flag, value in (("--data", data), ("--prep", prep), ("--budget", budget), ("--bits", bits)):
        if value is not None:
            command += [flag, str(value)]
    done = subprocess.run(command + [str(o) for o in options], capture_output=True, text=True)
    if done.returncode != 0:
        raise CompressError(done.stderr.strip() or f"compress exited with status {done.returncode}")
    return json.loads(done.stdout)
