import Datasets
import Engine
import Foundation
import Graph
import Pipeline
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
}
