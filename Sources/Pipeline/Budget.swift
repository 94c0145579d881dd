import Foundation
import Graph
import Quantize

/// A limit the compressed model must meet: "6MB" of weights, "300MFLOPs" of multiply-accumulates,
/// "40GBOPs" of bit operations or "5ms" of latency, each checked against the plan's `Cost`.
///
/// Sizes are decimal (1 MB = 1,000,000 bytes) and count the weights, biases, requantization
/// parameters and tables the `.wtm` carries. "FLOPs" and "MACs" both mean multiply-accumulates,
/// as in the MobileNet and BCNet papers. BOPs are MACs × weight bits × activation bits.
/// Milliseconds are estimated from a latency table (`compress profile --table`).
/// Examples: "6MB" → 6,000,000 bytes; "300MFLOPs" and "300MMACs" → 300,000,000 MACs;
/// "1.5GMACs" → 1,500,000,000 MACs; "40GBOPs" → 40,000,000,000 BOPs; "5ms" → 5 ms.
public enum Budget: Equatable, Sendable, CustomStringConvertible {
    case weightBytes(Int)
    case macs(Int)
    case bops(Int)
    case milliseconds(Double)

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(parsing text: String) throws {
        let lower = text.lowercased()
        if lower.hasSuffix("ms"), let value = Double(lower.dropLast(2)), value > 0, value.isFinite {
            self = .milliseconds(value)
            return
        }
        let units: [(suffix: String, make: (Double) -> Budget)] = [
            ("flops", { .macs(Int($0)) }), ("macs", { .macs(Int($0)) }), ("bops", { .bops(Int($0)) }),
            ("b", { .weightBytes(Int($0)) }),
        ]
        for (suffix, make) in units where lower.hasSuffix(suffix) {
            var number = String(lower.dropLast(suffix.count))
            var factor = 1.0
            if let last = number.last, let f = ["k": 1e3, "m": 1e6, "g": 1e9][String(last)] {
                factor = f
                number.removeLast()
            }
            guard let value = Double(number), value > 0, value.isFinite else { break }
            let total = (value * factor).rounded()
            guard total <= 1e18 else {
                throw ParseError(description: "'\(text)' is more than any model holds (budgets go up to 10^18): leave the budget out to set no limit")
            }
            guard total >= 1 else { break }
            self = make(total)
            return
        }
        throw ParseError(description: "'\(text)' is not a budget; write a weight size like 6MB or 500KB, MACs like 300MFLOPs or 300MMACs, bit operations like 40GBOPs, or a latency like 5ms")
    }

    public var description: String {
        switch self {
        case .weightBytes(let b): return format(Double(b)) + " of weights"
        case .macs(let m), .bops(let m): return format(Double(m))
        case .milliseconds(let ms): return format(ms)
        }
    }

    /// The limit in the budget's unit.
    var limit: Double {
        switch self {
        case .weightBytes(let limit), .macs(let limit), .bops(let limit): return Double(limit)
        case .milliseconds(let limit): return limit
        }
    }

    /// The limit and what `cost` spends of it; nil spent for milliseconds the latency table does not cover.
    func measure(_ cost: Cost) -> (limit: Double, spent: Double?) {
        switch self {
        case .weightBytes: return (limit, Double(cost.bytes))
        case .macs: return (limit, Double(cost.macs))
        case .bops: return (limit, Double(cost.bops))
        case .milliseconds: return (limit, cost.milliseconds)
        }
    }

    /// What one layer spends of this budget's quantity.
    func measure(_ layer: Cost.Layer) -> Double? {
        switch self {
        case .weightBytes: return Double(layer.bytes)
        case .macs: return Double(layer.macs)
        case .bops: return Double(layer.bops)
        case .milliseconds: return layer.milliseconds
        }
    }

    /// `value` in this budget's unit, to two decimals: 4_890_112 → "4.89MB", 385_191_000 → "385.19M MACs".
    func format(_ value: Double) -> String {
        if case .milliseconds = self { return String(format: "%.2f ms", value) }
        var text = String(Int(value))
        for (limit, suffix) in [(1e9, "G"), (1e6, "M"), (1e3, "K")] where value >= limit {
            text = String(format: "%.2f", value / limit) + suffix
            break
        }
        switch self {
        case .weightBytes: return text + "B"
        case .macs: return text + " MACs"
        default: return text + " BOPs"
        }
    }
}

extension Budget {
    public struct Unmet: Error, CustomStringConvertible {
        public let description: String
    }

    /// Throws at the first of `budgets` that `cost` misses. The message names the smallest value
    /// any plan of the graph's widths reaches (each layer at its cheapest scheme), or, when
    /// one is reachable, the uniform bit-widths that meet it.
    /// Example: `--budget 100KB` on EfficientNet-Lite0 → "the budget of 100.00KB of weights cannot
    /// be met: the smallest any plan reaches is 1.42MB (…)".
    static func check(_ budgets: [Budget], cost: Cost, model: CostModel, graph: Graph, latency: LatencyTable?) throws {
        for budget in budgets {
            let (limit, measured) = budget.measure(cost)
            guard let spent = measured else {
                let missing = cost.layers.filter { $0.milliseconds == nil }
                let how = latency == nil ? "give --latency-table" : "the latency table lacks \(missing.count) of the plan's \(cost.layers.count) ops (first '\(missing[0].name)')"
                throw Unmet(description: "a budget in milliseconds is estimated from a latency table: \(how); write one with compress profile MODEL.wtm --table FILE on the target, for a .wtm of each scheme the plan uses")
            }
            guard spent > limit else { continue }
            if case .macs = budget {
                // The main job removes channels first (`Narrowing`); bit-widths do not change MACs.
                throw Unmet(description: "the model has \(budget.format(spent)), over the \(budget.format(limit)) budget")
            }
            let cheapest = model.cost(model.cheapest(by: budget.measure, latency: latency), latency: latency)
            guard let smallest = budget.measure(cheapest).spent, smallest <= limit else {
                let reach = budget.measure(cheapest).spent.map { "the smallest any plan reaches is \(budget.format($0))" } ?? "no plan the latency table covers reaches it"
                throw Unmet(description: "the budget of \(budget) cannot be met: \(reach) (each layer at its cheapest scheme, all channels kept)")
            }
            let options = [Scheme.int4, .int2].compactMap { scheme -> String? in
                guard let value = budget.measure(model.cost(Plan.uniform(graph, scheme: scheme), latency: latency)).spent, value <= limit else { return nil }
                return "--bits \(scheme.rawValue) needs \(budget.format(value))"
            }
            let hint = options.isEmpty ? "only a plan with lower bit-widths in the first and last layers reaches it (smallest: \(budget.format(smallest)))"
                                       : "lower bit-widths reach it: " + options.joined(separator: ", ")
            throw Unmet(description: "the plan needs \(budget.format(spent)), over the \(budget.format(limit)) budget; \(hint)")
        }
    }
}
