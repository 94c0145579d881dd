import Datasets
import Foundation
import Graph
import ONNXProto
import XCTest

/// Crafted models of the kinds that once trapped the importer or ran as nonsense: each gets a
/// clear error naming what is wrong, a non-zero exit, and no output file, from `inspect` and from
/// the main job alike.
final class CraftedModelTests: ScratchDirectoryTestCase {
    func testMalformedModelsGetClearErrors() throws {
        let huge: Int64 = 1 << 62
        let weight = floats("w", [4, 3, 3, 3])
        let cases: [(name: String, model: Data, words: [String])] = [
            ("no-outputs", try model([node("Relu", ["x"], ["y"])], outputs: []), ["the graph has no outputs"]),
            ("node-without-output", try model([node("Relu", ["x"], []), node("Relu", ["x"], ["y"])]), ["Relu with no output"]),
            ("dequantize-without-output", try model([node("DequantizeLinear", ["x", "s"], []), node("Relu", ["x"], ["y"])],
                                                    initializers: [floats("s", [], 0.5)]), ["DequantizeLinear with no output"]),
            ("negative-constant-of-shape", try model([node("ConstantOfShape", ["s"], ["c"]), node("Add", ["x", "c"], ["y"])],
                                                     initializers: [int64s("s", [1, 3, -8, 8])]), ["ConstantOfShape", "negative dimension"]),
            ("huge-constant-of-shape", try model([node("ConstantOfShape", ["s"], ["c"]), node("Add", ["x", "c"], ["y"])],
                                                 initializers: [int64s("s", [1, 3, 1 << 40, 1 << 40])]), ["more than 2^30 elements"]),
            ("endless-range", try model([node("Range", ["a", "b", "d"], ["r"]), node("Add", ["x", "r"], ["y"])],
                                        initializers: [floats("a", [], 0), floats("b", [], .infinity), floats("d", [], 1)]), ["Range", "finite"]),
            ("repeated-unsqueeze-axes", try model([node("Unsqueeze", ["x", "axes"], ["y"])], initializers: [int64s("axes", [0, 0])]), ["repeated"]),
            ("flatten-axis", try model([node("Flatten", ["x"], ["y"], [int("axis", 99)])]), ["axis 99"]),
            ("huge-pads", try model([node("Conv", ["x", "w"], ["y"], [ints("pads", [huge, 0, 0, 0])])], initializers: [weight]), ["pads", "0…65536"]),
            ("huge-strides", try model([node("Conv", ["x", "w"], ["y"], [ints("strides", [huge, 1])])], initializers: [weight]), ["1…65536"]),
            ("huge-dilations", try model([node("Conv", ["x", "w"], ["y"], [ints("dilations", [huge, 1])])], initializers: [weight]), ["1…65536"]),
            ("short-bias", try model([node("Conv", ["x", "w", "b"], ["y"])], initializers: [weight, floats("b", [1])]), ["bias [1]", "4 output channels"]),
            ("kernel-unlike-weight", try model([node("Conv", ["x", "w"], ["y"], [ints("kernel_shape", [5, 5])])], initializers: [weight]),
             ["kernel_shape [5, 5]", "[3, 3]"]),
            ("pool-pads-past-kernel", try model([node("MaxPool", ["x"], ["y"], [ints("kernel_shape", [2, 2]), ints("pads", [3, 3, 3, 3])])]),
             ["smaller than the kernel"]),
            ("short-batchnorm-scale", try model([node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"])],
                                                initializers: [floats("s", [1]), floats("b", [3]), floats("m", [3]), floats("v", [3])]),
             ["scale [1]", "3 channels"]),
            ("nan-weights", try model([node("Conv", ["x", "w"], ["y"])], initializers: [floats("w", [4, 3, 3, 3], .nan)]), ["'w'", "NaN or infinite"]),
            ("negative-variance", try model([node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"])],
                                            initializers: [floats("s", [3]), floats("b", [3]), floats("m", [3]), floats("v", [3], -1)]),
             ["negative values"]),
            ("nan-resize", try model([node("Resize", ["x", "", "scales"], ["y"])], initializers: [floats("scales", [4], .nan)]), ["finite"]),
            ("pad-by-int64-min", try model([node("Pad", ["x", "p"], ["y"])], initializers: [int64s("p", [0, 0, Int64.min, 0, 0, 0, 0, 0])]),
             ["pads"]),
            ("reshape-overflow", try model([node("Reshape", ["x", "s"], ["y"])], initializers: [int64s("s", [1 << 40, 1 << 40, -1])]),
             ["more than 2^30 elements"]),
            ("resize-of-channels", try model([node("Resize", ["x", "", "scales"], ["y"])], initializers: [floats("scales", [4], 2)]),
             ["only height and width"]),
            ("zero-resize", try model([node("Resize", ["x", "", "scales"], ["y"])], initializers: [floats("scales", [4], 0)]), ["positive"]),
            ("pads-unlike-axes", try model([node("Pad", ["x", "p", "", "axes"], ["y"])], initializers: [int64s("p", [1, 1, 1, 1, 1, 1]), int64s("axes", [2, 3])],
                                           opset: 18), ["two per axis"]),
            ("huge-input", try model([node("Relu", ["x"], ["y"])], input: [1, 3, 100_000, 100_000]), ["more than 2^30 elements"]),
            ("integer-input", try model([node("Relu", ["x"], ["y"])], inputType: 7), ["int64", "floating point"]),
            ("reflect-past-the-edge", try model([node("Pad", ["x", "p"], ["y"], [string("mode", "reflect")])],
                                                initializers: [int64s("p", [0, 0, 8, 0, 0, 0, 0, 0])]), ["reflect pads", "smaller than the dimension"]),
            ("transposed-to-nothing", try model([node("ConvTranspose", ["x", "w"], ["y"], [ints("pads", [9, 9, 9, 9])])],
                                                initializers: [floats("w", [3, 4, 3, 3])]), ["negative dimension"]),
        ]
        for (name, bytes, words) in cases {
            let path = directory.appendingPathComponent(name + ".onnx").path
            try bytes.write(to: URL(fileURLWithPath: path))
            let output = directory.appendingPathComponent(name + ".wtm").path
            for arguments in [["inspect", path], [path, "--data", try Paths.shared("data/mnist"), "--prep", "mnist", "-o", output]] {
                let result = try runCompress(arguments)
                XCTAssertEqual(result.status, 1, "\(name): \(arguments[0]) exit status; \(result.stderr)")
                XCTAssertFalse(result.stderr.contains("crashed") || result.stderr.contains("Fatal error"), "\(name): \(result.stderr)")
                for word in words + [name + ".onnx"] { XCTAssertTrue(result.stderr.contains(word), "\(name): '\(word)' missing from \(result.stderr)") }
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: output), "\(name): an output was written")
        }
    }

    /// Clip with min above max gives max everywhere, as the ONNX spec says.
    func testClipWithCrossedBoundsGivesMax() throws {
        let clip = directory.appendingPathComponent("clip.onnx").path, input = directory.appendingPathComponent("x.npy").path
        try model([node("Clip", ["x", "low", "high"], ["y"])], initializers: [floats("low", [], 5), floats("high", [], 1)]).write(to: URL(fileURLWithPath: clip))
        try Npy.write(Tensor(shape: [1, 3, 8, 8], floats: (0..<192).map { Float($0) / 10 - 5 }), path: input)
        let output = directory.appendingPathComponent("y.npy").path
        let result = try runCompress(["run", clip, "--input", input, "--output", output])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(Set(try Npy.read(path: output).floats), [1])
    }

    /// Finite weights whose products overflow float32: refused at calibration, naming the value,
    /// before a .wtm with infinite scales is written.
    func testOverflowingActivationsAreRefused() throws {
        let path = directory.appendingPathComponent("overflow.onnx").path, output = directory.appendingPathComponent("overflow.wtm").path
        try model([node("Conv", ["x", "w1"], ["c"]), node("Conv", ["c", "w2"], ["y"])],
                  initializers: [floats("w1", [4, 3, 1, 1], 1e30), floats("w2", [4, 4, 1, 1], 1e30)]).write(to: URL(fileURLWithPath: path))
        let result = try runCompress([path, "--data", try Paths.shared("data/imagenet-train"), "--prep", "torch", "--calibration-count", "4",
                                      "-o", output, "--json"])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("overflows float32"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    func testImpossibleArgumentsGetClearErrors() throws {
        let model = Paths.root.appendingPathComponent("models/efficientnet-lite0-fp32.onnx").path
        let result = try runCompress([model, "--budget", "1e30MFLOPs", "-o", directory.appendingPathComponent("x.wtm").path])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("more than any model holds"), result.stderr)
    }

    // MARK: - A small ONNX builder: one input x (float, [1, 3, 8, 8] unless told), outputs by name.

    private func model(_ nodes: [Onnx_NodeProto], input: [Int64] = [1, 3, 8, 8], inputType: Int32 = 1, outputs: [String] = ["y"],
                       initializers: [Onnx_TensorProto] = [], opset: Int64 = 13) throws -> Data {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        var version = Onnx_OperatorSetIdProto()
        version.version = opset
        model.opsetImport = [version]
        var x = Onnx_ValueInfoProto()
        x.name = "x"
        x.type.tensorType.elemType = inputType
        x.type.tensorType.shape.dim = input.map { value in
            var dim = Onnx_TensorShapeProto.Dimension()
            dim.dimValue = value
            return dim
        }
        model.graph.input = [x]
        model.graph.output = outputs.map { name in
            var value = Onnx_ValueInfoProto()
            value.name = name
            return value
        }
        model.graph.node = nodes
        model.graph.initializer = initializers
        return try model.serializedData()
    }

    private func node(_ op: String, _ inputs: [String], _ outputs: [String], _ attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        (node.opType, node.input, node.output, node.attribute) = (op, inputs, outputs, attributes)
        return node
    }

    private func int(_ name: String, _ value: Int64) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        (attribute.name, attribute.type, attribute.i) = (name, .int, value)
        return attribute
    }

    private func string(_ name: String, _ value: String) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        (attribute.name, attribute.type, attribute.s) = (name, .string, Data(value.utf8))
        return attribute
    }

    private func ints(_ name: String, _ values: [Int64]) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        (attribute.name, attribute.type, attribute.ints) = (name, .ints, values)
        return attribute
    }

    /// A float initializer of `shape`, every element `value`.
    private func floats(_ name: String, _ shape: [Int64], _ value: Float = 1) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        (tensor.name, tensor.dataType, tensor.dims) = (name, 1, shape)
        tensor.floatData = Array(repeating: value, count: Int(shape.reduce(1, *)))
        return tensor
    }

    private func int64s(_ name: String, _ values: [Int64]) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        (tensor.name, tensor.dataType, tensor.dims, tensor.int64Data) = (name, 7, [Int64(values.count)], values)
        return tensor
    }
}
