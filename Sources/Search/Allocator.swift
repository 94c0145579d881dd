import Graph
import Quantize

/// Chooses one weight scheme per layer: the least total Ω (`Sensitivity`) whose cost fits a
/// budget — weight bytes as the `.wtm` stores them, BOPs, or milliseconds from a latency table:
/// any measure that adds up over ops. A multiple-choice knapsack solved exactly by dynamic
/// programming over the budget in steps of at most 1/16384 of it, each layer's cost rounded up
/// to whole steps, so the plan found never exceeds the budget (and misses a better one only
/// within that rounding).
///
/// Example: two layers of 100 and 300 bytes in int8 (50 and 150 in int4), Ω(int8) = 0 and
/// Ω(int4) = 1 and 3, a budget of 300 bytes: int4 + int8 (350 bytes) does not fit; int8 + int4
/// (250 bytes, Ω 3) beats int4 + int4 (200 bytes, Ω 4).
public enum Allocator {
    public struct Infeasible: Error, CustomStringConvertible {
        public let description: String
    }

    /// The plan for `sensitivity`'s layers, layer i taking one of `allowed[i]` (each must have an
    /// Ω), the sum of `measure` over all ops' costs (`model`, `latency`) at most `limit`. A
    /// scheme whose layer `measure` cannot price (no latency entry) is not an option.
    public static func choose(_ sensitivity: Sensitivity, allowed: [[Scheme]], model: CostModel, latency: LatencyTable? = nil,
                              measure: (Cost.Layer) -> Double?, limit: Double) throws -> Plan {
        let layers = sensitivity.layers
        // The measure per layer and scheme, and what the other ops spend whatever the plan.
        var spent: [[Scheme: Double]] = Array(repeating: [:], count: layers.count)
        var fixed: Double? = 0
        for scheme in Scheme.allCases {
            let cost = model.cost(Plan(layers: layers.map { Plan.Layer(name: $0, weights: scheme) }), latency: latency)
            let byName = Dictionary(cost.layers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            for (i, name) in layers.enumerated() { spent[i][scheme] = byName[name].flatMap(measure) }
            fixed = cost.layers.filter { $0.weights == nil }.reduce(Double?(0)) { sum, layer in sum.flatMap { s in measure(layer).map { s + $0 } } }
        }
        guard let fixed else { throw Infeasible(description: "the latency table lacks some of the model's ops") }
        let capacity = limit - fixed
        guard capacity > 0 else { throw Infeasible(description: "the ops without weights alone spend \(fixed), over the budget of \(limit)") }
        let step = capacity / 16384, slots = 16384
        func units(_ value: Double) -> Int { Int((value / step).rounded(.up)) }
        var best = [Double](repeating: .infinity, count: slots + 1)
        best[0] = 0
        var choice = [[UInt8]](repeating: [UInt8](repeating: .max, count: slots + 1), count: layers.count)
        for i in layers.indices {
            var next = [Double](repeating: .infinity, count: slots + 1)
            for (k, scheme) in allowed[i].enumerated() {
                guard let value = spent[i][scheme], units(value) <= slots else { continue }
                let weight = units(value), omega = sensitivity.omega[i][scheme]!
                for c in 0...(slots - weight) where best[c] < .infinity && best[c] + omega < next[c + weight] {
                    next[c + weight] = best[c] + omega
                    choice[i][c + weight] = UInt8(k)
                }
            }
            best = next
        }
        guard var c = best.indices.filter({ best[$0] < .infinity }).min(by: { best[$0] < best[$1] }) else {
            throw Infeasible(description: "no choice of the allowed schemes fits the budget of \(limit)")
        }
        var schemes = [Scheme](repeating: .int8, count: layers.count)
        for i in layers.indices.reversed() {
            let scheme = allowed[i][Int(choice[i][c])]
            schemes[i] = scheme
            c -= units(spent[i][scheme]!)
        }
        return Plan(layers: zip(layers, schemes).map { Plan.Layer(name: $0, weights: $1) })
    }
}
