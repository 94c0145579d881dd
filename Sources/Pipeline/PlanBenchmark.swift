import Foundation
import Graph
import Quantize
import Search

/// EMQ's MQ benchmark (Dong et al. 2023): mixed-precision plans sampled near a weight-size
/// budget, each with its quality measured on images kept apart from the final evaluation
/// (`PlanProbe`: the plan's own `.wtm`). It is what the search methods' predictions are ranked
/// against (`kendallTau`), and what an evolved proxy is fitted to.
///
/// Plans are sampled where accuracies differ, not uniformly (random {8, 4, 2} plans mostly
/// collapse to chance): each is the allocator's answer for random layer sensitivities,
/// Ω(l, s) = r_l · ‖Q_s(W_l) − W_l‖² with r_l log-uniform over six decades, under a
/// budget drawn uniformly from [low, high] bytes. No method's own Ω enters, so none is favoured.
public struct PlanBenchmark: Codable, Sendable {
    public struct Entry: Codable, Sendable {
        public var plan: Plan
        public var bytes: Int
        public var bops: Int
        /// Top-1 against the images' labels; nil without labels.
        public var top1: Double?
        /// Mean KL(float ‖ plan) of the outputs.
        public var divergence: Double
    }

    public var model: String
    /// How the model was calibrated: the image folder, how many of its images, their preprocessing
    /// preset and the input shape given (what `compress evolve-proxy` calibrates again with).
    public var calibration: String?
    public var calibrationCount: Int?
    public var preset: String?
    public var inputShape: [Int]?
    /// The labeled folder the plans were measured on, and how many of its images.
    public var measure: String?
    public var measureCount: Int?
    /// Images each plan was measured on.
    public var images: Int
    public var entries: [Entry]

    /// Samples `count` distinct plans (at most 20·`count` tries) with weight bytes in [`low`, `high`]
    /// and measures each with `probe`. `progress` hears one line per plan.
    public static func build(model path: String, graph: Graph, probe: PlanProbe, costs: CostModel, low: Double, high: Double, count: Int,
                             seed: UInt64 = 1, progress: (String) -> Void = { _ in }) throws -> PlanBenchmark {
        let errors = Sensitivity.weightErrors(graph, options: Scheme.allCases)
        let layers = graph.weightLayers().map(\.name), ties = graph.tiedWeightLayers()
        var random = SplitMix(seed: seed)
        var seen = Set<[Scheme]>(), entries: [Entry] = []
        var meter = ProgressMeter("sampling plans", total: count, unit: "plans")
        for _ in 0..<max(count, 1) * 20 where entries.count < count {
            let omega = errors.map { row in
                let r = pow(10, 6 * random.unit() - 3)
                return row.mapValues { r * $0 }
            }
            let limit = low + (high - low) * random.unit()
            let plan = try Allocator.choose(Sensitivity(layers: layers, omega: omega), allowed: layers.map { _ in Scheme.allCases }, model: costs,
                                            constraints: [.init(measure: { Double($0.bytes) }, limit: limit)], tied: ties)
            let cost = costs.cost(plan)
            guard Double(cost.bytes) >= low, seen.insert(plan.layers.map(\.weights)).inserted else { continue }
            let quality = try probe.measure(plan)
            entries.append(Entry(plan: plan, bytes: cost.bytes, bops: cost.bops, top1: quality.top1, divergence: quality.divergence))
            let top1 = quality.top1.map { String(format: "top-1 %.3f, ", $0) } ?? ""
            meter.line(entries.count, detail: String(format: "%d bytes, %@KL %.4f", cost.bytes, top1, quality.divergence)).map(progress)
        }
        return PlanBenchmark(model: path, images: probe.count, entries: entries)
    }

    /// What a ranking compares predictions with.
    public enum Measured: Sendable {
        case top1, divergence
    }

    /// Kendall's τ-b between the measured quality (top-1, or −KL) of the benchmark's plans and a
    /// method's prediction for each (higher: predicted better): 1 when the orders agree, −1 when
    /// reversed, ties counted as neither. nil for top-1 when some plan has none.
    public func kendallTau(by measured: Measured, _ predicted: (Plan) -> Double) -> Double? {
        let truth = entries.map { measured == .top1 ? $0.top1 : -$0.divergence }
        guard truth.allSatisfy({ $0 != nil }) else { return nil }
        return ProxyEvolution.kendallTau(truth.map { $0! }, entries.map { predicted($0.plan) })
    }

    /// The plans as samples a proxy is evolved on: each layer's scheme and the measured quality,
    /// top-1 where every plan has one, else −KL (`samplesMeasure`).
    public var samples: [ProxyEvolution.Sample] {
        let top1 = samplesMeasure == "top-1"
        return entries.map { ProxyEvolution.Sample(choices: $0.plan.layers.map(\.weights), quality: top1 ? $0.top1! : -$0.divergence) }
    }

    /// What `samples` take as quality: "top-1" or "-KL".
    public var samplesMeasure: String { entries.allSatisfy { $0.top1 != nil } ? "top-1" : "-KL" }

    /// Two thirds of the plans to fit a proxy on, and every third plan held out to check it.
    public func split() -> (fit: PlanBenchmark, heldOut: PlanBenchmark) {
        var fit = self, heldOut = self
        fit.entries = entries.enumerated().filter { $0.offset % 3 != 0 }.map(\.element)
        heldOut.entries = entries.enumerated().filter { $0.offset % 3 == 0 }.map(\.element)
        return (fit, heldOut)
    }

    public func write(path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try OutputFile.write(encoder.encode(self), to: path)
    }

    public static func read(path: String) throws -> PlanBenchmark {
        try JSONDecoder().decode(PlanBenchmark.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// The benchmark at `path`, checked to hold at least `minimum` plans of `graph`'s weight
    /// layers (nil: read only).
    static func read(path: String, of graph: Graph?, minimum: Int = 1) throws -> PlanBenchmark {
        let benchmark: PlanBenchmark
        do { benchmark = try read(path: path) } catch { throw ProxyError("'\(path)' is no plan benchmark of compress sample-plans: \(error)") }
        guard let graph else { return benchmark }
        let layers = graph.weightLayers().map(\.name)
        guard benchmark.entries.count >= minimum, benchmark.entries.allSatisfy({ $0.plan.layers.map(\.name) == layers }) else {
            throw ProxyError("'\(path)' holds \(benchmark.entries.count) plans, not at least \(minimum) plans of this model's \(layers.count) weight layers (it was measured on \(benchmark.model))")
        }
        return benchmark
    }
}
