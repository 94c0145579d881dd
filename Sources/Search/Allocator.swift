import Graph
import Quantize

/// Chooses one weight scheme per layer: the least total Ω (`Sensitivity`) whose cost fits one or
/// more budgets — weight bytes as the `.wtm` stores them, BOPs, milliseconds from a latency
/// table: any measure that adds up over ops.
///
/// Under one budget it is a multiple-choice knapsack solved exactly by dynamic programming over
/// the budget in steps of 1/16384 of it, each layer's cost rounded up to whole steps, so the plan
/// found never exceeds the budget (and misses a better one only within that rounding). Further
/// budgets enter the objective as Lagrange penalties, Ω + t · Σ_k spent_k / limit_k, with the
/// smallest t that meets them all found by bisection: the plan meets every budget, and is the
/// least-Ω one among the plans the penalty reaches (not always the exact optimum of the
/// multi-budget problem). Tied layers take one scheme together.
///
/// Example: two layers of 100 and 300 bytes in int8 (50 and 150 in int4), Ω(int8) = 0 and
/// Ω(int4) = 1 and 3, a budget of 300 bytes: int4 + int8 (350 bytes) does not fit; int8 + int4
/// (250 bytes, Ω 3) beats int4 + int4 (200 bytes, Ω 4).
public enum Allocator {
    public struct Infeasible: Error, CustomStringConvertible {
        public let description: String
    }

    /// A budget as the allocator sees it: what one op spends of it (nil: cannot be priced) and the limit.
    public struct Constraint {
        public var measure: (Cost.Layer) -> Double?
        public var limit: Double

        public init(measure: @escaping (Cost.Layer) -> Double?, limit: Double) {
            self.measure = measure
            self.limit = limit
        }
    }

    /// The plan for `sensitivity`'s layers, layer i taking one of `allowed[i]` (each must have an
    /// Ω), the sum over all ops' costs (`model`, `latency`) of every constraint's measure at most
    /// its limit. A scheme a constraint cannot price for a layer (no latency entry) is not an
    /// option. `tied` lists groups of layer indices that must share a scheme (one allowed by all).
    public static func choose(_ sensitivity: Sensitivity, allowed: [[Scheme]], model: CostModel, latency: LatencyTable? = nil,
                              constraints: [Constraint], tied: [[Int]] = []) throws -> Plan {
        guard !constraints.isEmpty else { throw Infeasible(description: "the allocator needs a budget") }
        let layers = sensitivity.layers
        // Per constraint: its measure per layer and scheme, and the capacity the other ops leave.
        var spent = [[[Scheme: Double]]](repeating: Array(repeating: [:], count: layers.count), count: constraints.count)
        var capacity: [Double] = []
        var fixed = [Double?](repeating: 0, count: constraints.count)
        for scheme in Scheme.allCases {
            let cost = model.cost(Plan(layers: layers.map { Plan.Layer(name: $0, weights: scheme) }), latency: latency)
            let byName = Dictionary(cost.layers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            for (k, constraint) in constraints.enumerated() {
                for (i, name) in layers.enumerated() { spent[k][i][scheme] = byName[name].flatMap(constraint.measure) }
                fixed[k] = cost.layers.filter { $0.weights == nil }.reduce(Double?(0)) { sum, layer in
                    sum.flatMap { s in constraint.measure(layer).map { s + $0 } }
                }
            }
        }
        for (k, constraint) in constraints.enumerated() {
            guard let other = fixed[k] else { throw Infeasible(description: "the latency table lacks some of the model's ops") }
            guard constraint.limit - other > 0 else {
                throw Infeasible(description: "the ops without weights alone spend \(other), over the budget of \(constraint.limit)")
            }
            capacity.append(constraint.limit - other)
        }
        // Items: each group of tied layers (every other layer alone) with the schemes all its layers allow.
        var group = Array(layers.indices).map { [$0] }, owner = Array(layers.indices)
        for tie in tied where tie.count > 1 {
            let target = owner[tie[0]]
            for i in tie.dropFirst() where owner[i] != target {
                let from = owner[i]
                for j in group[from] { owner[j] = target }
                group[target] += group[from]
                group[from] = []
            }
        }
        let items = group.filter { !$0.isEmpty }
        let options = items.map { members -> [(scheme: Scheme, omega: Double, spent: [Double])] in
            allowed[members[0]].compactMap { scheme in
                guard members.allSatisfy({ allowed[$0].contains(scheme) }) else { return nil }
                var total = [Double](repeating: 0, count: constraints.count)
                for k in constraints.indices {
                    for i in members {
                        guard let value = spent[k][i][scheme] else { return nil }
                        total[k] += value
                    }
                }
                return (scheme, members.reduce(0) { $0 + sensitivity.omega[$1][scheme]! }, total)
            }
        }
        /// The least Ω + t · Σ_{k ≥ 1} spent_k / capacity_k under constraint 0, by DP.
        func solve(_ t: Double) throws -> [Int] {
            let slots = 16384, step = capacity[0] / Double(slots)
            func units(_ value: Double) -> Int { Int((value / step).rounded(.up)) }
            var best = [Double](repeating: .infinity, count: slots + 1)
            best[0] = 0
            var choice = [[UInt8]](repeating: [UInt8](repeating: .max, count: slots + 1), count: items.count)
            for (i, item) in options.enumerated() {
                var next = [Double](repeating: .infinity, count: slots + 1)
                for (o, option) in item.enumerated() where units(option.spent[0]) <= slots {
                    let weight = units(option.spent[0])
                    let value = option.omega + t * (1..<constraints.count).reduce(0) { $0 + option.spent[$1] / capacity[$1] }
                    for c in 0...(slots - weight) where best[c] < .infinity && best[c] + value < next[c + weight] {
                        next[c + weight] = best[c] + value
                        choice[i][c + weight] = UInt8(o)
                    }
                }
                best = next
            }
            guard var c = best.indices.filter({ best[$0] < .infinity }).min(by: { best[$0] < best[$1] }) else {
                throw Infeasible(description: "no choice of the allowed schemes fits the budget of \(constraints[0].limit)")
            }
            var picked = [Int](repeating: 0, count: items.count)
            for i in items.indices.reversed() {
                picked[i] = Int(choice[i][c])
                c -= units(options[i][picked[i]].spent[0])
            }
            return picked
        }
        func meetsOthers(_ picked: [Int]) -> Bool {
            (1..<constraints.count).allSatisfy { k in
                zip(options, picked).reduce(0) { $0 + $1.0[$1.1].spent[k] } <= capacity[k]
            }
        }
        var picked = try solve(0)
        if !meetsOthers(picked) {
            // The penalty that makes Ω negligible: past it the DP minimizes the other budgets alone.
            var high = max(1, options.reduce(0) { $0 + ($1.map(\.omega).max() ?? 0) }) * 1e6
            var low = 0.0
            let strongest = try solve(high)
            guard meetsOthers(strongest) else {
                throw Infeasible(description: "no choice of the allowed schemes meets all the budgets at once")
            }
            picked = strongest
            for _ in 0..<60 {
                let middle = (low + high) / 2
                let candidate = try solve(middle)
                if meetsOthers(candidate) { (high, picked) = (middle, candidate) } else { low = middle }
            }
        }
        var schemes = [Scheme](repeating: .int8, count: layers.count)
        for (i, members) in items.enumerated() { for j in members { schemes[j] = options[i][picked[i]].scheme } }
        return Plan(layers: zip(layers, schemes).map { Plan.Layer(name: $0, weights: $1) })
    }
}
