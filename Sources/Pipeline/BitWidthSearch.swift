import Foundation
import Graph
import Quantize
import Search

/// `--bits mixed`: a weight scheme per layer from a sensitivity method and the allocator, under
/// the budgets bit-widths change (weight bytes, BOPs, milliseconds), every layer free.
final class BitWidthSearch {
    let graph: Graph
    /// Calibration inputs (NCHW batches) and the statistics they gave.
    let batches: [Tensor]
    let calibrated: Compression.Calibrated
    let model: CostModel
    let latency: LatencyTable?
    /// `--method emq`'s formula.
    let proxy: Proxy
    private var shared: PlanProbe?
    private var measured: ProxyInputs?

    init(graph: Graph, batches: [Tensor], calibrated: Compression.Calibrated, model: CostModel, latency: LatencyTable?, proxy: Proxy = .evolved) {
        (self.graph, self.batches, self.calibrated, self.model, self.latency, self.proxy) = (graph, batches, calibrated, model, latency, proxy)
    }

    /// The first `probeImages` calibration inputs, over which the searched plan, the uniform plans
    /// and the Pareto chart's plans are measured; built on first use, once.
    func probe() throws -> PlanProbe {
        if let shared { return shared }
        let built = try PlanProbe(calibrated, images: [first(Self.probeImages)])
        shared = built
        return built
    }

    /// The budgets bit-widths change, first to last.
    static func searched(_ budgets: [Budget]) throws -> [Budget] {
        let searched = budgets.filter { if case .macs = $0 { false } else { true } }
        guard !searched.isEmpty else {
            throw Budget.Unmet(description: "--bits mixed chooses bit-widths under a weight size, BOPs or milliseconds: give one, e.g. --budget 3MB")
        }
        return searched
    }

    /// The plan `method` chooses under `budgets`, and the sensitivity it chose by (nil for FLIQS).
    func plan(method: Job.SearchMethod, budgets: [Budget], progress: (String) -> Void) throws -> (plan: Plan, sensitivity: Sensitivity?) {
        let constraints = try Self.searched(budgets).map { Allocator.Constraint(measure: $0.measure, limit: $0.limit) }
        let allowed = graph.weightLayers().map { _ in Scheme.allCases }
        guard let sensitivity = try sensitivity(method, progress: progress) else {
            let found = try policy(allowed: allowed, constraints: constraints, progress: progress)
            return (try checked(found, method: method, constraints: constraints, progress: progress), nil)
        }
        let found = try Allocator.choose(sensitivity, allowed: allowed, model: model, latency: latency, constraints: constraints,
                                         tied: graph.tiedWeightLayers())
        return (try checked(found, method: method, constraints: constraints, progress: progress), sensitivity)
    }

    /// Calibration inputs `probe()` measures plans on.
    static let probeImages = 64

    /// `found`, or a uniform plan (first and last layers int8) that meets every budget and keeps
    /// the float model's outputs closer (KL on the first `probeImages` calibration inputs, each
    /// plan's own `.wtm`): a search whose per-layer sensitivities add up wrongly may lose to one
    /// scheme everywhere — on CIFAR ResNet-20 at uniform int4's bytes ZeroQ's plan scored 75.7 %
    /// and HAWQ's 77.2 % against uniform int4's 78.1 % — and the user gets the better of them.
    func checked(_ found: Plan, method: Job.SearchMethod, constraints: [Allocator.Constraint], progress: (String) -> Void) throws -> Plan {
        let probe = try probe()
        var best = (plan: found, divergence: try probe.measure(found).divergence, name: "the \(method.rawValue) plan")
        let searchedDivergence = best.divergence
        for scheme in Scheme.allCases {
            let uniform = Plan.uniform(graph, scheme: scheme)
            guard constraints.allSatisfy({ spent(uniform, $0) <= $0.limit }) else { continue }
            let divergence = try probe.measure(uniform).divergence
            if divergence < best.divergence { best = (uniform, divergence, "uniform \(scheme.rawValue)") }
        }
        if best.plan != found {
            progress(String(format: "%@ keeps the float outputs closer than the %@ plan (KL %.4f against %.4f on %d inputs): using it",
                            best.name, method.rawValue, best.divergence, searchedDivergence, probe.count))
        }
        return best.plan
    }

