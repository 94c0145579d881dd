"""The C runtime through ctypes: `Model` loads a `.wtm` (the loader validates every offset) and
runs it on float or uint8 inputs."""
import ctypes
import json
from pathlib import Path

import numpy as np

MAX_RANK = 6


class WhittleError(Exception):
    """A .wtm the runtime refuses, or a run that fails; the message is the runtime's."""


def _library():
    found = sorted(Path(__file__).resolve().parent.glob("_runtime*.so"))
    if not found:
        raise WhittleError("the runtime library is missing: install the package with `pip install ./python`")
    lib = ctypes.CDLL(str(found[0]))
    lib.whittle_open.restype = ctypes.c_void_p
    lib.whittle_open.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_int)]
    lib.whittle_close.argtypes = [ctypes.c_void_p]
    lib.whittle_status.restype = ctypes.c_char_p
    lib.whittle_status.argtypes = [ctypes.c_int]
    lib.whittle_version.restype = ctypes.c_char_p
    lib.whittle_tensor.restype = ctypes.c_int
    lib.whittle_tensor.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_uint32 * MAX_RANK),
                                   ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_int32)]
    lib.whittle_run.restype = ctypes.c_int
    lib.whittle_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p]
    lib.whittle_metadata.restype = ctypes.c_void_p
    lib.whittle_metadata.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t)]
    return lib


_lib = _library()


def runtime_version():
    """The C runtime's version, e.g. "whittle-runtime 0.7 (wtm format 7)"."""
    return _lib.whittle_version().decode()


class _Tensor:
    """A model input's or output's uint8 grid: shape as stored (NHWC for 4-D), scale, zero point."""

    def __init__(self, handle, which):
        dims, scale, zero = (ctypes.c_uint32 * MAX_RANK)(), ctypes.c_float(), ctypes.c_int32()
        rank = _lib.whittle_tensor(handle, which, ctypes.byref(dims), ctypes.byref(scale), ctypes.byref(zero))
        self.stored = tuple(dims[:rank])
        self.scale, self.zero_point = scale.value, zero.value

    @property
    def shape(self):
        """The float model's shape: NCHW for 4-D."""
        s = self.stored
        return (s[0], s[3], s[1], s[2]) if len(s) == 4 else s

    def quantize(self, x):
        """Float values in the float layout → uint8 in the stored layout, rounded half to even.
        Example: scale 0.5, zero point 10 maps 3.2 to round(6.4) + 10 = 16."""
        x = np.asarray(x, dtype=np.float32).reshape(self.shape)
        q = np.rint(x / np.float32(self.scale)) + np.float32(self.zero_point)
        q = np.clip(np.nan_to_num(q, nan=0.0), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(q.transpose(0, 2, 3, 1) if q.ndim == 4 else q)

    def dequantize(self, q):
        """uint8 in the stored layout → float32 in the float layout."""
        x = np.float32(self.scale) * (q.astype(np.int32) - self.zero_point).astype(np.float32)
        return x.transpose(0, 3, 1, 2) if x.ndim == 4 else x


class Model:
    """A `.wtm` loaded on the C runtime.

        model = Model("mnist.wtm")
        model.input_shape          # (1, 1, 28, 28), the float model's NCHW shape
        scores = model.run(x)      # float32 in, float32 out (dequantized)
    """

    def __init__(self, path_or_bytes):
        self._handle = None
        data = Path(path_or_bytes).read_bytes() if isinstance(path_or_bytes, (str, Path)) else bytes(path_or_bytes)
        status = ctypes.c_int()
        handle = _lib.whittle_open(data, len(data), ctypes.byref(status))
        if not handle:
            raise WhittleError(f"not a valid .wtm: {_lib.whittle_status(status.value).decode()}")
        self._handle = handle
        self.input = _Tensor(handle, 0)
        self.output = _Tensor(handle, 1)

    def close(self):
        if self._handle:
            _lib.whittle_close(self._handle)
            self._handle = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def input_shape(self):
        return self.input.shape

    @property
    def output_shape(self):
        return self.output.shape

    @property
    def metadata(self):
        """What the file records of its use (preprocessing, labels, source, plan), or {}."""
        size = ctypes.c_size_t()
        pointer = _lib.whittle_metadata(self._handle, ctypes.byref(size))
        return json.loads(ctypes.string_at(pointer, size.value)) if pointer else {}

    def run_quantized(self, q, kernels=None):
        """uint8 input in the stored layout (NHWC for 4-D) → uint8 output, as the runtime computes it.
        `kernels` names a kernel set ("ref", "avx2", …); None: the fastest this CPU runs."""
        q = np.ascontiguousarray(q, dtype=np.uint8)
        if q.shape != self.input.stored:
            raise WhittleError(f"the input has shape {q.shape}; the model takes uint8 {self.input.stored}")
        out = np.empty(self.output.stored, dtype=np.uint8)
        status = _lib.whittle_run(self._handle, q.ctypes.data, out.ctypes.data, kernels.encode() if kernels else None)
        if status != 0:
            raise WhittleError(_lib.whittle_status(status).decode())
        return out

    def run(self, x, kernels=None):
        """float32 input in the float layout (NCHW for 4-D), prepared as the model expects →
        float32 output (dequantized), NCHW for 4-D."""
        x = np.asarray(x, dtype=np.float32)
        if x.size != int(np.prod(self.input.shape)):
            raise WhittleError(f"the input holds {x.size} values; the model takes {self.input.shape}")
        return self.output.dequantize(self.run_quantized(self.input.quantize(x), kernels))
