import Datasets
@testable import Export
import Foundation
import Graph
import Pipeline
import Quantize
import Search
import WhittleRuntime
import XCTest

/// The plan's vocabulary (schemes, weight quantizers), the plan itself, its cost and the budget
/// check that reads the cost before any calibration.
final class PlanTests: XCTestCase {
    func testSchemeTableAgreesWithTheRuntime() {
        XCTAssertEqual(Scheme.allCases.count, Int(WT_SCHEME_COUNT.rawValue))
        for scheme in Scheme.allCases {
            let c = withUnsafeBytes(of: wt_schemes) { $0.bindMemory(to: wt_scheme.self)[scheme.id] }
            XCTAssertEqual(String(cString: c.name), scheme.rawValue)
            XCTAssertEqual(Int(c.bits), scheme.bits, scheme.rawValue)
            XCTAssertEqual(Int(c.min)...Int(c.max), scheme.levels, scheme.rawValue)
            for count in [0, 1, 3, 7, 8, 9, 64, 1001] {
                XCTAssertEqual(wt_scheme_bytes(UInt32(scheme.id), count), scheme.bytes(count), "\(scheme) × \(count)")
            }
        }
        XCTAssertEqual(wt_scheme_bytes(UInt32(WT_SCHEME_COUNT.rawValue), 64), 0)
    }

    /// Swift packs levels, the C runtime unpacks them (and Swift too), for every scheme.
    func testPackedLevelsUnpackInC() {
        var random = SeededRandom(seed: 9)
        XCTAssertEqual(WeightPacking.packCodes([-1, 3], scheme: .int4), [0x3F])
        XCTAssertEqual(WeightPacking.packCodes([1, 0, -1, 1], scheme: .ternary), [0x71])
        for scheme in Scheme.allCases {
            for count in [1, 5, 64, 333] {
                let width = Float(scheme.levels.count)
                let levels = (0..<count).map { _ in Int8(scheme.levels.lowerBound + min(Int((random.next() + 1) / 2 * width), scheme.levels.count - 1)) }
                let packed = WeightPacking.packCodes(levels, scheme: scheme)
                XCTAssertEqual(packed.count, scheme.bytes(count))
                var unpacked = [Int8](repeating: 99, count: count)
                wt_scheme_unpack(UInt32(scheme.id), packed, count, &unpacked)
                XCTAssertEqual(unpacked, levels, "\(scheme) × \(count)")
                XCTAssertEqual(WeightPacking.unpackCodes(packed, count: count, scheme: scheme), levels, "\(scheme) × \(count)")
            }
        }
    }

    func testTernaryScalesFollowBitNet() {
        let w: [Float] = [0.1, -0.5, 0.9, 0.02]
        let mean = WeightQuantizer.quantize(w, channels: 1, scheme: .ternary, rule: .absMean)
        XCTAssertEqual(mean.scales[0], 0.38, accuracy: 1e-6)
        XCTAssertEqual(mean.levels, [0, -1, 1, 0])
        let median = WeightQuantizer.quantize(w, channels: 1, scheme: .ternary, rule: .absMedian)
        XCTAssertEqual(median.scales, [0.5])
        XCTAssertEqual(median.levels, [0, -1, 1, 0])
        // A zero channel keeps scale 1 and zero levels.
        XCTAssertEqual(WeightQuantizer.quantize([0, 0], channels: 1, scheme: .ternary, rule: .absMean).scales, [1])
    }

    /// Least squares never does worse than max |w| (α = 1 is one of its candidates), and on
    /// Gaussian-like weights with an outlier it does much better at 4 and 2 bits.
    func testLeastSquaresScaleBeatsMaxAbsBelowEightBits() {
        var random = SeededRandom(seed: 3)
        var w = (0..<512).map { _ in (random.next() + random.next() + random.next()) / 3 }
        w[17] = 3
        func error(_ scheme: Scheme, _ rule: WeightScale) -> Float {
            let q = WeightQuantizer.quantize(w, channels: 2, scheme: scheme, rule: rule)
            XCTAssertTrue(q.levels.allSatisfy { scheme.levels.contains(Int($0)) }, "\(scheme) \(rule)")
            return zip(w.indices, q.levels).reduce(0) { sum, p in
                let d = Float(p.1) * q.scales[p.0 / 256] - w[p.0]
                return sum + d * d
            }
        }
        for scheme in [Scheme.int4, .int2] {
            XCTAssertLessThan(error(scheme, .leastSquares), 0.8 * error(scheme, .maxAbs), "\(scheme)")
        }
        // int8 by max |w|: the rule the .wtm always used, s = max |w| / 127, nothing clips.
        let int8 = WeightQuantizer.quantize(w, channels: 2, scheme: .int8, rule: .maxAbs)
        XCTAssertEqual(int8.scales[0], 3 / 127)
        XCTAssertEqual(int8.levels[17], 127)
    }