    /// What `plan` spends of `constraint` (infinite where it cannot be priced).
    func spent(_ plan: Plan, _ constraint: Allocator.Constraint) -> Double {
        model.cost(plan, latency: latency).layers.reduce(0) { $0 + (constraint.measure($1) ?? .infinity) }
    }

    /// The chart `--pareto` draws: the uniform plans (first and last layers int8), the allocator's
    /// plans by `sensitivity` at eight budgets from the cheapest plan to int8, and `chosen`, each
    /// priced in the first searched budget's unit and measured on the first `probeImages`
    /// calibration inputs (top-1 agreement with float, or −KL for other outputs).
    func chart(title: String, chosen: Plan, sensitivity: Sensitivity?, method: Job.SearchMethod, budgets: [Budget],
               progress: (String) -> Void) throws -> ParetoChart {
        let budget = try Self.searched(budgets)[0], probe = try probe()
        let classifier = try probe.measure(chosen).agreement != nil
        func point(_ plan: Plan, _ label: String, searched: Bool) throws -> ParetoChart.Point {
            let quality = try probe.measure(plan)
            let cost = budget.measure(model.cost(plan, latency: latency)).spent ?? .nan
            return ParetoChart.Point(label: label, cost: cost, quality: classifier ? 100 * quality.agreement! : -quality.divergence, searched: searched)
        }
        progress("drawing the Pareto chart: plans measured on \(probe.count) calibration inputs")
        var points = try Scheme.allCases.map { try point(Plan.uniform(graph, scheme: $0), "uniform \($0.rawValue)", searched: false) }
        if let sensitivity {
            let cheapest = budget.measure(model.cost(model.cheapest(by: budget.measure, latency: latency), latency: latency)).spent ?? 0
            let int8 = budget.measure(model.cost(Plan.uniform(graph, scheme: .int8, everywhere: true), latency: latency)).spent ?? 0
            let allowed = sensitivity.layers.map { _ in Scheme.allCases }, ties = graph.tiedWeightLayers()
            for step in 0..<8 {
                let limit = cheapest + (int8 - cheapest) * Double(step + 1) / 8
                let plan = try Allocator.choose(sensitivity, allowed: allowed, model: model, latency: latency,
                                                constraints: [.init(measure: budget.measure, limit: limit)], tied: ties)
                points.append(try point(plan, "\(method.rawValue) at \(budget.format(limit))", searched: true))
            }
        }
        var picked = try point(chosen, "chosen: \(method.rawValue)", searched: true)
        picked.chosen = true
        points.append(picked)
        let axis: String
        switch budget {
        case .weightBytes: axis = "weight bytes"
        case .bops: axis = "BOPs (MACs × weight bits × 8)"
        case .milliseconds: axis = "milliseconds (latency table)"
        case .macs: axis = "MACs"
        }
        return ParetoChart(title: "\(title): plans under \(budget)",
                           costAxis: axis, qualityAxis: classifier ? "top-1 agreement with float (%)" : "−KL to float", points: points,
                           percent: classifier)
    }

    /// Ω per layer and scheme by `method`; nil for FLIQS, a search of its own.
    func sensitivity(_ method: Job.SearchMethod, progress: (String) -> Void) throws -> Sensitivity? {
        switch method {
        case .fliqs: return nil
        case .zeroq:
            let inputs = first(16)
            progress("measuring each layer's sensitivity to its weight scheme on \(inputs.shape[0]) inputs (ZeroQ)")
            return try Sensitivity.zeroQ(graph, inputs: inputs, options: Scheme.allCases, progress: progress)
        case .hawq:
            let inputs = first(32)
            progress("estimating each layer's Hessian trace on \(inputs.shape[0]) inputs (HAWQ-V3)")
            return try Sensitivity.hawq(graph, inputs: inputs, options: Scheme.allCases, progress: progress)
        case .emq:
            return try sensitivity(proxy, progress: progress)
        }
    }

