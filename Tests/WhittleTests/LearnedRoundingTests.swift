import Engine
import Graph
@testable import Quantize
import XCTest

/// Learned rounding: the patches it reads are the conv's, and it lowers the output error it aims at.
final class LearnedRoundingTests: XCTestCase {
    private var random = SplitMix(seed: 3)
    private func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float(2 * random.unit() - 1) } }

    func testTheDocumentedPairFlipsOneWeight() {
        let levels = LearnedRounding.levels([0.26, 0.26], channels: 1, scales: [0.5], scheme: .int4, moments: [[1, 1, 1, 1]])
        XCTAssertEqual(levels.map(Int.init).sorted(), [0, 1])
    }

    /// Patches of a grouped, strided, padded conv times its weight rows (as lowering orders them)
    /// give the Engine's output.
    func testPatchesAreWhatTheConvReads() throws {
        let attributes = ConvAttributes(kernel: [3, 3], strides: [2, 2], pads: [1, 0, 1, 2], dilations: [1, 1], group: 2)
        let w = Tensor(shape: [6, 2, 3, 3], floats: values(108))
        let graph = Graph(name: "t", inputs: [ValueInfo(name: "x", shape: [1, 4, 9, 9])], outputs: ["y"],
                          nodes: [Node(name: "conv", op: .conv(attributes), inputs: ["x", "w"], outputs: ["y"])], initializers: ["w": w])
        let x = Tensor(shape: [1, 4, 9, 9], floats: values(324))
        let y = try Engine(graph: graph).run(["x": x])["y"]!
        let patches = LearnedRounding.convPatches(x, kernel: (3, 3), attributes: attributes)
        XCTAssertEqual(patches.width, 18)
        let rows = QuantPlan.ohwi(w), positions = y.count / 6
        for o in 0..<6 {
            let group = patches.groups[o / 3]
            for p in 0..<positions {
                let dot = (0..<18).reduce(Float(0)) { $0 + rows[o * 18 + $1] * group[p * 18 + $1] }
                XCTAssertEqual(dot, y.floats[o * positions + p], accuracy: 1e-4, "output \(o), position \(p)")
            }
        }
    }

    /// A layer that saw fewer patches than it has weights in a row gets no moments, and keeps
    /// nearest rounding; with more it gets one K×K moment.
    func testFewPatchesKeepNearestRounding() throws {
        let graph = Graph(name: "t", inputs: [ValueInfo(name: "x", shape: [1, 16])], outputs: ["y"],
                          nodes: [Node(name: "fc", op: .gemm(alpha: 1, beta: 1, transA: false, transB: true), inputs: ["x", "w"], outputs: ["y"])],
                          initializers: ["w": Tensor(shape: [4, 16], floats: values(64))])
        let plan = try QuantPlan(graph)
        let few = try LearnedRounding.inputMoments(plan, batches: [Tensor(shape: [8, 16], floats: values(128))], layers: ["fc"])
        XCTAssertEqual(few["fc"]?.count, 0)
        let many = try LearnedRounding.inputMoments(plan, batches: [Tensor(shape: [32, 16], floats: values(512))], layers: ["fc"])
        XCTAssertEqual(many["fc"]?.map(\.count), [256])
    }

    /// On correlated inputs, every channel's output error Σ‖(s·q − w)·x‖² is at most nearest
    /// rounding's, the total clearly lower, and each level is w/s rounded down or up.
    func testLearnedRoundingLowersTheOutputError() {
        let (channels, per, count) = (8, 24, 200)
        let weights = values(channels * per)
        let base = values(count * 4)
        let x = (0..<count * per).map { i in base[(i / per) * 4 + i % 4] + 0.3 * Float(random.unit()) } // rows sharing four factors
        var moments = [Float](repeating: 0, count: per * per)
        for p in 0..<count { for i in 0..<per { for j in 0..<per { moments[i * per + j] += x[p * per + i] * x[p * per + j] } } }
        let nearest = WeightQuantizer.quantize(weights, channels: channels, scheme: .int4, rule: .leastSquares)
        let learned = LearnedRounding.levels(weights, channels: channels, scales: nearest.scales, scheme: .int4, moments: [moments])
        func error(_ levels: [Int8], _ c: Int) -> Float {
            (0..<count).reduce(0) { sum, p in
                let e = (0..<per).reduce(Float(0)) { $0 + (Float(levels[c * per + $1]) * nearest.scales[c] - weights[c * per + $1]) * x[p * per + $1] }
                return sum + e * e
            }
        }
        var before: Float = 0, after: Float = 0
        for c in 0..<channels {
            XCTAssertLessThanOrEqual(error(learned, c), error(nearest.levels, c) * 1.0001, "channel \(c)")
            (before, after) = (before + error(nearest.levels, c), after + error(learned, c))
            for i in 0..<per {
                let ratio = weights[c * per + i] / nearest.scales[c], q = Float(learned[c * per + i])
                XCTAssertTrue(q == ratio.rounded(.down) || q == ratio.rounded(.down) + 1 || q == Float(nearest.levels[c * per + i]))
            }
        }
        XCTAssertLessThan(after, 0.7 * before, "learned rounding: \(after) against nearest \(before)")
    }
}

/// The main job's learned rounding on CIFAR ResNet-20 at int2: far above nearest rounding
/// (45.5 % against 14.5 % on the whole test split), and its file still bit-exact.
final class LearnedRoundingJobTests: XCTestCase {
    func testResNet20Int2KeepsMoreWithLearnedRounding() throws {
        let model = try Paths.shared("models/cifar10/resnet20_cifar10.onnx")
        let (train, test) = (try Paths.shared("data/cifar10/train"), try Paths.shared("data/cifar10/test"))
        var top1: [Double] = []
        for flag in ["--learned-rounding", "--no-learned-rounding"] {
            let wtm = FileManager.default.temporaryDirectory.appendingPathComponent("whittle-\(getpid())-r20\(flag).wtm").path
            defer { try? FileManager.default.removeItem(atPath: wtm) }
            let compressed = try runCompress([model, "--data", train, "--prep", "cifar10", "--calibration-count", "200", "--bits", "int2", flag, "-o", wtm])
            XCTAssertEqual(compressed.status, 0, compressed.stderr)
            let eval = try runCompress(["eval", wtm, "--data", test, "--prep", "cifar10", "--count", "1000", "--json"])
            top1.append((try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])?["top1"] as? Double ?? 0)
            if flag == "--learned-rounding" {
                let verified = try runCompress(["verify", wtm, "--data", test, "--prep", "cifar10", "--count", "10", "--json"])
                XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(verified.stdout.utf8)) as? [String: Any])?["mismatches"] as? Int, 0)
            }
        }
        XCTAssertGreaterThan(top1[0], top1[1] + 0.15, "learned \(top1[0]) against nearest \(top1[1])")
    }
}
