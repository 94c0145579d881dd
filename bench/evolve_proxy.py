#!/usr/bin/env python3
"""Reproduces the built-in EMQ proxy (Proxy.evolved): the MQ benchmarks of Lite0, MobileNetV2
and CIFAR ResNet-20 (50 plans each at 0.75-1x uniform int4's weight bytes, top-1 measured on
200 imagenet-train / 500 CIFAR-10 training images), then `compress evolve-proxy` on all three
(3 rounds of 5,000 children, 8 finalists, seed 1), and each method's Kendall tau on them.

    python3 bench/evolve_proxy.py [--reuse]      # --reuse: keep benchmarks already in out/bench

Run from the project's root: the benchmarks record the model and image paths relative to it.
About 30 minutes on two cores, most of it measuring the 150 plans.
"""
import argparse, os, subprocess

from common import BIN, OUT, compress_json  # noqa: E402

SHARED = "../shared"
MODELS = {  # model, prep, calibration folder and count, measured folder and count, bytes of uniform int4
    "lite0": ("models/efficientnet-lite0-fp32.onnx", "tf", "data/imagenet-calib", 100, "data/imagenet-train", 200, "3.22MB"),
    "mobilenetv2": ("models/imagenet/mobilenetv2-12-dequantized-fp32.onnx", "torch", "data/imagenet-calib", 100, "data/imagenet-train", 200, "2603216B"),
    "resnet20": ("models/cifar10/resnet20_cifar10.onnx", "cifar10", "data/cifar10/train", 200, "data/cifar10/train", 500, "143480B"),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reuse", action="store_true")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    benchmarks = []
    for name, (model, prep, calib, calib_count, measure, measure_count, budget) in MODELS.items():
        model = model if model.startswith("models/efficientnet") else os.path.join(SHARED, model)
        plans = os.path.join(OUT, f"{name}-plans.json")
        common = [model, "--data", os.path.join(SHARED, calib), "--prep", prep, "--calibration-count", str(calib_count)]
        if a.reuse and os.path.exists(plans):
            args = ["sample-plans"] + common + ["--benchmark", plans]
        else:
            args = ["sample-plans"] + common + ["--measure-data", os.path.join(SHARED, measure), "--measure-count", str(measure_count),
                                                "--budget", budget, "--plans", "50", "-o", plans]
        ranked = compress_json(args)
        print(name, {m["method"]: round(m.get("tau_top1", float("nan")), 3) for m in ranked["methods"]}, flush=True)
        benchmarks += ["--benchmark", plans]
    proxy = os.path.join(OUT, "proxy.json")
    subprocess.run([BIN, "evolve-proxy"] + benchmarks + ["-o", proxy], check=True)


if __name__ == "__main__":
    main()
