"""The Python face against the command line: a model compressed through `whittle.compress` runs
on the C runtime through `whittle.Model` with the same output bytes `compress run` writes."""
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import whittle

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
COMPRESS = os.environ.get("WHITTLE_COMPRESS", str(ROOT / ".build" / "release" / "compress"))
MNIST = SHARED / "models" / "mnist" / "mnist-pytorch-opset11.onnx"


@pytest.fixture(scope="module")
def mnist(tmp_path_factory):
    if not (SHARED / "data" / "mnist").is_dir():
        pytest.skip("../shared/data/mnist is absent")
    path = tmp_path_factory.mktemp("whittle") / "mnist.wtm"
    summary = whittle.compress(MNIST, path, data=SHARED / "data" / "mnist", prep="mnist",
                               options=["--calibration-count", "20"], executable=COMPRESS)
    assert summary["bits"] == "int8" and path.stat().st_size == summary["file_bytes"]
    return path


def digit():
    """A fixed input in MNIST's normalized range."""
    return np.linspace(-0.42, 2.8, 28 * 28, dtype=np.float32).reshape(1, 1, 28, 28) ** 2 % 3.2 - 0.42


def test_runs_as_the_command_line(mnist, tmp_path):
    np.save(tmp_path / "x.npy", digit())
    subprocess.run([COMPRESS, "run", str(mnist), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy")],
                   check=True, capture_output=True)
    with whittle.Model(mnist) as model:
        scores = model.run(digit())
    assert scores.shape == (1, 10) and scores.dtype == np.float32
    np.testing.assert_array_equal(scores, np.load(tmp_path / "y.npy").reshape(1, 10))


def test_shapes_metadata_and_kernel_sets(mnist):
    model = whittle.Model(str(mnist))
    assert model.input_shape == (1, 1, 28, 28) and model.output_shape == (1, 10)
    assert model.metadata["preprocessing"]["preset"] == "mnist"
    assert model.metadata["source"]["file"] == MNIST.name
    q = model.input.quantize(digit())
    assert q.shape == (1, 28, 28, 1) and q.dtype == np.uint8
    np.testing.assert_array_equal(model.run_quantized(q, kernels="ref"), model.run_quantized(q))
    assert whittle.runtime_version().startswith("whittle-runtime")


def test_bad_files_and_inputs_are_clear_errors(mnist):
    good = mnist.read_bytes()
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0xFF
    for bad, words in ((bytes(flipped), "CRC-32"), (good[:100], "ends before"), (b"not a model at all" * 8, "bad magic")):
        with pytest.raises(whittle.WhittleError, match=words):
            whittle.Model(bad)
    model = whittle.Model(good)
    with pytest.raises(whittle.WhittleError, match="holds 10 values"):
        model.run(np.zeros(10, dtype=np.float32))
    with pytest.raises(whittle.WhittleError):
        model.run_quantized(model.input.quantize(digit()), kernels="no-such-set")


def test_compress_errors_carry_its_message(tmp_path):
    with pytest.raises(whittle.CompressError, match="cannot read"):
        whittle.compress(tmp_path / "missing.onnx", tmp_path / "out.wtm", executable=COMPRESS)
