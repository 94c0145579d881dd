import Engine
import Foundation
import Graph
import Rewrite

/// Channel-width search under a MAC budget: one width per channel group (`Graph.channelGroups`),
/// chosen by evolution inside [0.8·budget, budget] as BCNet searches (population, tournament,
/// crossover, mutation), each width vector scored by how far the cut model's output moves from
/// the full model's on a batch of inputs (`Sensitivity.divergence`), channels chosen and their
/// consumers refitted from activation statistics (`ChannelReconstruction`). The cut model is
/// scored as it is, before any fine-tuning: the score ranks width vectors, it does not predict
/// their accuracy after training.
///
///     let search = try WidthSearch(graph: lite0, inputs: images, batches: moreImages)
///     let widths = try search.search(budget: 300_000_000) { print($0) }
///     let cut = try search.cut(widths)   // ≤ 300M MACs
public struct WidthSearch {
    public let graph: Graph
    public let groups: [ChannelGroup]
    public let cost: WidthCost
    /// Per group, the widths it may take, ascending: eighths of its channels (the smallest one
    /// eighth), multiples of 8 from 64 channels up, and all of them.
    public let options: [[Int]]
    private let inputs: Tensor
    private let reference: Tensor

    /// `inputs` score cut models; `batches` (more images) give the statistics that choose each
    /// group's channels and refit their consumers (`ChannelReconstruction`).
    public init(graph: Graph, inputs: Tensor, batches: [Tensor]) throws {
        self.graph = graph
        self.inputs = inputs
        groups = try graph.channelGroups()
        cost = try WidthCost(graph, groups: groups)
        options = groups.map { WidthSearch.choices(channels: $0.channels) }
        reconstruction = try ChannelReconstruction(graph: graph, groups: groups, batches: batches)
        reference = try Engine(graph: graph).run([graph.inputs[0].name: inputs])[graph.outputs[0]]!
    }

    private let reconstruction: ChannelReconstruction

    /// Eighths of `channels`, rounded to a multiple of 8 from 64 channels up, at least 1.
    /// Example: 96 → [16, 24, 40, 48, 56, 72, 80, 96]; 24 → [3, 6, 9, 12, 15, 18, 21, 24].
    public static func choices(channels: Int) -> [Int] {
        let widths = (1...8).map { k -> Int in
            let exact = Double(channels * k) / 8
            return channels >= 64 && k < 8 ? max(8, Int((exact / 8).rounded()) * 8) : max(1, Int(exact.rounded()))
        }
        return Array(Set(widths)).sorted()
    }

    /// How far the model cut to `widths` moves from the full model on the inputs: the mean KL of
    /// the class scores (`Sensitivity.divergence`).
    public func score(_ widths: [Int]) throws -> Double {
        try divergence(of: try cut(widths))
    }

    /// The graph cut to `widths`: each group's channels chosen and its consumers refitted by
    /// `ChannelReconstruction`.
    public func cut(_ widths: [Int]) throws -> Graph {
        let cuts = zip(groups.indices, widths).map { reconstruction.cut(group: $0, width: $1) }
        return try Widths.apply(graph, groups: groups, widths: widths, kept: cuts.map(\.kept),
                                replacing: cuts.reduce(into: [:]) { $0.merge($1.replacing) { $1 } })
    }

    /// How far `cut` (the graph cut, and perhaps trained since) moves from the full model on the inputs.
    public func divergence(of cut: Graph) throws -> Double {
        Sensitivity.divergence(reference, try Engine(graph: cut).run([cut.inputs[0].name: inputs])[cut.outputs[0]]!)
    }

    /// The widths of one multiplier α for every group (each group at max(1, round(α·C))
    /// channels), α the largest that fits `budget` to within 1/1000: the uniform width
    /// multiplier of MobileNet, the baseline a search must beat.
    public func uniform(budget: Int) -> [Int] {
        func widths(_ alpha: Double) -> [Int] { groups.map { max(1, Int((alpha * Double($0.channels)).rounded())) } }
        var (low, high) = (0.0, 1.0)
        while high - low > 1e-3 {
            let mid = (low + high) / 2
            if cost.macs(widths(mid)) <= budget { low = mid } else { high = mid }
        }
        return widths(low)
    }

    /// Layer-adaptive L1-norm pruning: each group cut alone to each of its widths from half up
    /// and scored, then channels removed one option at a time from the group whose score grows
    /// least per MAC saved, until `budget` is met (below half, the group least damaged at half
    /// goes on), then groups grown while the budget allows. `progress` hears one line per group.
    public func layerAdaptive(budget: Int, progress: (String) -> Void = { _ in }) throws -> [Int] {
        var random = SplitMix(seed: 1)
        return widths(try prior(budget: budget, random: &random, progress: progress))
    }

