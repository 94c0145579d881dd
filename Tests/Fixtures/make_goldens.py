#!/usr/bin/env python3
"""Makes the small golden fixtures in goldens/: one input and ONNX Runtime's fp32 output for
each model in ../shared/models that has no golden pair there (CIFAR, MNIST, OCR, fusion).

Run once from this folder with ../../../shared beside the project:
    pip install onnx onnxruntime numpy pillow && python3 make_goldens.py
The tests compare `compress run` against these files; they never run Python.
"""
import gzip, os
import numpy as np
import onnxruntime as ort
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "..", "shared")
MNIST = os.path.join(SHARED, "data", "mnist", "t10k-images-idx3-ubyte.gz")


def mnist_digit(index):
    raw = gzip.open(MNIST).read()
    return np.frombuffer(raw[16 + index * 784:16 + (index + 1) * 784], np.uint8).reshape(28, 28).astype(np.float32)


def photo(size):
    im = Image.open(os.path.join(SHARED, "data", "package-samples", "chelsea.png")).convert("RGB")
    return np.asarray(im.resize((size[1], size[0]), Image.BILINEAR), np.float32).transpose(2, 0, 1)[None]


def text_image(size):
    """Black text drawn on white: something for the OCR detector and recognizer to find."""
    from PIL import ImageDraw
    im = Image.new("RGB", (size[1], size[0]), "white")
    draw = ImageDraw.Draw(im)
    for row, y in enumerate(range(4, size[0] - 12, 20)):
        draw.text((6, y), "Whittle 2026 ONNX"[row % 3:], fill="black")
    return np.asarray(im, np.float32).transpose(2, 0, 1)[None] / 127.5 - 1


def cifar_input():
    mean = np.array([0.4914, 0.4822, 0.4465], np.float32).reshape(1, 3, 1, 1)
    std = np.array([0.247, 0.243, 0.261], np.float32).reshape(1, 3, 1, 1)
    return (photo((32, 32)) / 255 - mean) / std


MODELS = {
    "resnet20_cifar10": ("cifar10/resnet20_cifar10.onnx", cifar_input),
    "resnet56_cifar10": ("cifar10/resnet56_cifar10.onnx", cifar_input),
    "mnist-cntk-opset7": ("mnist/mnist-cntk-opset7.onnx", lambda: mnist_digit(0)[None, None]),
    "mnist-opt-opset8": ("mnist/mnist-opt-opset8.onnx", lambda: mnist_digit(1)[None, None]),
    "mnist-pytorch-opset11": ("mnist/mnist-pytorch-opset11.onnx", lambda: ((mnist_digit(2) / 255 - 0.1307) / 0.3081)[None, None]),
    "ch_ppocr_mobile_v2.0_cls_infer": ("ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx", lambda: photo((48, 192)) / 127.5 - 1),
    "ch_PP-OCRv4_rec_infer": ("ocr/ch_PP-OCRv4_rec_infer.onnx", lambda: text_image((48, 160))),
    "ch_PP-OCRv4_det_infer": ("ocr/ch_PP-OCRv4_det_infer.onnx", lambda: text_image((96, 128))),
}

for name, (path, make_input) in MODELS.items():
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(os.path.join(SHARED, "models", path), so, providers=["CPUExecutionProvider"])
    x = np.ascontiguousarray(make_input(), dtype=np.float32)
    y = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    out = os.path.join(HERE, "goldens", name)
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "input.npy"), x)
    np.save(os.path.join(out, "output.npy"), y.astype(np.float32))
    print(name, x.shape, "->", y.shape)
