#!/usr/bin/env python3
"""A training step (forward, cross-entropy, backward, an SGD step) of ours against PyTorch's on
the same model, batch and thread count, in the same run: EfficientNet-Lite0 at batch 32 and
ResNet-20 at batch 128, one thread and two. Ours is `engine-bench MODEL --train` (`Trainer.step`,
the batch split over --threads tapes); PyTorch's is the ONNX file converted by onnx2torch. Both
pip-installed here when missing (torch, onnx2torch): the project itself never needs them.

    python3 bench/train_vs_torch.py [--runs 3]

Prints images per second of each and ours / PyTorch's, and one JSON line.
"""
import argparse, json, os, subprocess, sys, time

from common import ROOT, SHARED  # noqa: E402

try:
    import torch, onnx2torch  # noqa: F401
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "torch", "onnx2torch"], check=True)
    import torch, onnx2torch  # noqa: F401
import onnx, onnx.numpy_helper  # noqa: E402

BENCH = os.path.join(ROOT, ".build", "release", "engine-bench")
MODELS = {
    "lite0": (os.path.join(ROOT, "models", "efficientnet-lite0-fp32.onnx"), 32, 1000),
    "resnet20": (os.path.join(SHARED, "models", "cifar10", "resnet20_cifar10.onnx"), 128, 10),
}


def ours(path, batch, threads, runs):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([BENCH, path, "--train", "--batches", str(batch), "--runs", str(runs), "--threads", str(threads)],
                         check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out)["results"][0]["images_per_second"]


def batched(graph):
    """Lite0 flattens its features by Reshape to [1, -1] (allowzero=1), which onnx2torch refuses and
    which holds one image only: [0, -1] (allowzero=0) keeps the batch, as our importer does."""
    shapes = {t.name: t for t in graph.graph.initializer}
    for node in graph.graph.node:
        if node.op_type != "Reshape":
            continue
        for attribute in node.attribute:
            if attribute.name == "allowzero":
                attribute.i = 0
        shape = shapes.get(node.input[1])
        if shape is not None and list(onnx.numpy_helper.to_array(shape)) == [1, -1]:
            shape.CopyFrom(onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(shape) * 0 + [0, -1], shape.name))
    return graph


def pytorch(path, batch, classes, threads, runs):
    torch.set_num_threads(threads)
    model = onnx2torch.convert(batched(onnx.load(path)))
    model.train()
    shape = [batch] + [d.dim_value for d in onnx.load(path).graph.input[0].type.tensor_type.shape.dim][1:]
    x = (torch.arange(int(torch.tensor(shape).prod())) % 255).float().reshape(shape) / 127.5 - 1
    labels = torch.arange(batch) % classes
    sgd = torch.optim.SGD(model.parameters(), lr=1e-4)

    def step():
        sgd.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), labels)
        loss.backward()
        sgd.step()

    step()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return batch / sorted(times)[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--models", default="lite0,resnet20")
    a = ap.parse_args()
    rows = []
    for name in a.models.split(","):
        path, batch, classes = MODELS[name]
        if not os.path.exists(path):
            print(f"({path} is absent: skipping {name})")
            continue
        for threads in (1, 2):
            mine = ours(path, batch, threads, a.runs)
            try:
                theirs = pytorch(path, batch, classes, threads, a.runs)
            except NotImplementedError as error:  # onnx2torch lacks an op (Pad of opset 18 in the CIFAR ResNets)
                print(f"{name:9} batch {batch:3} {threads} thread{'s' if threads > 1 else ' '}  ours {mine:7.1f} images/s"
                      f"  PyTorch: onnx2torch cannot convert it ({error})", flush=True)
                continue
            rows.append({"model": name, "batch": batch, "threads": threads, "ours": mine, "pytorch": theirs, "ratio": mine / theirs})
            print(f"{name:9} batch {batch:3} {threads} thread{'s' if threads > 1 else ' '}  ours {mine:7.1f} images/s"
                  f"  PyTorch {theirs:7.1f}  ours/PyTorch {mine / theirs:.2f}", flush=True)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
