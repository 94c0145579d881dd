import Datasets
import Export
import Foundation
import Graph
import ONNXProto
import XCTest

/// Bad input gets a clear message and a non-zero exit from the command line, never a crash.
final class BadInputTests: ScratchDirectoryTestCase {
    private func write(_ data: Data, _ name: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    /// A one-node model: x [1, 1, 4, 4] → op → y, with optional initializers.
    private func tinyModel(op: String, inputs: [String] = ["x"], initializers: [Onnx_TensorProto] = []) throws -> Data {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 13
        model.opsetImport = [opset]
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = "the_node"
        node.input = inputs
        node.output = ["y"]
        var input = Onnx_ValueInfoProto()
        input.name = "x"
        input.type.tensorType.elemType = 1
        input.type.tensorType.shape.dim = [Int64(1), 1, 4, 4].map { value in
            var dim = Onnx_TensorShapeProto.Dimension()
            dim.dimValue = value
            return dim
        }
        var output = Onnx_ValueInfoProto()
        output.name = "y"
        model.graph.node = [node]
        model.graph.input = [input]
        model.graph.output = [output]
        model.graph.initializer = initializers
        return try model.serializedData()
    }

    private func expectFailure(_ arguments: [String], mentioning words: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try runCompress(arguments)
        XCTAssertNotEqual(result.status, 0, "exit status of \(arguments)", file: file, line: line)
        XCTAssertFalse(result.stderr.contains("Fatal error") || result.stderr.contains("crashed"), result.stderr, file: file, line: line)
        for word in words {
            XCTAssertTrue(result.stderr.contains(word), "'\(word)' missing from: \(result.stderr)", file: file, line: line)
        }
    }

    func testTruncatedModel() throws {
        let whole = try Data(contentsOf: Paths.root.appendingPathComponent("models/efficientnet-lite0-fp32.onnx"))
        let path = try write(whole.prefix(whole.count / 2), "truncated.onnx")
        try expectFailure(["inspect", path], mentioning: ["truncated.onnx", "not a valid ONNX model"])
    }

    func testRandomBytes() throws {
        var random = SeededRandom(seed: 7)
        let bytes = Data((0..<4096).map { _ in UInt8(truncatingIfNeeded: Int((random.next() + 1) * 128)) })
        try expectFailure(["inspect", try write(bytes, "noise.onnx")], mentioning: ["noise.onnx", "not a valid ONNX model"])
    }

    func testUnknownOpIsNamed() throws {
        let path = try write(try tinyModel(op: "FancyOp"), "fancy.onnx")
        try expectFailure(["inspect", path], mentioning: ["unsupported op FancyOp", "the_node", "fancy.onnx"])
    }

    func testMissingInitializer() throws {
        let path = try write(try tinyModel(op: "Conv", inputs: ["x", "conv_weight"]), "missing.onnx")
        try expectFailure(["inspect", path], mentioning: ["conv_weight", "missing.onnx"])
    }

    func testTruncatedInitializerData() throws {
        var weight = Onnx_TensorProto()
        weight.name = "w"
        weight.dataType = 1
        weight.dims = [1, 1, 3, 3]
        weight.rawData = Data(count: 20)
        let path = try write(try tinyModel(op: "Conv", inputs: ["x", "w"], initializers: [weight]), "short.onnx")
        try expectFailure(["inspect", path], mentioning: ["'w'", "has 5 elements", "need 9"])
    }

    func testWrongInputShape() throws {
        let model = Paths.root.appendingPathComponent("models/efficientnet-lite0-fp32.onnx").path
        let input = try write(Npy.encode(Tensor(shape: [1, 3, 100, 100], floats: Array(repeating: 0, count: 30_000))), "small.npy")
        try expectFailure(["run", model, "--input", input], mentioning: ["[1, 3, 100, 100]", "[1, 3, 224, 224]"])
        try expectFailure(["inspect", model, "--input-shape", "1x3x224"], mentioning: ["does not fit"])
    }

    /// A 10-class model scored against ImageNet labels: a clear error, not an index out of range.
    func testLabelsOutsideTheModelsClasses() throws {
        let model = try Paths.shared("models/fusion/repvgg/model.onnx")
        try expectFailure(["eval", model, "--data", try Paths.shared("data/imagenet-eval"), "--prep", "mnist", "--count", "32"],
                          mentioning: ["outside the model's 10 classes"])
    }

    func testEvalOfNoImages() throws {
        let model = Paths.root.appendingPathComponent("models/efficientnet-lite0-fp32.onnx").path
        try expectFailure(["eval", model, "--data", try Paths.shared("data/imagenet-eval"), "--prep", "tf", "--count", "0"],
                          mentioning: ["--count must be at least 1"])
    }

    func testMissingFiles() throws {
        try expectFailure(["inspect", directory.appendingPathComponent("absent.onnx").path], mentioning: ["absent.onnx"])
        let model = Paths.root.appendingPathComponent("models/efficientnet-lite0-fp32.onnx").path
        try expectFailure(["eval", model, "--data", directory.appendingPathComponent("nowhere").path, "--prep", "tf"],
                          mentioning: ["nowhere"])
        try expectFailure(["run", model, "--input", try write(Data("not an image".utf8), "fake.jpg")], mentioning: ["fake.jpg"])
        try expectFailure(["run", model, "--input", try write(Data([0x93, 0x4E]), "broken.npy")], mentioning: ["broken.npy"])
    }

    /// An output that names an input, by any path, or another output is refused before any work,
    /// the input left as it was and nothing written.
    func testOutputsNeverOverwriteInputsOrEachOther() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx")))
        let model = try write(original, "m.onnx")
        try FileManager.default.createSymbolicLink(atPath: directory.appendingPathComponent("link.onnx").path, withDestinationPath: model)
        let data = ["--data", try Paths.shared("data/mnist"), "--prep", "mnist"]
        let wtm = directory.appendingPathComponent("m.wtm").path
        try expectFailure([model] + data + ["-o", model], mentioning: ["-o would overwrite the input", "m.onnx"])
        try expectFailure([model] + data + ["-o", directory.appendingPathComponent("link.onnx").path], mentioning: ["-o would overwrite the input"])
        try expectFailure([model] + data + ["-o", wtm, "--emit-onnx", model], mentioning: ["--emit-onnx would overwrite the input"])
        try expectFailure([model] + data + ["-o", wtm, "--report", wtm], mentioning: ["--report and -o both name"])
        try expectFailure(["run", model, "--input", model, "--output", model], mentioning: ["--output would overwrite the input"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: model)), original)
        XCTAssertFalse(FileManager.default.fileExists(atPath: wtm))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(), ["link.onnx", "m.onnx"], "no temporary file left")
    }

    /// A valid `.wtm` whose input is no image: verify and run say so instead of trapping.
    func testCommandsThatFeedImagesRefuseOtherInputs() throws {
        let tensors = (0..<2).map { IntegerTensor(name: "t\($0)", shape: [1, 100], scale: 1, zeroPoint: 0) }
        let model = IntegerModel(tensors: tensors, ops: [IntegerOp(name: "a", kind: .lookup([UInt8](0...255)), inputs: [0], output: 1)],
                                 inputs: [0], outputs: [1])
        let wtm = try write(Data(try WTM.write(model)), "vector.wtm")
        let mnist = try Paths.shared("data/mnist")
        try expectFailure(["verify", wtm, "--data", mnist, "--prep", "mnist", "--count", "2"], mentioning: ["not an NCHW image"])
        try expectFailure(["eval", wtm, "--data", mnist, "--prep", "mnist", "--count", "2"], mentioning: ["NCHW image"])
    }
}
