"""Writes the fuzzers' seed models: small ONNX graphs that between them use every op family the
importer translates or folds, each a few kilobytes so libFuzzer mutates them quickly.

    python3 Tests/Fuzz/make_seeds.py Tests/Fuzz/corpus/onnx

`make fuzz-corpus` runs it (with a pinned onnx) and compiles each seed to .wtm files for the
loader's fuzzer. The committed corpus came from here and from the campaigns in Tests/Fuzz/README.md.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)


def weight(name, *shape, scale=0.3):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def floats(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.float32), name)


def model(name, nodes, initializers, input_shape, output_shape, opset=13):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, output_shape)],
        initializers)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="whittle-seeds")
    m.ir_version = 8 if opset <= 17 else 9
    return name, m


def conv_family():
    return model("conv_family", [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("BatchNormalization", ["c1", "g", "beta", "mean", "var"], ["n1"]),
        helper.make_node("Relu", ["n1"], ["r1"]),
        helper.make_node("Conv", ["r1", "dw"], ["d1"], group=8, pads=[1, 1, 1, 1], dilations=[1, 1]),
        helper.make_node("Clip", ["d1", "lo", "hi"], ["k1"]),
        helper.make_node("Conv", ["k1", "pw", "pb"], ["p1"]),
        helper.make_node("Add", ["p1", "r1"], ["a1"]),
        helper.make_node("GlobalAveragePool", ["a1"], ["g1"]),
        helper.make_node("Flatten", ["g1"], ["f1"], axis=1),
        helper.make_node("Gemm", ["f1", "fw", "fb"], ["y"], transB=1),
    ], [weight("w1", 8, 3, 3, 3), weight("b1", 8), floats("g", np.ones(8)), weight("beta", 8),
        weight("mean", 8), floats("var", np.full(8, 0.5)), weight("dw", 8, 1, 3, 3), floats("lo", [0.0]),
        floats("hi", [6.0]), weight("pw", 8, 8, 1, 1), weight("pb", 8), weight("fw", 5, 8), weight("fb", 5)],
        [1, 3, 8, 8], [1, 5])


def pooling_and_activations():
    return model("pooling_and_activations", [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[0, 0, 1, 1]),
        helper.make_node("HardSwish", ["c"], ["h"]),
        helper.make_node("MaxPool", ["h"], ["m"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Sigmoid", ["m"], ["s"]),
        helper.make_node("Mul", ["m", "s"], ["ms"]),
        helper.make_node("AveragePool", ["ms"], ["ap"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1],
                         count_include_pad=0),
        helper.make_node("HardSigmoid", ["ap"], ["hs"], alpha=0.2, beta=0.5),
        helper.make_node("Tanh", ["hs"], ["t"]),
        helper.make_node("ReduceMean", ["t"], ["y"], axes=[2, 3], keepdims=1),
    ], [weight("w", 6, 3, 2, 2)], [1, 3, 8, 8], [1, 6, 1, 1], opset=14)


def data_movement():
    return model("data_movement", [
        helper.make_node("Conv", ["x", "w"], ["c"]),
        helper.make_node("Slice", ["c", "starts", "ends", "axes", "steps"], ["sl"]),
        helper.make_node("Pad", ["sl", "pads"], ["pd"], mode="constant"),
        helper.make_node("Concat", ["pd", "c"], ["cat"], axis=1),
        helper.make_node("Resize", ["cat", "", "scales"], ["rs"], mode="nearest"),
        helper.make_node("Transpose", ["rs"], ["tr"], perm=[0, 1, 3, 2]),
        helper.make_node("Reshape", ["tr", "shape"], ["y"]),
    ], [weight("w", 4, 3, 1, 1), ints("starts", [0, 1]), ints("ends", [4, 7]), ints("axes", [2, 3]),
        ints("steps", [2, 2]), ints("pads", [0, 0, 3, 2, 0, 0, 3, 3]), floats("scales", [1, 1, 2, 2]),
        ints("shape", [1, 8, -1])],
        [1, 3, 8, 8], [1, 8, 256])


def transposed_and_matmul():
    return model("transposed_and_matmul", [
        helper.make_node("ConvTranspose", ["x", "w", "b"], ["ct"], strides=[2, 2], pads=[1, 1, 1, 1],
                         output_padding=[1, 1]),
        helper.make_node("Relu", ["ct"], ["r"]),
        helper.make_node("Flatten", ["r"], ["f"]),
        helper.make_node("MatMul", ["f", "m"], ["mm"]),
        helper.make_node("Sub", ["mm", "bias"], ["y"]),
    ], [weight("w", 3, 4, 3, 3), weight("b", 4), weight("m", 4 * 8 * 8, 7, scale=0.05), weight("bias", 7)],
        [1, 3, 4, 4], [1, 7])


def shape_subgraph():
    """A shape computed in the graph (Shape, Gather, Unsqueeze, Concat), folded at import."""
    return model("shape_subgraph", [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Shape", ["c"], ["shape"]),
        helper.make_node("Gather", ["shape", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus_one"], ["target"], axis=0),
        helper.make_node("Reshape", ["c", "target"], ["flat"]),
        helper.make_node("Div", ["flat", "two"], ["half"]),
        helper.make_node("Pow", ["half", "two"], ["sq"]),
        helper.make_node("Sqrt", ["sq"], ["y"]),
    ], [weight("w", 2, 3, 3, 3), numpy_helper.from_array(np.array(0, dtype=np.int64), "zero"),
        ints("axes0", [0]), ints("minus_one", [-1]), floats("two", [2.0])],
        [1, 3, 5, 5], [1, 50])


def quantized():
    """A QDQ model and a QLinearConv, as ONNX Runtime's quantizer writes them."""
    scale = lambda name, v: floats(name, v) if isinstance(v, list) else numpy_helper.from_array(np.array(v, np.float32), name)
    zp = lambda name, v, dtype: numpy_helper.from_array(np.array(v, dtype=dtype), name)
    w = rng.integers(-127, 128, size=(4, 3, 3, 3)).astype(np.int8)
    return model("quantized", [
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
        helper.make_node("QLinearConv", ["xq", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], ["yq"], pads=[1, 1, 1, 1]),
        helper.make_node("DequantizeLinear", ["yq", "ys", "yz"], ["yd"]),
        helper.make_node("QuantizeLinear", ["yd", "ys", "yz"], ["yq2"]),
        helper.make_node("DequantizeLinear", ["yq2", "ys", "yz"], ["y"]),
    ], [scale("xs", 0.02), zp("xz", 128, np.uint8), numpy_helper.from_array(w, "w"), scale("ws", [0.01] * 4),
        zp("wz", [0] * 4, np.int8), scale("ys", 0.05), zp("yz", 128, np.uint8),
        numpy_helper.from_array(rng.integers(-50, 50, size=4).astype(np.int32), "b")],
        [1, 3, 6, 6], [1, 4, 6, 6])


