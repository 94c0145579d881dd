#!/usr/bin/env python3
"""int8 latency against ONNX Runtime int8, one thread each, measured alternately in the same run
(this machine is shared and noisy: compare the ratios, not the milliseconds), plus the GEMM
micro-kernels' GOP/s next to the peak of their instruction mix (bench/gemm_peak.c).

    python3 bench/int8_vs_ort.py [--rounds 5] [--runs 30] [--models lite0,mobilenetv2,squeezenet]

Ours: `compress profile MODEL.wtm --runs N --json` (median_ms), for each x86 kernel set the CPU
runs (AVX-512 VNNI, AVX-VNNI, AVX2); the .wtm is made by the main job calibrated on 20 images.
ONNX Runtime: quantize_static QDQ, per-channel, U8 activations / S8 weights (as
../shared/bench/ort_reference.py), intra_op_num_threads=1, median of N runs after warm-up.
Each round measures ONNX Runtime and then each of our kernel sets; a set's ratio is the median
over the rounds of that round's ours / ONNX Runtime, so the machine's swings between rounds
(twofold within a minute here) cancel in each pair. The ms columns are medians over rounds.
Two threads: ours (`--threads 2`, default kernels) against ONNX Runtime's intra_op_num_threads=2,
as ranges over the rounds (two-thread scaling on shared machines varies run to run).
Prints a table and one JSON line.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

from common import BIN, HERE, MODELS, OUT, ROOT, SHARED, ort_reference  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402

# The compiler SwiftPM builds the runtime with (the Swift toolchain's clang), so the kernels
# measured here are the ones `compress` runs.
_swift = subprocess.run(["which", "swift"], capture_output=True, text=True).stdout.strip()
CC = os.path.join(os.path.dirname(os.path.realpath(_swift)), "clang") if _swift else "cc"
CC = CC if os.path.exists(CC) else "cc"


def calibration(prep, count):
    folder = os.path.join(SHARED, "data", "imagenet-calib")
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(folder, "labels.tsv"))][1:count + 1]
    return [ort_reference.preprocess(os.path.join(folder, r[0]), prep, 224) for r in rows]


def ours_wtm(name, model, prep):
    path = os.path.join(OUT, f"{name}.wtm")
    if not os.path.exists(path) or os.path.getmtime(path) < os.path.getmtime(BIN):
        subprocess.run([BIN, model, "--data", os.path.join(SHARED, "data", "imagenet-calib"), "--prep", prep,
                        "--calibration-count", "20", "-o", path, "--json"], check=True, stdout=subprocess.DEVNULL)
    return path


def ort_int8(name, model, prep):
    path = os.path.join(OUT, f"{name}-ort-int8.onnx")
    if os.path.exists(path):
        return path
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process
    images = calibration(prep, 20)
    input_name = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).get_inputs()[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{input_name: x} for x in images])

        def get_next(self):
            return next(self.it, None)

    with tempfile.TemporaryDirectory() as d:
        src, pre = model, os.path.join(d, "pre.onnx")
        m = onnx.load(model)
        if next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx")) < 13:
            src = os.path.join(d, "opset13.onnx")
            onnx.save(onnx.version_converter.convert_version(m, 13), src)
        quant_pre_process(src, pre)
        quantize_static(pre, path, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    return path


def prepared(name):
    """The model `name` both ways: our .wtm, ONNX Runtime sessions of its QDQ model by threads (1
    and 2), and one prepared calibration image."""
    rel, prep = MODELS[name]
    model = os.path.join(SHARED, "models", rel)
    wtm, ort_model = ours_wtm(name, model, prep), ort_int8(name, model, prep)
    sessions = {}
    for threads in (1, 2):
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        sessions[threads] = ort.InferenceSession(ort_model, so, providers=["CPUExecutionProvider"])
    return wtm, sessions, calibration(prep, 1)[0]


def ours_ms(wtm, kernels, runs, threads=1):
    out = subprocess.run([BIN, "profile", wtm, "--runs", str(runs), "--kernels", kernels, "--threads", str(threads), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["median_ms"]


def gemm_peak():
    exe = os.path.join(ROOT, ".build", "gemm_peak")
    runtime = os.path.join(ROOT, "Sources", "Runtime")
    sources = [os.path.join(dp, f) for dp, _, fs in os.walk(runtime) for f in fs
               if f.endswith(".c") and not dp.startswith(os.path.join(runtime, "tools"))]
    subprocess.run([CC, "-std=c11", "-O2", "-I" + os.path.join(ROOT, "Sources/Runtime/include"),
                    "-I" + os.path.join(ROOT, "Sources/Runtime"), os.path.join(HERE, "gemm_peak.c"), *sources, "-lm", "-pthread", "-o", exe],
                   check=True)
    return json.loads(subprocess.run([exe, "0.5"], check=True, capture_output=True, text=True).stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--models", default=",".join(MODELS))
    a = ap.parse_args()
    if not os.path.isdir(os.path.join(SHARED, "data", "imagenet-calib")):
        print("(../shared/data is absent: the int8 benchmark needs the ImageNet models and calibration images; skipping it)")
        return
    os.makedirs(OUT, exist_ok=True)
    kernel_sets = ["avx512vnni", "avxvnni", "avx2"]  # a set this CPU lacks drops out at its first run
    results = {}
    for name in a.models.split(","):
        wtm, sessions, x = prepared(name)
        ours = {k: [] for k in kernel_sets}
        theirs, ratios = [], {k: [] for k in kernel_sets}
        theirs2, ours2, ratios2 = [], [], []
        for _ in range(a.rounds):
            t = ort_reference.latency_ms(sessions[1], x, a.runs)
            theirs.append(t)
            for k in list(ours):
                try:
                    ms = ours_ms(wtm, k, a.runs)
                except subprocess.CalledProcessError:  # this CPU lacks the set
                    del ours[k], ratios[k]
                    continue
                ours[k].append(ms)
                ratios[k].append(ms / t)
            # Two threads: ONNX Runtime's intra-op pool against ours, the default kernel set.
            t2 = ort_reference.latency_ms(sessions[2], x, a.runs)
            ms2 = ours_ms(wtm, "auto", a.runs, threads=2)
            theirs2.append(t2)
            ours2.append(ms2)
            ratios2.append(ms2 / t2)
        r = {"ort_int8_ms": statistics.median(theirs)}
        for k in ours:
            r[f"ours_{k}_ms"] = statistics.median(ours[k])
            r[f"ratio_{k}"] = statistics.median(ratios[k])
            r[f"ratio_{k}_range"] = [min(ratios[k]), max(ratios[k])]
        r["two_threads"] = {"ort_ms_range": [min(theirs2), max(theirs2)], "ours_ms_range": [min(ours2), max(ours2)],
                            "ratio_range": [min(ratios2), max(ratios2)]}
        results[name] = r
    peak = gemm_peak()
    print(f"{'model':<14}{'ORT int8 ms':>12}" + "".join(f"{'ours ' + k + ' ms':>18}{'ratio':>8}{'per-round':>16}" for k in kernel_sets))
    for name, r in results.items():
        line = f"{name:<14}{r['ort_int8_ms']:>12.2f}"
        for k in kernel_sets:
            if f"ours_{k}_ms" in r:
                lo, hi = r[f"ratio_{k}_range"]
                line += f"{r[f'ours_{k}_ms']:>18.2f}{r[f'ratio_{k}']:>8.2f}{f'{lo:.2f}-{hi:.2f}':>16}"
        print(line)
    print("two threads (ranges over the rounds):")
    for name, r in results.items():
        t = r["two_threads"]
        print(f"  {name:<12} ORT {t['ort_ms_range'][0]:.2f}-{t['ort_ms_range'][1]:.2f} ms, ours {t['ours_ms_range'][0]:.2f}-"
              f"{t['ours_ms_range'][1]:.2f} ms, ratio {t['ratio_range'][0]:.2f}-{t['ratio_range'][1]:.2f}")
    print("GEMM micro-kernels, GOP/s (peak = the instruction mix alone, same run):")
    print("  " + ", ".join(f"{k.replace('_gops', '')} {v}" for k, v in peak.items()))
    print(json.dumps({"int8": results, "gemm": peak}))


if __name__ == "__main__":
    main()
