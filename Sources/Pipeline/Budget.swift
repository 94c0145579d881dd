import Foundation
import Graph
import Quantize

/// A limit the compressed model must meet: "6MB" of weights, "300MFLOPs" of multiply-accumulates
/// or "40GBOPs" of bit operations, each checked against the plan's `Cost`.
///
/// Sizes are decimal (1 MB = 1,000,000 bytes) and count the weights, biases, requantization
/// parameters and tables the `.wtm` carries. "FLOPs" and "MACs" both mean multiply-accumulates,
/// as in the MobileNet and BCNet papers. BOPs are MACs × weight bits × activation bits.
/// Examples: "6MB" → 6,000,000 bytes; "300MFLOPs" and "300MMACs" → 300,000,000 MACs;
/// "1.5GMACs" → 1,500,000,000 MACs; "40GBOPs" → 40,000,000,000 BOPs.
public enum Budget: Equatable, Sendable, CustomStringConvertible {
    case weightBytes(Int)
    case macs(Int)
    case bops(Int)

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(parsing text: String) throws {
        let lower = text.lowercased()
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
            self = make((value * factor).rounded())
            return
        }
        throw ParseError(description: "'\(text)' is not a budget; write a weight size like 6MB or 500KB, MACs like 300MFLOPs or 300MMACs, or bit operations like 40GBOPs")
    }

    public var description: String {
        switch self {
        case .weightBytes(let b): return "\(Budget.decimal(b))B of weights"
        case .macs(let m): return "\(Budget.decimal(m))MACs"
        case .bops(let b): return "\(Budget.decimal(b))BOPs"
        }
    }

    /// The limit and what `cost` spends of it.
    func measure(_ cost: Cost) -> (limit: Int, spent: Int) {
        switch self {
        case .weightBytes(let limit): return (limit, cost.bytes)
        case .macs(let limit): return (limit, cost.macs)
        case .bops(let limit): return (limit, cost.bops)
        }
    }

    /// `value` in this budget's unit, to two decimals: 4_890_112 → "4.89MB", 385_191_000 → "385.19M MACs".
    func format(_ value: Int) -> String {
        let v = Double(value)
        var text = String(value)
        for (limit, suffix) in [(1e9, "G"), (1e6, "M"), (1e3, "K")] where v >= limit {
            text = String(format: "%.2f", v / limit) + suffix
            break
        }
        switch self {
        case .weightBytes: return text + "B"
        case .macs: return text + " MACs"
        case .bops: return text + " BOPs"
        }
    }

    /// 6_000_000 → "6M", 1_500 → "1.5K".
    static func decimal(_ value: Int) -> String {
        for (limit, suffix) in [(1e9, "G"), (1e6, "M"), (1e3, "K")] where Double(value) >= limit {
            let scaled = Double(value) / limit
            return (scaled == scaled.rounded() ? String(Int(scaled)) : String(format: "%.3g", scaled)) + suffix
        }
        return String(value)
    }
}

extension Budget {
    public struct Unmet: Error, CustomStringConvertible {
        public let description: String
    }

    /// Throws at the first of `budgets` that `cost` misses. The message names the smallest value
    /// any plan reaches (2-bit weights in every layer; channels are not removed yet), or, when one
    /// is reachable, the uniform bit-widths that meet it.
    /// Example: `--budget 100KB` on EfficientNet-Lite0 → "the budget of 100.00KB cannot be met: the smallest any plan
    /// reaches is 1.42MB (…)".
    static func check(_ budgets: [Budget], cost: Cost, model: CostModel, graph: Graph) throws {
        for budget in budgets {
            let (limit, spent) = budget.measure(cost)
            guard spent > limit else { continue }
            let smallest = budget.measure(model.cost(Plan.uniform(graph, scheme: .int2, everywhere: true))).spent
            if case .macs = budget {
                throw Unmet(description: "the model has \(budget.format(spent)), over the \(budget.format(limit)) budget; removing channels (width search) is not built yet, so \(budget.format(spent)) is the smallest reachable")
            }
            guard smallest <= limit else {
                throw Unmet(description: "the budget of \(budget.format(limit)) cannot be met: the smallest any plan reaches is \(budget.format(smallest)) (2-bit weights in every layer, all channels kept)")
            }
            let options = [Scheme.int4, .int2].compactMap { scheme -> String? in
                let value = budget.measure(model.cost(Plan.uniform(graph, scheme: scheme))).spent
                return value <= limit ? "--bits \(scheme.rawValue) needs \(budget.format(value))" : nil
            }
            let hint = options.isEmpty ? "only 2-bit weights in every layer reach it (--bits int2 --bits-everywhere: \(budget.format(smallest)))"
                                       : "lower bit-widths reach it: " + options.joined(separator: ", ")
            throw Unmet(description: "the plan needs \(budget.format(spent)), over the \(budget.format(limit)) budget; \(hint)")
        }
    }
}
