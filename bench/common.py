"""What the int8 benchmarks share: paths, the three ImageNet models with their preprocessing,
and the reference side (onnx, onnxruntime, numpy, pillow, pip-installed when missing, and
../shared/bench/ort_reference.py for preprocessing and sessions)."""
import json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(ROOT, "..", "shared")
BIN = os.path.join(ROOT, ".build", "release", "compress")
OUT = os.path.join(ROOT, "out", "bench")
MODELS = {
    "lite0": ("imagenet/efficientnet-lite0-fp32.onnx", "tf"),
    "mobilenetv2": ("imagenet/mobilenetv2-12-dequantized-fp32.onnx", "torch"),
    "squeezenet": ("imagenet/squeezenet1.0-opset7-fp32.onnx", "caffe_bgr"),
}

try:
    import numpy, onnx, onnxruntime, PIL  # noqa: F401
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "onnx", "onnxruntime", "numpy", "pillow"], check=True)
sys.path.insert(0, os.path.join(SHARED, "bench"))
import ort_reference  # noqa: E402,F401


def compress_json(args):
    """`compress ARGS --json`, its one JSON object parsed."""
    return json.loads(subprocess.run([BIN] + args + ["--json"], check=True, capture_output=True, text=True).stdout)
