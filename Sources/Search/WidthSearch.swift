import Engine
import Foundation
import Graph
import Rewrite

/// Channel-width search under a MAC budget: one width per channel group (`Graph.channelGroups`),
/// chosen by evolution inside [0.8·budget, budget] as BCNet searches (population, tournament,
/// crossover, mutation), each width vector scored by how far the cut model's output moves from
/// the full model's on a batch of inputs (`Sensitivity.divergence`), channels kept by L1 norm
/// (`Widths`). The cut model is scored as it is, before any fine-tuning: the score ranks width
/// vectors, it does not predict their accuracy after training.
///
///     let search = try WidthSearch(graph: lite0, inputs: images)
///     let widths = try search.search(budget: 300_000_000) { print($0) }
///     let cut = try Widths.apply(lite0, groups: search.groups, widths: widths)   // ≤ 300M MACs
public struct WidthSearch {
    public let graph: Graph
    public let groups: [ChannelGroup]
    public let cost: WidthCost
    /// Per group, the widths it may take, ascending: eighths of its channels (the smallest one
    /// eighth), multiples of 8 from 64 channels up, and all of them.
    public let options: [[Int]]
    private let inputs: Tensor
    private let reference: Tensor

    public init(graph: Graph, inputs: Tensor) throws {
        self.graph = graph
        self.inputs = inputs
        groups = try graph.channelGroups()
        cost = try WidthCost(graph, groups: groups)
        options = groups.map { WidthSearch.choices(channels: $0.channels) }
        var watch = graph
        watch.outputs = Array(Set(groups.flatMap(\.consumers).compactMap { name in graph.nodes.first { $0.name == name }?.inputs[0] })).sorted()
        let values = try Engine(graph: watch).run([graph.inputs[0].name: inputs])
        means = values.mapValues { tensor in
            let sums = tensor.channelSums()
            return sums.map { $0 / Double(tensor.count / max(sums.count, 1)) }
        }
        reference = try Engine(graph: graph).run([graph.inputs[0].name: inputs])[graph.outputs[0]]!
    }

    /// Per value a group's consumer reads, its channels' means over the inputs: the bias
    /// compensation `Widths.apply` makes for removed channels.
    public let means: [String: [Double]]

    /// Eighths of `channels`, rounded to a multiple of 8 from 64 channels up, at least 1.
    /// Example: 96 → [16, 24, 40, 48, 56, 72, 80, 96]; 24 → [3, 6, 9, 12, 15, 18, 21, 24].
    public static func choices(channels: Int) -> [Int] {
        let widths = (1...8).map { k -> Int in
            let exact = Double(channels * k) / 8
            return channels >= 64 && k < 8 ? max(8, Int((exact / 8).rounded()) * 8) : max(1, Int(exact.rounded()))
        }
        return Array(Set(widths)).sorted()
    }

    /// Every group whole.
    public var full: [Int] { groups.map(\.channels) }
    /// Every group at its smallest option.
    public var smallest: [Int] { options.map { $0[0] } }

    /// How far the model cut to `widths` moves from the full model on the inputs: the mean KL of
    /// the class scores (`Sensitivity.divergence`).
    public func score(_ widths: [Int]) throws -> Double {
        try divergence(of: try cut(widths))
    }

    /// The graph cut to `widths`, with bias compensation.
    public func cut(_ widths: [Int]) throws -> Graph { try Widths.apply(graph, groups: groups, widths: widths, means: means) }

    /// How far `cut` (the graph cut, and perhaps trained since) moves from the full model on the inputs.
    public func divergence(of cut: Graph) throws -> Double {
        Sensitivity.divergence(reference, try Engine(graph: cut).run([cut.inputs[0].name: inputs])[cut.outputs[0]]!)
    }

