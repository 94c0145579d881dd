#!/usr/bin/env python3
"""Makes the data fixtures in datasets/: images preprocessed by ../shared/bench/ort_reference.py's
own `preprocess` (Pillow), and small .npz archives (stored and deflated).

    pip install onnxruntime numpy pillow && python3 make_datasets.py
"""
import importlib.util, os
import numpy as np

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
print(sorted(os.listdir(out)))
