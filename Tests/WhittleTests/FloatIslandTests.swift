import Engine
import Export
import Graph
import Pipeline
@testable import Quantize
import Runner
import XCTest

/// Float islands: ops without an integer kernel run in float32 inside the `.wtm` (dequantize →
/// float op → quantize), bit for bit as QuantSim runs them, and near the float graph.
final class FloatIslandTests: XCTestCase {
    /// Floats from a fixed sequence in [−1, 1).
    private func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float(($0 * 7_919 + seed * 104_729) % 2_001) / 1_000.5 - 1 }
    }

    /// A conv, then attention over its 64 positions with a layer norm written out in ops (none of
    /// them has an integer kernel in these shapes), a windowed average pool, and a conv again.
    private func network() -> Graph {
        var initializers: [String: Tensor] = [:]
        func constant(_ name: String, _ shape: [Int], _ fill: [Float]? = nil) -> String {
            initializers[name] = Tensor(shape: shape, floats: fill ?? values(shape.reduce(1, *), seed: initializers.count + 1))
            return name
        }
        let conv = { (k: Int) in Op.conv(ConvAttributes(kernel: [k, k], strides: [1, 1], pads: [k / 2, k / 2, k / 2, k / 2], dilations: [1, 1], group: 1)) }
        let nodes = [
            Node(name: "stem", op: conv(3), inputs: ["x", constant("w0", [8, 3, 3, 3]), constant("b0", [8])], outputs: ["c"]),
            Node(name: "tokens", op: .reshape(shape: [0, 8, 64]), inputs: ["c"], outputs: ["r"]),
            Node(name: "turn", op: .transpose(perm: [0, 2, 1]), inputs: ["r"], outputs: ["t"]),
            Node(name: "mean", op: .reduceMean(axes: [2], keepDims: true), inputs: ["t"], outputs: ["m"]),
            Node(name: "centre", op: .sub, inputs: ["t", "m"], outputs: ["d"]),
            Node(name: "square", op: .pow, inputs: ["d", constant("two", [], [2])], outputs: ["p"]),
            Node(name: "variance", op: .reduceMean(axes: [2], keepDims: true), inputs: ["p"], outputs: ["v"]),
            Node(name: "epsilon", op: .add, inputs: ["v", constant("eps", [], [1e-5])], outputs: ["ve"]),
            Node(name: "deviation", op: .sqrt, inputs: ["ve"], outputs: ["s"]),
            Node(name: "normalize", op: .div, inputs: ["d", "s"], outputs: ["n"]),
            Node(name: "keys", op: .transpose(perm: [0, 2, 1]), inputs: ["n"], outputs: ["k"]),
            Node(name: "scores", op: .matMul, inputs: ["n", "k"], outputs: ["a"]),
            Node(name: "attention", op: .softmax(axis: 2), inputs: ["a"], outputs: ["sm"]),
            Node(name: "mix", op: .matMul, inputs: ["sm", "n"], outputs: ["o"]),
            Node(name: "project", op: .matMul, inputs: ["o", constant("wp", [8, 4])], outputs: ["f"]),
            Node(name: "back", op: .transpose(perm: [0, 2, 1]), inputs: ["f"], outputs: ["g"]),
            Node(name: "plane", op: .reshape(shape: [0, 4, 8, 8]), inputs: ["g"], outputs: ["h"]),
            Node(name: "pool", op: .averagePool(PoolAttributes(kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: false),
                                                countIncludePad: false), inputs: ["h"], outputs: ["ap"]),
            Node(name: "head", op: conv(1), inputs: ["ap", constant("w1", [5, 4, 1, 1]), constant("b1", [5])], outputs: ["y"]),
        ]
        return Graph(name: "island", inputs: [ValueInfo(name: "x", shape: [1, 3, 8, 8])], outputs: ["y"], nodes: nodes,
                     initializers: initializers)
    }

    func testFloatIslandRunsBitExactAndNearFloat() throws {
        let graph = network()
        let steps = try QuantPlan(graph)
        XCTAssertEqual(steps.floatNodes.map(\.name), ["tokens", "turn", "mean", "centre", "square", "variance", "epsilon", "deviation",
                                                      "normalize", "keys", "scores", "attention", "mix", "back", "plane", "pool"])
        XCTAssertEqual(steps.floatNodes.first?.reason, "a reshape that reorders NHWC data has no int8 kernel")
        XCTAssertEqual(steps.floatNodes.last?.reason, "its input is float")

        let batch = Tensor(shape: [8, 3, 8, 8], floats: values(8 * 192, seed: 5))
        let calibrated = try Compression.calibrate(graph, batches: [batch], plan: Plan(layers: []), observer: .minMax)
        let model = try calibrated.lower(Plan(layers: [])).integer
        XCTAssertEqual(model.ops.map(\.kindName).filter { $0 == "Dequantize" || $0 == "Quantize" }, ["Dequantize", "Quantize", "Dequantize", "Quantize"],
                       "two islands: the projection by a constant, [1, 64, 8] · [8, 4], runs in int8 between them")
        XCTAssertTrue(model.ops.contains { $0.name == "project" && $0.kindName == "FullyConnected" })
        let bytes = try WTM.write(model)
        XCTAssertEqual(try WTM.read(bytes).ops.map(\.kind), model.ops.map(\.kind), "the records read back as written")

        let input = model.tensors[model.inputs[0]]
        let runner = try Runner(bytes: bytes)
        let float = try Engine(graph: graph).run(["x": Tensor(shape: [1, 3, 8, 8], floats: values(192, seed: 11))])["y"]!
        let x = input.quantize(nchw: values(192, seed: 11))
        let simulated = QuantSim(model).run(x)
        try runner.setInput(x)
        for (i, op) in model.ops.enumerated() {
            try runner.invoke(ops: i..<i + 1)
            XCTAssertEqual(runner.output(ofOp: i), simulated[op.output], "op \(op.name) (\(op.kindName)) against QuantSim")
        }
        let y = model.tensors[model.outputs[0]].realValues(simulated[model.outputs[0]])
        let error = zip(y, float.floats).map { abs($0 - $1) }.max()!, top = float.floats.map(abs).max()!
        XCTAssertLessThan(error, 0.05 * top, "the quantized output against float")
    }

    /// An op with neither an integer nor a float kernel is refused by name.
    func testAnOpWithoutAnyKernelIsNamed() throws {
        let graph = Graph(name: "edge", inputs: [ValueInfo(name: "x", shape: [1, 3, 8, 8])], outputs: ["y"],
                          nodes: [Node(name: "mirror", op: .pad(pads: [0, 0, 1, 1, 0, 0, 1, 1], value: 0, mode: .reflect), inputs: ["x"], outputs: ["y"])],
                          initializers: [:])
        XCTAssertThrowsError(try QuantPlan(graph)) { error in
            XCTAssertEqual("\(error)", "node 'mirror' (Pad): int8 pads with a constant, by non-negative amounts, tensors of rank 4 at most, "
                + "and the runtime has no float kernel for it either")
        }
    }

    /// The main job on a model with a float island (Tests/Fixtures/island, MNIST-shaped): the
    /// summary lists the island, the runtime equals QuantSim on every kernel set this CPU runs, and
    /// the answers are float's.
    func testMainJobWritesAFloatIslandThatVerifies() throws {
        let data = try Paths.shared("data/mnist"), model = Paths.root.appendingPathComponent("Tests/Fixtures/island/island.onnx").path
        let wtm = FileManager.default.temporaryDirectory.appendingPathComponent("whittle-\(getpid())-island.wtm").path
        defer { try? FileManager.default.removeItem(atPath: wtm) }
        let result = try runCompress([model, "--data", data, "--prep", "mnist", "--calibration-count", "20", "-o", wtm, "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        // Progress on a stderr that is no terminal: plain lines, no carriage returns.
        XCTAssertTrue(result.stderr.contains("calibrating 2/2 batches"), result.stderr)
        XCTAssertFalse(result.stderr.contains("\r"), result.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
        XCTAssertEqual((summary["float_ops"] as? [Any])?.count, 19)
        XCTAssertGreaterThanOrEqual(summary["top1_agreement"] as? Double ?? 0, 0.9)
        // eval, as verify below, takes the preset the .wtm records; an .onnx model needs --prep.
        let evaluated = try runCompress(["eval", wtm, "--data", data, "--count", "20", "--json"])
        XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
        let onnx = try runCompress(["eval", model, "--data", data, "--count", "20"])
        XCTAssertNotEqual(onnx.status, 0)
        XCTAssertTrue(onnx.stderr.contains("give --prep"), onnx.stderr)
        for kernels in ["ref", "avx2", "avxvnni", "avx512vnni"] {
            // No --prep: verify takes the preset the .wtm records, as run does.
            let verified = try runCompress(["verify", wtm, "--data", data, "--count", "3", "--kernels", kernels, "--json"])
            if verified.stderr.contains("cannot run") { continue }
            XCTAssertEqual(verified.status, 0, verified.stderr)
            let mismatches = (try JSONSerialization.jsonObject(with: Data(verified.stdout.utf8)) as? [String: Any])?["mismatches"] as? Int
            XCTAssertEqual(mismatches, 0, kernels)
        }
    }
}
