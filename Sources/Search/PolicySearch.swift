import Foundation
import Graph

/// FLIQS's search (Dotzel et al. 2024): a categorical policy per layer over its schemes, trained
/// by REINFORCE. Each step samples a plan, measures its quality Q (the caller's fast simulation
/// on a batch of images) and cost C, and rewards R = Q − β·|C / C_target − 1|; the policy's
/// logits move along (R − b)·∇log π(plan), b an exponential moving average of past rewards. The
/// penalty pulls the cost to the target from both sides, so the search spends the budget rather
/// than hoarding it.
///
/// The policy's last probabilities are projected onto the budgets: the allocator's exact plan
/// with Ω(l, s) = −log π_l(s), the likeliest plan that meets every budget (the policy's own most
/// likely plan rarely does: the penalty is soft). The answer is whichever measures the higher Q,
/// that one or the best feasible plan sampled on the way.
///
/// Example: with two layers, target 100 and costs int8 60 / int4 30 per layer, β = 1: int8 +
/// int8 (C = 120) is rewarded Q − 0.2, int8 + int4 (C = 90) Q − 0.1; the policy drifts to the
/// plan whose quality loss is worth less than its distance from the target.
public enum PolicySearch {
    public struct Settings: Sendable {
        /// Sampled plans.
        public var steps = 200
        /// Weight of the cost penalty, in units of Q.
        public var beta = 2.0
        public var learningRate = 0.2
        /// How fast the baseline follows the rewards.
        public var baselineDecay = 0.9
        public var seed: UInt64 = 1
        /// The policy's starting probabilities, per scheme (renormalized over a layer's options).
        /// Mostly int8: from a uniform start nearly every sampled Lite0 plan has some 2-bit layer
        /// that breaks the model (the reward baseline stayed at KL ≈ 6 over the first 70 plans),
        /// and the rewards carry no signal.
        public var prior: [Scheme: Double] = [.int8: 0.6, .int4: 0.3, .int2: 0.05, .ternary: 0.05]

        public init() {}
    }

    /// What the search found.
    public struct Outcome {
        /// The best plan sampled that met every budget, with its Q.
        public var sampled: (plan: Plan, quality: Double)?
        /// The policy at the end: per layer, the probability of each of its options.
        public var probabilities: [[Double]]
    }

    /// Trains the policy over `layers`, layer i taking one of `options[i]`; `cost` prices a plan
    /// in the target's unit, `feasible` says whether it meets every budget, `quality` measures it
    /// (higher is better). `progress` hears a line every 10 steps.
    public static func train(layers: [String], options: [[Scheme]], cost: (Plan) -> Double, target: Double, feasible: (Plan) -> Bool,
                             quality: (Plan) throws -> Double, settings: Settings = Settings(),
                             progress: (String) -> Void = { _ in }) throws -> Outcome {
        var logits = options.map { row in row.map { log(settings.prior[$0] ?? 1e-3) } }
        var random = SplitMix(seed: settings.seed)
        var baseline: Double?
        var best: (plan: Plan, quality: Double)?
        var meter = ProgressMeter("FLIQS", total: max(settings.steps, 1), unit: "steps")
        for step in 1...max(settings.steps, 1) {
            let probabilities = logits.map { Sensitivity.softmax($0) }
            let picks = probabilities.map { p -> Int in
                var u = random.unit(), k = 0
                while k < p.count - 1, u >= p[k] { u -= p[k]; k += 1 }
                return k
            }
            let plan = Plan(layers: layers.indices.map { Plan.Layer(name: layers[$0], weights: options[$0][picks[$0]]) })
            let q = try quality(plan)
            if feasible(plan), q > best?.quality ?? -.infinity { best = (plan, q) }
            let reward = q - settings.beta * abs(cost(plan) / target - 1)
            let advantage = reward - (baseline ?? reward)
            baseline = baseline.map { settings.baselineDecay * $0 + (1 - settings.baselineDecay) * reward } ?? reward
            for i in logits.indices {
                for k in logits[i].indices {
                    logits[i][k] += settings.learningRate * advantage * ((k == picks[i] ? 1 : 0) - probabilities[i][k])
                }
            }
            let bestText = best.map { String(format: "best feasible Q %.4f", $0.quality) } ?? "no feasible plan yet"
            meter.line(step, detail: String(format: "reward %.4f, baseline %.4f, %@", reward, baseline!, bestText)).map(progress)
        }
        return Outcome(sampled: best, probabilities: logits.map { Sensitivity.softmax($0) })
    }
}