def opset18_pad_and_resize():
    return model("opset18_pad_and_resize", [
        helper.make_node("Conv", ["x", "w"], ["c"]),
        helper.make_node("Pad", ["c", "pads", "", "axes"], ["p"], mode="reflect"),
        helper.make_node("Resize", ["p", "", "", "sizes"], ["r"], mode="nearest",
                         coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
        helper.make_node("Erf", ["r"], ["e"]),
        helper.make_node("Exp", ["e"], ["y"]),
    ], [weight("w", 2, 3, 1, 1), ints("pads", [1, 2, 1, 2]), ints("axes", [2, 3]), ints("sizes", [1, 2, 9, 11])],
        [1, 3, 4, 4], [1, 2, 9, 11], opset=18)


def runtime_ops():
    """Every op kind of the .wtm runtime, for the loader's seeds."""
    return model("runtime_ops", [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("HardSwish", ["c"], ["h"]),
        helper.make_node("Sigmoid", ["h"], ["s"]),
        helper.make_node("Mul", ["h", "s"], ["m"]),
        helper.make_node("MaxPool", ["m"], ["mp"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Slice", ["mp", "starts", "ends", "axes"], ["sl"]),
        helper.make_node("Pad", ["sl", "pads"], ["pd"], mode="constant"),
        helper.make_node("Concat", ["pd", "mp"], ["cat"], axis=1),
        helper.make_node("Resize", ["cat", "", "scales"], ["rs"], mode="nearest"),
        helper.make_node("ConvTranspose", ["rs", "tw"], ["ct"], strides=[2, 2]),
        helper.make_node("Relu", ["ct"], ["ctr"]),
        helper.make_node("Add", ["ct", "ctr"], ["a"]),
        helper.make_node("GlobalAveragePool", ["a"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "fw"], ["y"], transB=1),
    ], [weight("w", 4, 3, 3, 3), ints("starts", [1]), ints("ends", [3]), ints("axes", [2]),
        ints("pads", [0, 0, 1, 0, 0, 0, 1, 0]), floats("scales", [1, 1, 2, 2]), weight("tw", 8, 2, 2, 2), weight("fw", 3, 2)],
        [1, 3, 8, 8], [1, 3], opset=14)


def opset9_upgrade():
    """An old opset the importer upgrades with libonnx."""
    return model("opset9_upgrade", [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["m"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["m"], ["f"]),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], transB=1),
    ], [weight("w", 4, 3, 3, 3), weight("b", 4), weight("fw", 3, 4 * 3 * 3), weight("fb", 3)],
        [1, 3, 6, 6], [1, 3], opset=9)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for build in [conv_family, pooling_and_activations, data_movement, transposed_and_matmul, shape_subgraph,
                  quantized, opset18_pad_and_resize, runtime_ops, opset9_upgrade]:
        name, m = build()
        onnx.checker.check_model(m)
        onnx.save(m, os.path.join(out, name + ".onnx"))
        print(name)


if __name__ == "__main__":
    main()
