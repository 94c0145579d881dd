import Datasets
import Engine
import Graph
@testable import Pipeline
import Rewrite
@testable import Search
import XCTest

/// Channel groups, the width pass, its cost and the width search (issue 20).
final class WidthTests: XCTestCase {
    private let lite0 = Paths.root.appendingPathComponent("models/efficientnet-lite0-fp32.onnx").path

    /// Lite0's groups: the stem with the first depthwise conv, each block's expansion with its
    /// depthwise conv, each stage's projections joined by their residual Adds, and the head,
    /// read by the classifier through ReduceMean and a Reshape that names 1280.
    func testChannelGroupsOfLite0() throws {
        let graph = try ModelLoader.load(path: lite0).graph
        let groups = try graph.channelGroups()
        XCTAssertEqual(groups.map(\.channels), [32, 16, 96, 24, 144, 144, 40, 240, 240, 80, 480, 480, 480, 112, 672, 672, 672, 192,
                                                1152, 1152, 1152, 1152, 320, 1280])
        let layers = graph.weightLayers()
        XCTAssertEqual(groups[0].producers, [layers[0].name])
        XCTAssertEqual(groups[0].depthwise, [layers[1].name])
        XCTAssertEqual(groups[0].consumers, [layers[2].name])
        // The stage of three 80-channel blocks: three projections, two residual Adds.
        XCTAssertEqual(groups[9].producers.count, 3)
        XCTAssertEqual(groups[23].consumers, [layers.last!.name])
        XCTAssertEqual(groups[23].reshapes.count, 1)
        // Every weight layer but the classifier sets a group's channels, each once.
        let set = groups.flatMap(\.layers)
        XCTAssertEqual(Set(set).count, set.count)
        XCTAssertEqual(Set(set), Set(layers.dropLast().map(\.name)))
        for group in groups { for name in group.layers { XCTAssertEqual(layers.first { $0.name == name }!.outputs, group.channels, name) } }
    }

    /// Cut graphs verify, run, and cost exactly what `WidthCost` says; whole widths change nothing.
    func testCutGraphsCostWhatWidthCostSays() throws {
        let graph = try ModelLoader.load(path: lite0).graph
        let groups = try graph.channelGroups()
        let cost = try WidthCost(graph, groups: groups)
        XCTAssertEqual(try Widths.apply(graph, groups: groups, widths: groups.map(\.channels)), graph)
        XCTAssertEqual(cost.macs(groups.map(\.channels)), 385_187_552)
        var random = SplitMix(seed: 7)
        for _ in 0..<3 {
            let widths = groups.map { group in
                let choices = WidthSearch.choices(channels: group.channels)
                return choices[random.below(choices.count)]
            }
            let cut = try Widths.apply(graph, groups: groups, widths: widths)
            XCTAssertEqual(try cut.withBatch(1).layerCosts().reduce(0) { $0 + $1.macs }, cost.macs(widths))
            XCTAssertEqual(try cut.channelGroups().map(\.channels), widths)
            let logits = try Engine(graph: cut).run([cut.inputs[0].name: Tensor(shape: [1, 3, 224, 224], floats: .init(repeating: 0.5, count: 3 * 224 * 224))])
            XCTAssertEqual(logits[cut.outputs[0]]?.shape, [1, 1000])
        }
        XCTAssertThrowsError(try Widths.apply(graph, groups: groups, widths: groups.map { $0.channels + 1 })) { error in
            XCTAssertTrue("\(error)".contains("cannot keep 33 of its 32 channels"), "\(error)")
        }
    }

    /// Two convs, the first of three output channels, optionally with a Relu between.
    private func twoConvs(_ w1: [Float], _ b1: [Float], relu: Bool) -> Graph {
        let pointwise = Op.conv(ConvAttributes(kernel: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1))
        var random = SeededRandom(seed: 3)
        let between = relu ? [Node(name: "relu", op: .relu, inputs: ["y"], outputs: ["r"])] : []
        return Graph(name: "two convs", inputs: [ValueInfo(name: "x", shape: [1, 2, 4, 4])], outputs: ["z"], nodes: [
            Node(name: "a", op: pointwise, inputs: ["x", "w1", "b1"], outputs: ["y"])] + between + [
            Node(name: "b", op: pointwise, inputs: [relu ? "r" : "y", "w2", "b2"], outputs: ["z"]),
        ], initializers: ["w1": Tensor(shape: [3, 2, 1, 1], floats: w1), "b1": Tensor(shape: [3], floats: b1),
                          "w2": random.tensor([4, 3, 1, 1]), "b2": random.tensor([4])])
    }