    /// Ω by an EMQ proxy (`primitives`).
    func sensitivity(_ proxy: Proxy, progress: (String) -> Void) throws -> Sensitivity {
        guard let sensitivity = proxy.sensitivity(try primitives(progress: progress)) else {
            throw ProxyError("the proxy \(proxy) gives no finite sensitivity that tells the schemes apart on this model")
        }
        return sensitivity
    }

    /// EMQ's primitives of every layer on the first `proxyImages` calibration inputs, measured on
    /// first use, once.
    func primitives(progress: (String) -> Void) throws -> ProxyInputs {
        if let measured { return measured }
        let inputs = first(Self.proxyImages)
        progress("measuring each layer's weights, curvature and activations on \(inputs.shape[0]) inputs (EMQ's primitives)")
        let primitives = try ProxyInputs.measure(graph, inputs: inputs, options: Scheme.allCases, progress: progress)
        measured = primitives
        return primitives
    }

    /// Calibration inputs an EMQ proxy's primitives are measured on.
    static let proxyImages = 32

    /// Images FLIQS measures each sampled plan on.
    static let policyImages = 32

    /// FLIQS: REINFORCE over per-layer scheme choices, Q = −KL(float ‖ plan's `.wtm`) on the first
    /// `policyImages` calibration inputs (`PlanProbe`), C the first budget's measure.
    func policy(allowed: [[Scheme]], constraints: [Allocator.Constraint], progress: (String) -> Void) throws -> Plan {
        let inputs = first(Self.policyImages)
        var nearest = calibrated
        nearest.moments = [:] // learned rounding would cost each of the 200 sampled plans a second or more on Lite0
        let probe = try PlanProbe(nearest, images: [inputs])
        progress("FLIQS: sampling plans, each measured on \(probe.count) inputs by its own .wtm")
        let layers = graph.weightLayers().map(\.name), ties = graph.tiedWeightLayers()
        let outcome = try PolicySearch.train(
            layers: layers, options: allowed, cost: { spent($0, constraints[0]) }, target: constraints[0].limit,
            feasible: { plan in
                constraints.allSatisfy { spent(plan, $0) <= $0.limit }
                    && ties.allSatisfy { tie in tie.allSatisfy { plan.layers[$0].weights == plan.layers[tie[0]].weights } }
            },
            quality: { -(try probe.measure($0).divergence) }, progress: progress)
        let likeliest = Sensitivity(layers: layers, omega: zip(allowed, outcome.probabilities).map { options, p in
            Dictionary(uniqueKeysWithValues: zip(options, p.map { -log(max($0, 1e-300)) }))
        })
        let projected = try Allocator.choose(likeliest, allowed: allowed, model: model, latency: latency, constraints: constraints, tied: ties)
        let q = -(try probe.measure(projected).divergence)
        progress(String(format: "FLIQS: the policy's likeliest plan within the budgets has Q %.4f", q))
        if let sampled = outcome.sampled, sampled.quality > q { return sampled.plan }
        return projected
    }

    /// The first `limit` calibration inputs as one batch.
    func first(_ limit: Int) -> Tensor {
        var pixels: [Float] = [], count = 0
        for batch in batches where count < limit {
            let take = min(batch.shape[0], limit - count), each = batch.count / batch.shape[0]
            pixels += batch.floats.prefix(take * each)
            count += take
        }
        return Tensor(shape: [count] + batches[0].shape.dropFirst(), floats: pixels)
    }
}