    /// The width vector of least score found inside [0.8·budget, budget] MACs. The first
    /// population is a prior, the uniform widths (the same eighth in every group) that fit the
    /// window and mutations of the prior. The prior scores each group cut alone to each of its
    /// widths from half up, then removes channels one option at a time where the score grows
    /// least per MAC saved. Each generation keeps the best quarter and breeds the rest by
    /// tournament, uniform crossover and mutation (a group one option up or down), repaired
    /// under the budget one random group at a time and then grown while it fits. `progress`
    /// hears one line per group of the prior and per generation.
    public func search(budget: Int, population: Int = 16, generations: Int = 8, seed: UInt64 = 1,
                       progress: (String) -> Void = { _ in }) throws -> [Int] {
        precondition(cost.macs(smallest) <= budget, "the budget is below the smallest width")
        var random = SplitMix(seed: seed)
        let floor = budget * 8 / 10
        func indices(_ widths: [Int]) -> [Int] { zip(options, widths).map { $0.firstIndex(of: $1)! } }
        func widths(_ picks: [Int]) -> [Int] { zip(options, picks).map { $0[$1] } }
        func repaired(_ picks: [Int]) -> [Int] {
            var picks = picks
            while cost.macs(widths(picks)) > budget {
                let open = picks.indices.filter { picks[$0] > 0 }
                picks[open[random.below(open.count)]] -= 1
            }
            // Grow groups in random order while the budget allows: more MACs rarely hurt.
            var order = Array(picks.indices)
            for i in order.indices.reversed() where i > 0 { order.swapAt(i, random.below(i + 1)) }
            for g in order {
                while picks[g] < options[g].count - 1 {
                    picks[g] += 1
                    if cost.macs(widths(picks)) > budget { picks[g] -= 1; break }
                }
            }
            return picks
        }
        func mutated(_ picks: [Int], rate: Double) -> [Int] {
            repaired(picks.indices.map { g in
                guard random.unit() < rate else { return picks[g] }
                return min(max(picks[g] + (random.below(2) == 0 ? -1 : 1), 0), options[g].count - 1)
            })
        }

        let started = Date()
        var scored: [[Int]: Double] = [:]
        // The prior: each group cut alone to each of its widths from half up, then channels taken
        // greedily where the score grows least per MAC saved.
        var alone: [[Double]] = options.map { $0.map { _ in 0 } }
        for g in groups.indices {
            for i in options[g].indices.dropLast() where options[g][i] * 2 >= groups[g].channels {
                var picks = options.map { $0.count - 1 }
                picks[g] = i
                alone[g][i] = try score(widths(picks))
            }
            let elapsed = Date().timeIntervalSince(started)
            let measured = options[g].indices.dropLast().filter { options[g][$0] * 2 >= groups[g].channels }
            progress(String(format: "  width prior %d/%d: %d channels cut alone to %@: divergence %@, %.0f s left", g + 1, groups.count, groups[g].channels,
                            measured.map { String(options[g][$0]) }.joined(separator: ", "), measured.map { String(format: "%.3f", alone[g][$0]) }.joined(separator: ", "),
                            elapsed / Double(g + 1) * Double(groups.count - g - 1)))
        }
        var prior = options.map { $0.count - 1 }
        while cost.macs(widths(prior)) > budget {
            var best: (g: Int, rate: Double)?
            for g in groups.indices where prior[g] > 0 && options[g][prior[g] - 1] * 2 >= groups[g].channels {
                var down = prior
                down[g] -= 1
                let saved = Double(cost.macs(widths(prior)) - cost.macs(widths(down)))
                let rate = (alone[g][prior[g] - 1] - alone[g][prior[g]]) / max(saved, 1)
                if best == nil || rate < best!.rate { best = (g, rate) }
            }
            guard let step = best else { break }
            prior[step.g] -= 1
        }
        prior = repaired(prior)

        // Uniform eighths that fit, largest first.
        let uniform = (1...8).reversed().map { k in indices(zip(groups, options).map { group, o in o.min { abs($0 * 8 - group.channels * k) < abs($1 * 8 - group.channels * k) }! }) }
            .filter { cost.macs(widths($0)) <= budget }
        var pool = [prior] + Array(uniform.filter { cost.macs(widths($0)) >= floor }.prefix(population / 4))
        while pool.count < population { pool.append(mutated(prior, rate: 0.2)) }

        var ranked: [[Int]] = []
        let evolving = Date()
        for generation in 0..<generations {
            for picks in pool where scored[picks] == nil { scored[picks] = try score(widths(picks)) }
            ranked = scored.keys.sorted { scored[$0]! < scored[$1]! }
            let elapsed = Date().timeIntervalSince(evolving)
            let left = elapsed / Double(generation + 1) * Double(generations - generation - 1)
            progress(String(format: "  width search generation %d/%d: best divergence %.4f at %.1fM MACs, %d width vectors scored, %.0f s left",
                            generation + 1, generations, scored[ranked[0]]!, Double(cost.macs(widths(ranked[0]))) / 1e6, scored.count, left))
            guard generation + 1 < generations else { break }
            let parents = Array(ranked.prefix(max(2, population / 4)))
            func tournament() -> [Int] {
                let a = parents[random.below(parents.count)], b = parents[random.below(parents.count)]
                return scored[a]! <= scored[b]! ? a : b
            }
            pool = parents
            var attempts = 0
            while pool.count < population, attempts < 20 * population {
                attempts += 1
                let (a, b) = (tournament(), tournament())
                let child = mutated(a.indices.map { random.below(2) == 0 ? a[$0] : b[$0] }, rate: 0.1)
                if !pool.contains(child) { pool.append(child) }
            }
        }
        return widths(ranked[0])
    }
}