    /// The width vector of least score found inside [0.8·budget, budget] MACs, by evolution as
    /// BCNet searches. The first population is `layerAdaptive`'s widths (the prior), the uniform
    /// eighths that fit the window and mutations of the prior. Each generation keeps the best
    /// quarter and breeds the rest by tournament, uniform crossover and mutation (a group one
    /// option up or down), repaired under the budget one random group at a time and then grown
    /// while it fits. `progress` hears one line per group of the prior and per generation.
    public func search(budget: Int, population: Int = 16, generations: Int = 8, seed: UInt64 = 1,
                       progress: (String) -> Void = { _ in }) throws -> [Int] {
        var random = SplitMix(seed: seed)
        let floor = budget * 8 / 10
        let prior = try self.prior(budget: budget, random: &random, progress: progress)
        func mutated(_ picks: [Int], rate: Double) -> [Int] {
            repaired(picks.indices.map { g in
                guard random.unit() < rate else { return picks[g] }
                return min(max(picks[g] + (random.below(2) == 0 ? -1 : 1), 0), options[g].count - 1)
            }, budget: budget, random: &random)
        }
        // Uniform eighths that fit the window, largest first.
        let eighths = (1...8).reversed().map { k in zip(groups, options).map { group, o in o.indices.min { abs(o[$0] * 8 - group.channels * k) < abs(o[$1] * 8 - group.channels * k) }! } }
            .filter { (floor...budget).contains(cost.macs(widths($0))) }
        var pool = [prior] + Array(eighths.prefix(population / 4))
        while pool.count < population { pool.append(mutated(prior, rate: 0.2)) }

        var scored: [[Int]: Double] = [:]
        var ranked: [[Int]] = []
        var meter = ProgressMeter("width search", total: generations, unit: "generations")
        for generation in 0..<generations {
            for picks in pool where scored[picks] == nil { scored[picks] = try score(widths(picks)) }
            ranked = scored.keys.sorted { scored[$0]! < scored[$1]! }
            meter.line(generation + 1, detail: String(format: "best divergence %.4f at %.1fM MACs, %d width vectors scored", scored[ranked[0]]!,
                                                      Double(cost.macs(widths(ranked[0]))) / 1e6, scored.count)).map(progress)
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

    /// Widths of option indices, one per group.
    private func widths(_ picks: [Int]) -> [Int] { zip(options, picks).map { $0[$1] } }

    /// `picks` brought under `budget` one random group at a time, then grown in random order
    /// while the budget allows: more MACs rarely hurt.
    private func repaired(_ picks: [Int], budget: Int, random: inout SplitMix) -> [Int] {
        var picks = picks
        while cost.macs(widths(picks)) > budget {
            let open = picks.indices.filter { picks[$0] > 0 }
            picks[open[random.below(open.count)]] -= 1
        }
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

    /// `layerAdaptive` as option indices.
    private func prior(budget: Int, random: inout SplitMix, progress: (String) -> Void) throws -> [Int] {
        precondition(cost.macs(options.map { $0[0] }) <= budget, "the budget is below the smallest widths")
        var meter = ProgressMeter("width prior", total: groups.count, unit: "channel groups")
        let full = options.map { $0.count - 1 }
        var alone: [[Double]] = options.map { $0.map { _ in 0 } }
        for g in groups.indices {
            let measured = options[g].indices.dropLast().filter { options[g][$0] * 2 >= groups[g].channels }
            for i in measured {
                var picks = full
                picks[g] = i
                alone[g][i] = try score(widths(picks))
            }
            meter.line(g + 1, detail: "\(groups[g].channels) channels cut alone to "
                       + measured.map { String(options[g][$0]) }.joined(separator: ", ") + ": divergence "
                       + measured.map { String(format: "%.3f", alone[g][$0]) }.joined(separator: ", ")).map(progress)
        }
        var picks = full
        while cost.macs(widths(picks)) > budget {
            var best: (g: Int, rate: Double)?
            for g in groups.indices where picks[g] > 0 {
                var down = picks
                down[g] -= 1
                let saved = Double(cost.macs(widths(picks)) - cost.macs(widths(down)))
                // Below half, a group's score is that at half, grown by the channels it loses.
                let half = options[g].firstIndex { $0 * 2 >= groups[g].channels }!
                func estimate(_ i: Int) -> Double { i >= half ? alone[g][i] : alone[g][half] * Double(options[g][half]) / Double(options[g][i]) }
                let rate = (estimate(picks[g] - 1) - estimate(picks[g])) / max(saved, 1)
                if best == nil || rate < best!.rate { best = (g, rate) }
            }
            guard let step = best else { break }
            picks[step.g] -= 1
        }
        return repaired(picks, budget: budget, random: &random)
    }
}
