import Datasets
import Engine
import Foundation
import Graph
import Pipeline
import Quantize
import Runner
import XCTest

/// Re-parameterization fusion on the shared MNIST models trained with unfused RepVGG, DBB and
/// NORM-FT structure: node counts as expected.json says, and the fused graph equal to the
/// unfused one within 1e-5 relative on real digits, borders included.
final class FusionTests: XCTestCase {
    private func expected(_ model: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: try Paths.shared("models/fusion/\(model)/expected.json")))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    private func opCounts(_ graph: Graph) -> [String: Int] {
        graph.nodes.reduce(into: [:]) { $0[$1.op.name, default: 0] += 1 }
    }

    /// 64 test digits (t10k 8000…8063, the split the models were not trained on) as one batch.
    private func digits() throws -> Tensor {
        let data = try LabeledData(folder: try Paths.shared("data/mnist"))
        let pixels = try (8000..<8064).flatMap { try data.input($0, preset: .mnist, size: 28, channels: 1) }
        return Tensor(shape: [64, 1, 28, 28], floats: pixels)
    }

    private func outputs(_ graph: Graph, _ input: Tensor) throws -> [Float] {
        try Engine(graph: graph).run([graph.inputs[0].name: input])[graph.outputs[0]]!.floats
    }

    func testFusedModelsMatchExpectedCountsAndUnfusedOutputs() throws {
        let batch = try digits()
        for model in ["repvgg", "dbb", "norm_ft", "extras/dbb_pad_on_1x1"] {
            let path = try Paths.shared("models/fusion/\(model)/model.onnx")
            let unfused = try ModelLoader.load(path: path, simplify: false).graph
            let fused = try ModelLoader.load(path: path)
            XCTAssertEqual(opCounts(unfused), try expected(model)["ops_before"] as! [String: Int], model)
            XCTAssertEqual(opCounts(fused.graph), try expected(model)["ops_after"] as! [String: Int], model)
            XCTAssertTrue(fused.notes.isEmpty, "\(model): \(fused.notes)")
            let error = relativeError(try outputs(fused.graph, batch), try outputs(unfused, batch))
            XCTAssertLessThan(error, 1e-5, model)
        }
    }

    /// Zero padding after a BatchNorm with a non-zero bias cannot be one convolution: the pass
    /// must leave it alone, say so, and keep the model's function.
    func testNegativeCaseIsLeftUnfused() throws {
        let path = try Paths.shared("models/fusion/extras/dbb_zeropad_NEGATIVE/model.onnx")
        let unfused = try ModelLoader.load(path: path, simplify: false).graph
        let simplified = try ModelLoader.load(path: path)
        XCTAssertEqual(opCounts(simplified.graph)["Add"], opCounts(unfused)["Add"])
        XCTAssertEqual(opCounts(simplified.graph)["AveragePool"], 4)
        XCTAssertEqual(simplified.notes.filter { $0.contains("unfused") && $0.contains("non-zero bias") }.count, 4)
        let batch = try digits()
        XCTAssertLessThan(relativeError(try outputs(simplified.graph, batch), try outputs(unfused, batch)), 1e-5)
    }

    /// Graphs without re-parameterized branches come out of the passes with the same ops.
    func testOrdinaryResidualsAreNotTouched() throws {
        for (model, convs, adds) in [("imagenet/efficientnet-lite0-fp32", 49, 9), ("cifar10/resnet20_cifar10", 19, 9)] {
            let graph = try ModelLoader.load(path: try Paths.shared("models/\(model).onnx")).graph
            XCTAssertEqual(opCounts(graph)["Conv"], convs, model)
            XCTAssertEqual(opCounts(graph)["Add"], adds, model)
        }
    }

    /// Top-1 hits of the float graph and of an int8 result on the 2,000 test digits (t10k
    /// 8000…9999); ties go to the lower class, as `compress eval` breaks them.
    private func testHits(_ graph: Graph, _ result: Compression.Result, _ data: LabeledData) throws -> (float: Int, int8: Int) {
        let indices = Array(8000..<10000)
        let pixels = try data.inputs(indices, preset: .mnist, size: 28, channels: 1)
        let float = try outputs(graph, Tensor(shape: [indices.count, 1, 28, 28], floats: pixels))
        let runner = try Runner(bytes: result.wtm)
        let input = result.integer.tensors[result.integer.inputs[0]], output = result.integer.tensors[result.integer.outputs[0]]
        func first(_ row: [Float]) -> Int { row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }! }
        var hits = (float: 0, int8: 0)
        for (i, index) in indices.enumerated() {
            let label = data.samples[index].label
            if first(Array(float[i * 10..<(i + 1) * 10])) == label { hits.float += 1 }
            let scores = output.dequantize(nhwc: try runner.run(input.quantize(nchw: Array(pixels[i * 784..<(i + 1) * 784]))))
            if first(scores) == label { hits.int8 += 1 }
        }
        return hits
    }

    /// The fused RepVGG model quantized to int8 (calibrated on 200 training digits) loses at
    /// most 0.5 pt of top-1 against float on the 2,000 test digits.
    func testInt8OfFusedRepVGGKeepsAccuracy() throws {
        let graph = try ModelLoader.load(path: try Paths.shared("models/fusion/repvgg/model.onnx")).graph
        XCTAssertEqual(opCounts(graph)["Conv"], 4)
        let data = try LabeledData(folder: try Paths.shared("data/mnist"))
        let hits = try testHits(graph, try Compression.quantize(graph, data: data, preset: .mnist, limit: 200, observer: .mse), data)
        XCTAssertEqual(Double(hits.float) / 2000, 0.9895, accuracy: 0.0005, "expected.json's float accuracy")
        XCTAssertLessThanOrEqual(hits.float - hits.int8, 10, "int8 \(hits.int8) against float \(hits.float) of 2,000")
        print("RepVGG MNIST test digits: int8 \(hits.int8), float \(hits.float) of 2,000")
    }

    /// Data-free (ZeroQ): calibrated on inputs distilled from the unfused model's BatchNorm
    /// statistics, no digit seen, the int8 model loses at most 3 pt against float.
    func testZeroQCalibrationWithoutData() throws {
        let path = try Paths.shared("models/fusion/repvgg/model.onnx")
        let graph = try ModelLoader.load(path: path).graph
        let unfused = try ModelLoader.load(path: path, simplify: false).graph
        let result = try Compression.dataFree(graph, source: unfused, targets: try ZeroQ.targets(unfused), observer: .mse)
        let hits = try testHits(graph, result, try LabeledData(folder: try Paths.shared("data/mnist")))
        XCTAssertLessThanOrEqual(hits.float - hits.int8, 60, "ZeroQ int8 \(hits.int8) against float \(hits.float) of 2,000")
        print("RepVGG MNIST test digits, ZeroQ: int8 \(hits.int8), float \(hits.float) of 2,000")
        XCTAssertThrowsError(try ZeroQ.targets(graph)) { error in
            XCTAssert("\(error)".contains("BatchNormalization"), "\(error)")
        }
    }
}
