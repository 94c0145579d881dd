#!/usr/bin/env python3
"""The bit-width search's methods against the uniform plans, at budgets taken from uniform int4:
its weight bytes, 0.75x those bytes, its BOPs, and (with --ms) the milliseconds a latency table
of this machine's kernels gives int4.

    python3 bench/bit_search.py [--models lite0,mobilenetv2,resnet20] [--methods emq,hawq,zeroq,fliqs] [--ms]

Every run is the main job as a user types it (`compress MODEL --bits mixed --method M --budget B`),
calibrated on ../shared/data/imagenet-calib (CIFAR: 200 training images), and scored by
`compress eval` on ../shared/data/imagenet-eval (CIFAR-10: the test split); the search time is
the main job's wall time. Prints a table and one JSON line.
"""
import argparse, json, os, subprocess, time

from common import BIN, OUT, SHARED, compress_json as run  # noqa: E402

MODELS = {
    "lite0": ("imagenet/efficientnet-lite0-fp32.onnx", "tf", "imagenet-calib", "imagenet-eval", []),
    "mobilenetv2": ("imagenet/mobilenetv2-12-dequantized-fp32.onnx", "torch", "imagenet-calib", "imagenet-eval", []),
    "resnet20": ("cifar10/resnet20_cifar10.onnx", "cifar10", "cifar10/train", "cifar10/test", ["--calibration-count", "200"]),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="lite0,mobilenetv2,resnet20")
    ap.add_argument("--methods", default="emq,hawq,zeroq,fliqs")
    ap.add_argument("--ms", action="store_true", help="also a latency budget, from a table profiled here")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    results = {}
    for name in a.models.split(","):
        model, prep, calib, test, extra = MODELS[name]
        model = os.path.join(SHARED, "models", model)
        data = ["--data", os.path.join(SHARED, "data", calib), "--prep", prep] + extra
        table = os.path.join(OUT, f"{name}-latency.json")
        timing = []
        if a.ms:
            if os.path.exists(table):
                os.remove(table)
            for bits in ["int8", "int4", "int2", "ternary"]:
                wtm = os.path.join(OUT, f"{name}-{bits}-everywhere.wtm")
                run([model] + data + ["--bits", bits, "--bits-everywhere", "-o", wtm])
                subprocess.run([BIN, "profile", wtm, "--runs", "20", "--table", table], check=True, capture_output=True)
            timing = ["--latency-table", table]

        def score(wtm):
            return run(["eval", wtm, "--data", os.path.join(SHARED, "data", test), "--prep", prep])["top1"]

        rows = []
        for bits in ["int8", "int4"]:
            wtm = os.path.join(OUT, f"{name}-{bits}.wtm")
            started = time.time()
            summary = run([model] + data + timing + ["--bits", bits, "-o", wtm])
            rows.append({"plan": f"uniform {bits}", "budget": "", "bytes": summary["weight_bytes"], "bops": summary["bops"],
                         "ms": summary.get("milliseconds"), "top1": score(wtm), "seconds": time.time() - started})
        int4 = rows[1]
        budgets = [f"{int4['bytes']}B", f"{int(int4['bytes'] * 0.75)}B", f"{int4['bops']}BOPs"]
        if a.ms:
            budgets.append(f"{int4['ms']:.3f}ms")
        for budget in budgets:
            for method in a.methods.split(","):
                wtm = os.path.join(OUT, f"{name}-{method}.wtm")
                started = time.time()
                summary = run([model] + data + timing + ["--bits", "mixed", "--method", method, "--budget", budget, "-o", wtm])
                rows.append({"plan": method, "budget": budget, "bytes": summary["weight_bytes"], "bops": summary["bops"],
                             "ms": summary.get("milliseconds"), "top1": score(wtm), "seconds": time.time() - started})
                print(f"{name} {method} {budget}: top-1 {rows[-1]['top1']:.4f}, {rows[-1]['seconds']:.0f} s", flush=True)
        results[name] = rows
        print(f"\n{name}\n| plan | budget | weight bytes | GBOPs | ms (table) | top-1 | time s |\n|---|---|---|---|---|---|---|")
        for r in rows:
            ms = f"{r['ms']:.2f}" if r["ms"] is not None else ""
            print(f"| {r['plan']} | {r['budget']} | {r['bytes']} | {r['bops'] / 1e9:.2f} | {ms} | {100 * r['top1']:.1f} % | {r['seconds']:.0f} |")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
