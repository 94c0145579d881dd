import Foundation
import Graph

/// EMQ's proxy search (Dong et al. 2023): a population of random `Proxy` formulas evolved by
/// tournament selection, crossover and mutation towards the one whose predicted order of
/// measured plans agrees best with their measured quality (Kendall's τ; with the plans of
/// several models, the mean of their τ — EMQ fits one model's, which overfits).
///
/// Each step draws `tournament` members at random; the best two are the parents. The child is a
/// crossover (a random subtree of the first replaced by one of the second) or a copy, then
/// mutated: a new reduction, an operation or primitive swapped for another of its kind, or a
/// subtree regrown. Compatibility screening rejects a child that cannot tell schemes apart, has
/// more than `maxSize` nodes or gives a value that is not finite; diversity-prompting rejects one
/// that is already in the population or orders the plans exactly as a member does. The child then
/// replaces the worst member (ties: the larger formula goes).
public enum ProxyEvolution {
    /// A measured plan: its scheme per layer (`ProxyInputs` order) and its quality (higher: better).
    public struct Sample: Sendable {
        public var choices: [Scheme]
        public var quality: Double

        public init(choices: [Scheme], quality: Double) {
            self.choices = choices
            self.quality = quality
        }
    }

    /// One model's primitives and its measured plans.
    public struct Problem: Sendable {
        public var inputs: ProxyInputs
        public var samples: [Sample]

        public init(inputs: ProxyInputs, samples: [Sample]) {
            self.inputs = inputs
            self.samples = samples
        }
    }

    public struct Candidate: Sendable {
        public var proxy: Proxy
        /// The mean τ on the problems it was evolved on.
        public var fitness: Double
    }

    public struct Settings: Sendable {
        public var population = 48
        public var iterations = 3000
        public var tournament = 8
        public var maxSize = 12
        public var seed: UInt64 = 1

        public init() {}
    }

    /// Kendall's τ between the samples' quality and −ΣΩ of `proxy` over each plan's layers; nil
    /// when the proxy fails screening.
    public static func fitness(_ proxy: Proxy, _ inputs: ProxyInputs, _ samples: [Sample]) -> Double? {
        guard let predicted = predictions(proxy, inputs, samples) else { return nil }
        return kendallTau(samples.map(\.quality), predicted)
    }

    /// −ΣΩ per sample (higher: predicted better); nil when Ω is not finite or the same for every plan.
    static func predictions(_ proxy: Proxy, _ inputs: ProxyInputs, _ samples: [Sample]) -> [Double]? {
        guard let sensitivity = proxy.sensitivity(inputs) else { return nil }
        let predicted = samples.map { sample in -zip(sensitivity.omega, sample.choices).reduce(0) { $0 + $1.0[$1.1]! } }
        guard predicted.allSatisfy(\.isFinite), Set(predicted).count > 1 else { return nil }
        return predicted
    }

    /// The population after `settings.iterations` children, best first. `progress` hears a line
    /// every 250 children.
    public static func evolve(_ problems: [Problem], settings: Settings = Settings(), progress: (String) -> Void = { _ in }) -> [Candidate] {
        var random = SplitMix(seed: settings.seed)
        var population: [(candidate: Candidate, order: [Int])] = []
        var seen = Set<String>(), orders = Set<[Int]>()
        func admit(_ proxy: Proxy) -> Bool {
            guard proxy.expression.size <= settings.maxSize, !seen.contains(proxy.description) else { return false }
            var order: [Int] = [], fitness = 0.0
            for problem in problems {
                guard let predicted = predictions(proxy, problem.inputs, problem.samples) else { return false }
                order += predicted.indices.sorted { predicted[$0] < predicted[$1] || (predicted[$0] == predicted[$1] && $0 < $1) }
                fitness += kendallTau(problem.samples.map(\.quality), predicted) / Double(problems.count)
            }
            guard !orders.contains(order) else { return false }
            population.append((Candidate(proxy: proxy, fitness: fitness), order))
            seen.insert(proxy.description)
            orders.insert(order)
            return true
        }
        var tries = 0
        while population.count < settings.population, tries < settings.population * 1000 {
            tries += 1
            _ = admit(Proxy(reduction: Proxy.Reduction.allCases[random.below(3)], expression: grow(depth: 3, &random)))
        }
        func worse(_ x: Candidate, _ y: Candidate) -> Bool {
            x.fitness < y.fitness || (x.fitness == y.fitness && x.proxy.expression.size > y.proxy.expression.size)
        }
        guard population.count >= 2 else { return population.map(\.candidate) }
        let started = Date()
        for step in 1...max(settings.iterations, 1) {
            let drawn = (0..<settings.tournament).map { _ in population[random.below(population.count)].candidate }
                .sorted { worse($1, $0) }
            for _ in 0..<50 {
                var child = random.unit() < 0.5 ? crossover(drawn[0].proxy, drawn[min(1, drawn.count - 1)].proxy, &random) : drawn[0].proxy
                child = mutate(child, &random)
                if admit(child) { break }
            }
            if population.count > settings.population, let worst = population.indices.min(by: { worse(population[$0].candidate, population[$1].candidate) }) {
                let gone = population.remove(at: worst)
                seen.remove(gone.candidate.proxy.description)
                orders.remove(gone.order)
            }
            if step % 250 == 0 || step == settings.iterations {
                let best = population.map(\.candidate).max { worse($0, $1) }!
                progress(String(format: "  %d/%d children, %.0f s: best tau %.3f, %@", step, settings.iterations,
                                Date().timeIntervalSince(started), best.fitness, best.proxy.description))
            }
        }
        return population.map(\.candidate).sorted { worse($1, $0) }
    }