    /// Removed channels are made up for from the statistics of what the next conv reads: a
    /// constant channel (a Relu of its bias alone) goes first and moves into that conv's bias; a
    /// channel that is a sum of the other two is predicted from them by the least-squares refit.
    /// Either way the cut model computes what the whole one did, where cutting alone does not.
    func testConsumersMakeUpForRemovedChannels() throws {
        var random = SeededRandom(seed: 5)
        let x = random.tensor([8, 2, 4, 4])
        let w = random.tensor([2, 2, 1, 1]).floats
        for (graph, name) in [(twoConvs(w + [0, 0], [0.1, -0.2, 1.5], relu: true), "constant"),
                              (twoConvs(w + [w[0] + w[2], w[1] + w[3]], [0.1, -0.2, -0.1], relu: false), "sum")] {
            let groups = try graph.channelGroups()
            XCTAssertEqual(groups.map(\.channels), [3])
            let search = try WidthSearch(graph: graph, inputs: x, batches: [x])
            let whole = try Engine(graph: graph).run(["x": x])["z"]!.floats
            let cut = try search.cut([2])
            XCTAssertEqual(cut.initializers["w1"]?.shape, [2, 2, 1, 1])
            XCTAssertLessThan(relativeError(try Engine(graph: cut).run(["x": x])["z"]!.floats, whole), 1e-3, name) // the ridge
            let plain = try Widths.apply(graph, groups: groups, widths: [2], kept: [[0, 1]])
            XCTAssertGreaterThan(relativeError(try Engine(graph: plain).run(["x": x])["z"]!.floats, whole), 0.05, name)
        }
    }

    /// A plan's channels: one number per group, checked against the graph; the report's plan
    /// of a cut model cuts the whole model the same way.
    func testPlansCarryWidths() throws {
        let graph = try ModelLoader.load(path: lite0).graph
        let layers = graph.weightLayers().map(\.name)
        let plan = try Plan(layers: [Plan.Layer(name: layers[0], channels: 16)]).resolved(for: graph, observer: .mse)
        XCTAssertEqual(plan.layers[0].channels, 16)
        XCTAssertEqual(plan.layers[1].channels, 16, "the depthwise conv of the stem's group follows")
        XCTAssertEqual(plan.layers[2].channels, 16)
        let cut = try Widths.apply(plan, to: graph)
        XCTAssertEqual(cut.weightLayers().prefix(2).map(\.outputs), [16, 16])
        XCTAssertEqual(try plan.resolved(for: cut, observer: .mse), plan)
        for (bad, expected) in [
            ([Plan.Layer(name: layers[0], channels: 16), Plan.Layer(name: layers[1], channels: 8)], "must keep one number of them, not 16 and 8"),
            ([Plan.Layer(name: layers.last!, channels: 10)], "must keep all its 1000 channels"),
            ([Plan.Layer(name: layers[0], channels: 0)], "keep 1 to 32"),
        ] {
            XCTAssertThrowsError(try Plan(layers: bad).resolved(for: graph, observer: .mse)) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
    }

    /// ResNet-20's option-A shortcuts pad channels, so each stage's channels stay whole; each
    /// block's inner channels are a group of their own.
    func testResNet20GroupsAreTheBlocksInnerChannels() throws {
        let graph = try ModelLoader.load(path: try Paths.shared("models/cifar10/resnet20_cifar10.onnx")).graph
        let groups = try graph.channelGroups()
        XCTAssertEqual(groups.map(\.channels), [16, 16, 16, 32, 32, 32, 64, 64, 64])
        XCTAssert(groups.allSatisfy { $0.producers.count == 1 && $0.consumers.count == 1 && $0.depthwise.isEmpty })
    }

    /// The main job under a MACs budget of half ResNet-20's: channels removed by the search,
    /// fine-tuned briefly, the result within [0.8, 1] of the budget and its plan's channels the
    /// cut model's; an unreachable budget names the smallest reachable, before any data is read.
    func testMainJobMeetsAMACsBudgetByRemovingChannels() throws {
        let model = try Paths.shared("models/cifar10/resnet20_cifar10.onnx")
        let data = try Paths.shared("data/cifar10/train")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("widths-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var job = Job(model: model, calibration: .images(folder: data, preset: .cifar10, count: 32),
                      output: directory.appendingPathComponent("half.wtm").path)
        job.budgets = [.macs(30_000_000)]
        job.timeLimit = 5
        var lines: [String] = []
        let outcome = try Pipeline.compress(job) { lines.append($0) }
        XCTAssertLessThanOrEqual(outcome.result.cost.macs, 30_000_000)
        XCTAssertGreaterThanOrEqual(outcome.result.cost.macs, 24_000_000)
        XCTAssert(outcome.result.plan.layers.contains { $0.channels! < 16 || ($0.channels! > 16 && $0.channels! < 32) || ($0.channels! > 32 && $0.channels! < 64) })
        XCTAssert(lines.contains { $0.contains("width search 8/8 generations") }, lines.joined(separator: "\n"))
        XCTAssert(lines.contains { $0.contains("fine-tuning ") && $0.contains(": epoch 1") }, lines.joined(separator: "\n"))
        XCTAssert(outcome.notes.contains { $0.hasPrefix("widths (evolution): ") && $0.contains("→") }, "\(outcome.notes)")

        job.budgets = [.macs(1_000_000)]
        job.calibration = .images(folder: "/nonexistent", preset: .cifar10, count: 32)
        XCTAssertThrowsError(try Pipeline.compress(job)) { error in
            XCTAssertTrue("\(error)".contains("the smallest any widths reach is"), "\(error)")
        }
        job.budgets = [.macs(30_000_000)]
        job.calibration = .distilled(bnStatistics: nil)
        XCTAssertThrowsError(try Pipeline.compress(job)) { error in
            XCTAssertTrue("\(error)".contains("removing channels needs images"), "\(error)")
        }
    }
}
