"""Writes island.onnx: a small MNIST-shaped model whose middle has no int8 kernel, so it runs as
a float island (attention over the conv's 196 positions with a layer norm written out in ops,
a slice and concat of the sequence, a windowed average pool). `make runtime-fuzz` compresses it
and feeds the .wtm's mutations to the C loader under AddressSanitizer, so the float ops' checks
are fuzzed as the integer ones are. The committed file came from this script (onnx 1.23.2).

    python3 Tests/Fixtures/island/make_island_model.py Tests/Fixtures/island/island.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(3)


def weight(name, *shape, scale=0.3):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def main():
    nodes = [
        helper.make_node("Conv", ["x", "w0", "b0"], ["c"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Reshape", ["c", "tokens_shape"], ["r"]),
        helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 1]),
        helper.make_node("Slice", ["t", "zero", "half", "one"], ["first"]),
        helper.make_node("Slice", ["t", "half", "end", "one"], ["second"]),
        helper.make_node("Concat", ["second", "first"], ["swapped"], axis=1),
        helper.make_node("ReduceMean", ["swapped"], ["mean"], axes=[-1]),
        helper.make_node("Sub", ["swapped", "mean"], ["centred"]),
        helper.make_node("Pow", ["centred", "two"], ["squared"]),
        helper.make_node("ReduceMean", ["squared"], ["variance"], axes=[-1]),
        helper.make_node("Add", ["variance", "epsilon"], ["shifted"]),
        helper.make_node("Sqrt", ["shifted"], ["deviation"]),
        helper.make_node("Div", ["centred", "deviation"], ["normal"]),
        helper.make_node("Transpose", ["normal"], ["keys"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["normal", "keys"], ["scores"]),
        helper.make_node("Softmax", ["scores"], ["attention"], axis=-1),
        helper.make_node("MatMul", ["attention", "normal"], ["mixed"]),
        helper.make_node("MatMul", ["mixed", "wp"], ["projected"]),
        helper.make_node("Sigmoid", ["projected"], ["gated"]),
        helper.make_node("Transpose", ["gated"], ["back"], perm=[0, 2, 1]),
        helper.make_node("Reshape", ["back", "plane_shape"], ["plane"]),
        helper.make_node("AveragePool", ["plane"], ["pooled"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["pooled", "w1", "b1"], ["head"], kernel_shape=[1, 1]),
        helper.make_node("GlobalAveragePool", ["head"], ["means"]),
        helper.make_node("Flatten", ["means"], ["y"]),
    ]
    initializers = [
        weight("w0", 8, 1, 3, 3), weight("b0", 8, scale=0.1), ints("tokens_shape", [1, 8, 196]),
        ints("zero", [0]), ints("half", [98]), ints("end", [196]), ints("one", [1]),
        numpy_helper.from_array(np.array(2, dtype=np.float32), "two"),
        numpy_helper.from_array(np.array(1e-5, dtype=np.float32), "epsilon"),
        weight("wp", 8, 4), ints("plane_shape", [1, 4, 14, 14]), weight("w1", 10, 4, 1, 1), weight("b1", 10, scale=0.1),
    ]
    graph = helper.make_graph(nodes, "island", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 28, 28])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="whittle-tests")
    model.ir_version = 8  # what Debian's libonnx reads
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[1])


if __name__ == "__main__":
    main()