    func testPlansResolveAgainstTheGraphAndRoundTripAsJSON() throws {
        let graph = try ModelLoader.load(path: try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx")).graph
        let names = graph.weightLayers().map(\.name)
        XCTAssertEqual(names.count, 4)
        let uniform = Plan.uniform(graph, scheme: .int4)
        XCTAssertEqual(uniform.layers.map(\.weights), [.int8, .int4, .int4, .int8])
        XCTAssertEqual(uniform.schemes, "int4 (first and last layers int8)")
        XCTAssertEqual(Plan.uniform(graph, scheme: .ternary, everywhere: true).schemes, "ternary")

        // A partial plan from a file: the layers left out are int8, open fields filled.
        let text = #"{"layers": [{"name": "\#(names[1])", "weights": "ternary", "weight_scale": "absmedian"}]}"#
        let resolved = try Plan.read(json: Data(text.utf8)).resolved(for: graph, observer: .percentile)
        XCTAssertEqual(resolved.layers.map(\.name), names)
        XCTAssertEqual(resolved.layers.map(\.weights), [.int8, .ternary, .int8, .int8])
        XCTAssertEqual(resolved.layers[1].weightScale, .absMedian)
        XCTAssertEqual(resolved.layers[0].weightScale, .maxAbs)
        XCTAssertEqual(resolved.layers[2].observer, .percentile)
        XCTAssertEqual(resolved.layers[3].channels, 10)
        XCTAssertEqual(try Plan.read(json: try resolved.json()), resolved)
        // A report holds its plan under "plan".
        let report = try JSONSerialization.data(withJSONObject: ["seconds": 1.0, "plan": try JSONSerialization.jsonObject(with: resolved.json())])
        XCTAssertEqual(try Plan.read(json: report), resolved)

        for (bad, expected) in [
            (#"{"layers": [{"name": "nope"}]}"#, "'nope', which is no conv"),
            (#"{"layers": [{"name": "\#(names[0])"}, {"name": "\#(names[0])"}]}"#, "twice"),
            (#"{"layers": [{"name": "\#(names[0])", "activation_bits": 4}]}"#, "4-bit activations"),
            (#"{"layers": [{"name": "\#(names[0])", "weights": "int4", "weight_scale": "absmean"}]}"#, "is for ternary"),
            (#"{"layers": [{"name": "\#(names[3])", "channels": 5}]}"#, "must keep all its 10 channels"),
            (#"{"layers": [{"name": "\#(names[3])", "channels": 11}]}"#, "keep 1 to 10"),
            (#"{"layers": [{"name": "\#(names[0])", "weights": "int3"}]}"#, "not a plan"),
            (#"{"layer": []}"#, "not a plan"),
        ] {
            XCTAssertThrowsError(try Plan.read(json: Data(bad.utf8)).resolved(for: graph, observer: .mse), bad) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(bad): \(error)")
            }
        }
    }

    /// The cost model's bytes are the bytes of the `.wtm`'s constant data, blob by blob; its MACs
    /// are the graph's; BOPs are MACs × weight bits × 8; lower schemes shrink exactly the weights.
    func testCostIsWhatTheFileStores() throws {
        let path = try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx")
        let graph = try ModelLoader.load(path: path).graph
        let data = try LabeledData(folder: try Paths.shared("data/mnist"))
        let result = try Compression.quantize(graph, data: data, preset: .mnist, limit: 10, observer: .minMax)
        var model = wt_model()
        XCTAssertEqual(result.wtm.withUnsafeBytes { wt_model_load(&model, $0.baseAddress, $0.count) }, WT_OK)
        var stored = 0
        for i in 0..<Int(model.op_count) {
            stored += withUnsafeBytes(of: model.ops[i].blobs) { $0.bindMemory(to: wt_blob.self).reduce(0) { $0 + Int($1.size) } }
        }
        XCTAssertEqual(result.cost.bytes, stored)
        XCTAssertEqual(result.cost.macs, try graph.withBatch(1).layerCosts().reduce(0) { $0 + $1.macs })
        XCTAssertEqual(result.cost.bops, result.cost.macs * 64)

        let int8 = try Cost.of(graph, Plan.uniform(graph, scheme: .int8, everywhere: true))
        XCTAssertEqual(int8, result.cost)
        for scheme in [Scheme.int4, .int2, .ternary] {
            let low = try Cost.of(graph, Plan.uniform(graph, scheme: scheme, everywhere: true))
            for (a, b) in zip(int8.layers, low.layers) where a.weights != nil {
                XCTAssertEqual(b.bops * 8, a.bops * scheme.bits, "\(scheme) \(a.name)")
                XCTAssertLessThan(b.bytes, a.bytes, "\(scheme) \(a.name)")
            }
            XCTAssertEqual(low.macs, int8.macs)
        }
    }

    /// An impossible budget fails before calibration (the calibration folder does not even exist)
    /// and names the smallest reachable size; a reachable one names the bit-widths that meet it.
    func testBudgetsAreCheckedBeforeCalibration() throws {
        let model = Paths.root.appendingPathComponent("models/efficientnet-lite0-fp32.onnx").path
        var job = Job(model: model, calibration: .images(folder: "/nonexistent", preset: .tf, count: 10), output: "/nonexistent/x.wtm")
        job.budgets = [try Budget(parsing: "100KB")]
        XCTAssertThrowsError(try Pipeline.compress(job)) { error in
            XCTAssertTrue("\(error)".contains("cannot be met: the smallest any plan reaches is 1.42MB"), "\(error)")
        }
        job.budgets = [try Budget(parsing: "3MB")]
        XCTAssertThrowsError(try Pipeline.compress(job)) { error in
            XCTAssertTrue("\(error)".contains("--bits int2 needs"), "\(error)")
        }
        job.budgets = [try Budget(parsing: "20GBOPs")]
        XCTAssertThrowsError(try Pipeline.compress(job)) { error in
            XCTAssertTrue("\(error)".contains("BOPs, over the 20.00G BOPs budget; lower bit-widths reach it: --bits int4 needs"), "\(error)")
        }
    }

    /// The allocator's plan is the least total Ω under the budget: the same as trying all 4^4
    /// plans of the MNIST model's four layers, for random sensitivities and budgets.
    func testAllocatorFindsTheBestPlanUnderTheBudget() throws {
        let graph = try ModelLoader.load(path: try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx")).graph
        let model = try CostModel(try QuantPlan(graph)), layers = graph.weightLayers().map(\.name)
        var random = SeededRandom(seed: 21)
        let schemes = Scheme.allCases
        for round in 0..<20 {
            let omega = layers.map { _ in Dictionary(uniqueKeysWithValues: schemes.map { ($0, Double(random.next() + 1) * ($0 == .int8 ? 0.1 : 1)) }) }
            let sensitivity = Sensitivity(layers: layers, omega: omega)
            let budget = 100_000 + Int((random.next() + 1) * 200_000)
            var best = Double.infinity
            for code in 0..<256 {
                let plan = Plan(layers: layers.indices.map { Plan.Layer(name: layers[$0], weights: schemes[(code >> (2 * $0)) & 3]) })
                guard model.cost(plan).bytes <= budget else { continue }
                best = min(best, plan.layers.indices.reduce(0.0) { $0 + omega[$1][plan.layers[$1].weights]! })
            }
            let chosen = try Allocator.choose(sensitivity, allowed: layers.map { _ in schemes }, model: model,
                                              constraints: [.init(measure: { Double($0.bytes) }, limit: Double(budget))])
            XCTAssertLessThanOrEqual(model.cost(chosen).bytes, budget, "round \(round)")
            let total = chosen.layers.indices.reduce(0.0) { $0 + omega[$1][chosen.layers[$1].weights]! }
            XCTAssertEqual(total, best, accuracy: 1e-9, "round \(round), budget \(budget)")
        }
    }

    /// Under a weight-size and a BOPs budget at once, with the first two layers tied, the plan
    /// meets both and the tie; it is the brute-force optimum in most rounds (the Lagrange
    /// penalty may miss it) and never far from it.
    func testAllocatorMeetsSeveralBudgetsAndTies() throws {
        let graph = try ModelLoader.load(path: try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx")).graph
        let model = try CostModel(try QuantPlan(graph)), layers = graph.weightLayers().map(\.name)
        var random = SeededRandom(seed: 22)
        let schemes = Scheme.allCases
        let int8 = model.cost(Plan.uniform(graph, scheme: .int8, everywhere: true))
        var optimal = 0
        for round in 0..<20 {
            let omega = layers.map { _ in Dictionary(uniqueKeysWithValues: schemes.map { ($0, Double(random.next() + 1) * ($0 == .int8 ? 0.1 : 1)) }) }
            let sensitivity = Sensitivity(layers: layers, omega: omega)
            let byteShare = 0.4 + 0.3 * Double(random.next() + 1), bopShare = 0.3 + 0.3 * Double(random.next() + 1)
            let bytes = Double(int8.bytes) * byteShare, bops = Double(int8.bops) * bopShare
            func fits(_ plan: Plan) -> Bool { let c = model.cost(plan); return Double(c.bytes) <= bytes && Double(c.bops) <= bops }
            func total(_ plan: Plan) -> Double { plan.layers.indices.reduce(0.0) { $0 + omega[$1][plan.layers[$1].weights]! } }
            var best = Double.infinity
            for code in 0..<256 where (code & 3) == ((code >> 2) & 3) {
                let plan = Plan(layers: layers.indices.map { Plan.Layer(name: layers[$0], weights: schemes[(code >> (2 * $0)) & 3]) })
                if fits(plan) { best = min(best, total(plan)) }
            }
            let constraints: [Allocator.Constraint] = [.init(measure: { Double($0.bytes) }, limit: bytes), .init(measure: { Double($0.bops) }, limit: bops)]
            guard best < .infinity else {
                XCTAssertThrowsError(try Allocator.choose(sensitivity, allowed: layers.map { _ in schemes }, model: model, constraints: constraints, tied: [[0, 1]]))
                continue
            }
            let chosen = try Allocator.choose(sensitivity, allowed: layers.map { _ in schemes }, model: model, constraints: constraints, tied: [[0, 1]])
            XCTAssertTrue(fits(chosen), "round \(round)")
            XCTAssertEqual(chosen.layers[0].weights, chosen.layers[1].weights, "round \(round)")
            XCTAssertLessThanOrEqual(total(chosen), best * 1.5 + 1e-9, "round \(round)")
            if abs(total(chosen) - best) < 1e-9 { optimal += 1 }
        }
        XCTAssertGreaterThanOrEqual(optimal, 14, "the allocator found the optimum in \(optimal) of 20 rounds")
    }

    func testBudgetUnits() throws {
        XCTAssertEqual(try Budget(parsing: "40GBOPs"), .bops(40_000_000_000))
        XCTAssertEqual(try Budget(parsing: "6MB"), .weightBytes(6_000_000))
    }

    /// A CIFAR-10 image already 32×32 is used as it is (no 0.875 crop, which zooms it).
    func testSmallImagePresetsKeepImagesOfTheModelsSize() throws {
        var random = SeededRandom(seed: 5)
        let pixels = (0..<32 * 32 * 3).map { _ in UInt8(Int((random.next() + 1) * 127.5)) }
        let image = RGBImage(width: 32, height: 32, pixels: pixels)
        XCTAssertEqual(try Preset.cifar10.prepare(image, size: 32, channels: 3), Preset.cifar10.normalize(pixels, size: 32, channels: 3))
        XCTAssertNotEqual(try Preset.torch.prepare(image, size: 32, channels: 3), Preset.torch.normalize(pixels, size: 32, channels: 3))
    }
}
