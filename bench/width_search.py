#!/usr/bin/env python3
"""The width search's methods under a MACs budget, with the same fine-tuning each: evolution
(the default), layer-adaptive (each channel group's damage measured alone, channels taken where
they cost least per MAC) and a uniform width multiplier, against the float model and the whole
model in int8.

    python3 bench/width_search.py [--models lite0,mobilenetv2,resnet20] [--methods evolution,layer-adaptive,uniform]
                                  [--epochs 0,2]

Every run is the main job as a user types it (`compress MODEL --budget B --data DIR --prep P
--width-method M --epochs E`), on ../shared/data/imagenet-train (CIFAR-10: its training split,
fine-tuning capped at --time-limit) and scored by `compress eval` on ../shared/data/imagenet-eval
(CIFAR-10: 2,000 test images); the time is the main job's wall time. Prints a table and one JSON line.
"""
import argparse, json, os, time

from common import OUT, SHARED, compress_json as run  # noqa: E402

# model, preset, training data, evaluation data, budget, extra flags, evaluation images
MODELS = {
    "lite0": ("imagenet/efficientnet-lite0-fp32.onnx", "tf", "imagenet-train", "imagenet-eval", "300MFLOPs", [], 500),
    "mobilenetv2": ("imagenet/mobilenetv2-12-dequantized-fp32.onnx", "torch", "imagenet-train", "imagenet-eval", "300MFLOPs", [], 500),
    "resnet20": ("cifar10/resnet20_cifar10.onnx", "cifar10", "cifar10/train", "cifar10/test", "20.3MFLOPs",
                 ["--calibration-count", "200", "--time-limit", "5m"], 2000),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="lite0,mobilenetv2,resnet20")
    ap.add_argument("--methods", default="evolution,layer-adaptive,uniform")
    ap.add_argument("--epochs", default="0,2")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    rows = []
    for name in a.models.split(","):
        model, prep, train, test, budget, extra, count = MODELS[name]
        model = os.path.join(SHARED, "models", model)
        data = ["--data", os.path.join(SHARED, "data", train), "--prep", prep] + extra
        evaluate = ["--data", os.path.join(SHARED, "data", test), "--prep", prep, "--count", str(count)]
        top1 = lambda path: run(["eval", path] + evaluate)["top1"]
        whole = os.path.join(OUT, f"{name}-int8.wtm")
        summary = run([model, "-o", whole] + data)
        rows.append((name, "float", "-", summary["macs"], top1(model), None))
        rows.append((name, "int8, every channel", "-", summary["macs"], top1(whole), None))
        for method in a.methods.split(","):
            for epochs in a.epochs.split(","):
                out = os.path.join(OUT, f"{name}-{method}-{epochs}.wtm")
                started = time.time()
                summary = run([model, "--budget", budget, "--width-method", method, "--epochs", epochs, "-o", out] + data)
                rows.append((name, f"int8, {method}", epochs, summary["macs"], top1(out), time.time() - started))
    print(f"{'model':12} {'widths':28} {'epochs':>6} {'MACs':>10} {'top-1':>7} {'time':>8}")
    for name, what, epochs, macs, accuracy, seconds in rows:
        macs_text = f"{macs / 1e6:.1f}M" if macs else "-"
        time_text = f"{seconds:.0f} s" if seconds else "-"
        print(f"{name:12} {what:28} {epochs:>6} {macs_text:>10} {accuracy * 100:6.1f}% {time_text:>8}")
    print(json.dumps([dict(zip(["model", "widths", "epochs", "macs", "top1", "seconds"], row)) for row in rows]))


if __name__ == "__main__":
    main()
