"""Whittle from Python: run a compressed `.wtm` model on the C runtime, and compress models
with the `compress` command line.

    import whittle
    summary = whittle.compress("model.onnx", "model.wtm", data="photos/", prep="tf")
    model = whittle.Model("model.wtm")
    scores = model.run(x)        # x: float32 NCHW, prepared as the model expects

numpy is the only dependency.
"""
from .cli import CompressError, compress
from .runtime import Model, WhittleError, runtime_version

__all__ = ["Model", "WhittleError", "CompressError", "compress", "runtime_version"]