    /// A random expression at most `depth` operations deep.
    static func grow(depth: Int, _ random: inout SplitMix) -> Proxy.Expression {
        if depth == 0 || random.unit() < 0.3 { return .primitive(Proxy.Primitive.allCases[random.below(Proxy.Primitive.allCases.count)]) }
        if random.unit() < 0.5 { return .unary(Proxy.Unary.allCases[random.below(Proxy.Unary.allCases.count)], grow(depth: depth - 1, &random)) }
        return .binary(Proxy.Binary.allCases[random.below(Proxy.Binary.allCases.count)], grow(depth: depth - 1, &random), grow(depth: depth - 1, &random))
    }

    /// `first` with a random subtree replaced by a random subtree of `second`.
    static func crossover(_ first: Proxy, _ second: Proxy, _ random: inout SplitMix) -> Proxy {
        let donor = subtree(second.expression, at: random.below(second.expression.size))
        return Proxy(reduction: first.reduction, expression: replacing(first.expression, at: random.below(first.expression.size)) { _ in donor })
    }

    /// A new reduction, one node's operation or primitive swapped for another of its kind, or a
    /// subtree regrown (each a third of the time).
    static func mutate(_ proxy: Proxy, _ random: inout SplitMix) -> Proxy {
        var child = proxy
        let choice = random.below(3), at = random.below(proxy.expression.size)
        switch choice {
        case 0: child.reduction = Proxy.Reduction.allCases[random.below(Proxy.Reduction.allCases.count)]
        case 1:
            child.expression = replacing(proxy.expression, at: at) { node in
                switch node {
                case .primitive: return .primitive(Proxy.Primitive.allCases[random.below(Proxy.Primitive.allCases.count)])
                case .unary(_, let x): return .unary(Proxy.Unary.allCases[random.below(Proxy.Unary.allCases.count)], x)
                case .binary(_, let x, let y): return .binary(Proxy.Binary.allCases[random.below(Proxy.Binary.allCases.count)], x, y)
                }
            }
        default: child.expression = replacing(proxy.expression, at: at) { _ in grow(depth: 2, &random) }
        }
        return child
    }

    /// The subtree at a pre-order index.
    static func subtree(_ x: Proxy.Expression, at index: Int) -> Proxy.Expression {
        var found = x
        _ = replacing(x, at: index) { node in
            found = node
            return node
        }
        return found
    }

    /// `x` with the subtree at a pre-order index replaced by `change` of it.
    static func replacing(_ x: Proxy.Expression, at index: Int, _ change: (Proxy.Expression) -> Proxy.Expression) -> Proxy.Expression {
        if index == 0 { return change(x) }
        switch x {
        case .primitive: return x
        case .unary(let f, let y): return .unary(f, replacing(y, at: index - 1, change))
        case .binary(let f, let y, let z):
            return index - 1 < y.size ? .binary(f, replacing(y, at: index - 1, change), z) : .binary(f, y, replacing(z, at: index - 1 - y.size, change))
        }
    }

    /// Kendall's τ-b of two equally long sequences: 1 when their orders agree, −1 when reversed,
    /// ties counted as neither.
    /// Example: [1, 2, 3] against [1, 3, 2] → (2 − 1) / 3 ≈ 0.333.
    public static func kendallTau(_ a: [Double], _ b: [Double]) -> Double {
        var concordant = 0.0, discordant = 0.0, tiedA = 0.0, tiedB = 0.0
        for i in a.indices {
            for j in a.indices where j > i {
                let x = a[i] - a[j], y = b[i] - b[j]
                if x == 0, y == 0 { continue }
                if x == 0 { tiedA += 1 } else if y == 0 { tiedB += 1 } else if (x > 0) == (y > 0) { concordant += 1 } else { discordant += 1 }
            }
        }
        let denominator = ((concordant + discordant + tiedA) * (concordant + discordant + tiedB)).squareRoot()
        return denominator > 0 ? (concordant - discordant) / denominator : 0
    }
}
