#!/usr/bin/env python3
"""Makes the data fixtures in datasets/: images preprocessed by ../shared/bench/ort_reference.py's
own `preprocess` (Pillow), small .npz archives (stored and deflated), and the images Pillow
decodes in its own way (a CMYK JPEG, 16-bit gray and colour PNGs) with its RGB pixels as
float32 .npy, and a truncated JPEG Pillow refuses.

    pip install onnxruntime numpy pillow && python3 make_datasets.py
"""
import importlib.util, os, struct, zlib
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "..", "shared")
spec = importlib.util.spec_from_file_location("ort_reference", os.path.join(SHARED, "bench", "ort_reference.py"))
reference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reference)

out = os.path.join(HERE, "datasets")
os.makedirs(out, exist_ok=True)
for image, prep in [("china.jpg", "tf"), ("chelsea.png", "torch"), ("coffee.png", "caffe_bgr"), ("rocket.jpg", "tf")]:
    x = reference.preprocess(os.path.join(SHARED, "data", "package-samples", image), prep, 64)
    np.save(os.path.join(out, f"{os.path.splitext(image)[0]}_{prep}_64.npy"), x)

a = np.arange(6, dtype=np.float32).reshape(2, 3) / 4
b = np.array([3, -1, 4, 1], dtype=np.int64)
np.savez(os.path.join(out, "stored.npz"), a=a, b=b)
np.savez_compressed(os.path.join(out, "deflated.npz"), a=a, b=b)


def png16(path, samples, colour):
    """A 16-bit PNG (gray or RGB) written by hand: Pillow writes no 16-bit colour."""
    height, width = samples.shape[:2]
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in samples)
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 16, 2 if colour else 0, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


rng = np.random.RandomState(0)
cmyk = rng.randint(0, 256, (8, 12, 4)).astype(np.uint8)
Image.fromarray(cmyk, "CMYK").save(os.path.join(out, "cmyk.jpg"), quality=95)
png16(os.path.join(out, "gray16.png"), rng.randint(0, 600, (5, 7)), colour=False)
png16(os.path.join(out, "rgb16.png"), rng.randint(0, 65536, (5, 7, 3)), colour=True)
for name in ["cmyk.jpg", "gray16.png", "rgb16.png"]:
    rgb = np.asarray(Image.open(os.path.join(out, name)).convert("RGB"), dtype=np.float32)
    np.save(os.path.join(out, os.path.splitext(name)[0] + "_rgb.npy"), rgb)
whole = Image.fromarray(rng.randint(0, 256, (64, 64, 3)).astype(np.uint8))
whole.save(os.path.join(out, "whole.jpg"), quality=90)
data = open(os.path.join(out, "whole.jpg"), "rb").read()
os.remove(os.path.join(out, "whole.jpg"))
open(os.path.join(out, "truncated.jpg"), "wb").write(data[: len(data) // 2])
print(sorted(os.listdir(out)))
