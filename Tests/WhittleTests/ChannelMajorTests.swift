@testable import Engine
import Graph
import XCTest

/// The [C, H, W, N] tail of a batch against the same images run one at a time.
final class ChannelMajorTests: XCTestCase {
    /// Floats from a fixed sequence in [−1, 1).
    private func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float(($0 * 7_919 + seed * 104_729) % 2_001) / 1_000.5 - 1 }
    }

    private func conv(_ kernel: Int, stride: Int = 1, group: Int = 1) -> Op {
        let pad = kernel / 2
        return .conv(ConvAttributes(kernel: [kernel, kernel], strides: [stride, stride], pads: [pad, pad, pad, pad],
                                    dilations: [1, 1], group: group))
    }

    /// An inverted-residual network: a 3×3 stride-2 stem to 8×8 (the cut), then a pointwise
    /// expansion, a depthwise 3×3, a projection added to the stem's output, a depthwise 3×3 of
    /// stride 2, a spatial mean and a classifier; `tailOp` (if any) goes before the mean.
    private func network(tailOp: Op? = nil) -> Graph {
        var initializers: [String: Tensor] = [:]
        func constant(_ name: String, _ shape: [Int]) -> String {
            initializers[name] = Tensor(shape: shape, floats: values(shape.reduce(1, *), seed: initializers.count + 1).map { $0 / 2 })
            return name
        }
        var nodes = [
            Node(name: "stem", op: conv(3, stride: 2), inputs: ["x", constant("w0", [8, 3, 3, 3]), constant("b0", [8])], outputs: ["s"]),
            Node(name: "stem_clip", op: .clip(min: 0, max: 6), inputs: ["s"], outputs: ["a"]),
            Node(name: "expand", op: conv(1), inputs: ["a", constant("w1", [16, 8, 1, 1]), constant("b1", [16])], outputs: ["e"]),
            Node(name: "expand_relu", op: .relu, inputs: ["e"], outputs: ["er"]),
            Node(name: "depthwise", op: conv(3, group: 16), inputs: ["er", constant("w2", [16, 1, 3, 3]), constant("b2", [16])], outputs: ["d"]),
            Node(name: "project", op: conv(1), inputs: ["d", constant("w3", [8, 16, 1, 1])], outputs: ["p"]),
            Node(name: "residual", op: .add, inputs: ["p", "a"], outputs: ["r"]),
            Node(name: "down", op: conv(3, stride: 2, group: 8), inputs: ["r", constant("w5", [8, 1, 3, 3])], outputs: ["q"]),
        ]
        var last = "q"
        if let tailOp {
            nodes.append(Node(name: "extra", op: tailOp, inputs: [last], outputs: ["t"]))
            last = "t"
        }
        nodes += [
            Node(name: "mean", op: .globalAveragePool, inputs: [last], outputs: ["m"]),
            Node(name: "flatten", op: .reshape(shape: [0, -1]), inputs: ["m"], outputs: ["f"]),
            Node(name: "classifier", op: .gemm(alpha: 1, beta: 1, transA: false, transB: true),
                 inputs: ["f", constant("w4", [5, 8]), constant("b4", [5])], outputs: ["y"]),
        ]
        return Graph(name: "t", inputs: [ValueInfo(name: "x", shape: [1, 3, 16, 16])], outputs: ["y"], nodes: nodes,
                     initializers: initializers)
    }

    /// Logits of `batch` images run together and one at a time.
    private func logits(_ graph: Graph, batch: Int) throws -> (together: [Float], apart: [Float], engine: Engine) {
        let image = 3 * 16 * 16
        let x = values(batch * image, seed: 99)
        let engine = Engine(graph: graph)
        let together = try engine.run(["x": Tensor(shape: [batch, 3, 16, 16], floats: x)])["y"]!
        XCTAssertEqual(together.shape, [batch, 5])
        let single = Engine(graph: graph)
        let apart = try (0..<batch).flatMap { n in
            try single.run(["x": Tensor(shape: [1, 3, 16, 16], floats: Array(x[n * image..<(n + 1) * image]))])["y"]!.floats
        }
        return (together.floats, apart, engine)
    }

    func testTheCutIsTheFirstSmallValueThatAloneCrosses() throws {
        let graph = network()
        let cut = try XCTUnwrap(ChannelMajor.cut(graph, shapes: try graph.withBatch(1).inferShapes()))
        // The input's 16×16 planes are too large; the stem's 8×8 output alone crosses to its Clip.
        XCTAssertEqual(cut.node, 1)
        XCTAssertEqual(cut.value, "s")
    }

    /// 20 images: one run of the tail on 16 and one on 4, every kernel of the tail channel-major.
    func testABatchRunsItsTailChannelMajor() throws {
        let (together, apart, engine) = try logits(network(), batch: ChannelMajor.images + 4)
        XCTAssertNotNil(engine.split, "the tail could not run channel-major")
        for (a, b) in zip(together, apart) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    /// A tail with an op the layout does not cover runs image by image instead, with the same result.
    func testAnUnsupportedTailFallsBackToImageByImage() throws {
        let pool = Op.maxPool(PoolAttributes(kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], ceilMode: false))
        let (together, apart, engine) = try logits(network(tailOp: pool), batch: 3)
        XCTAssertNil(engine.split)
        XCTAssertEqual(together, apart)
    }
}
