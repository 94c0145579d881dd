import Engine
import Foundation
import Graph
import Training

/// Data-free calibration (ZeroQ, Cai et al. 2020): a synthetic batch distilled from the model
/// itself, so that at chosen tensors the batch's per-channel mean and standard deviation match
/// statistics the model learned on real data: the running statistics at every
/// BatchNormalization's input, or, for a model whose BatchNorm was folded into its convolutions,
/// the statistics of those convolutions' outputs kept in a separate file.
public enum ZeroQ {
    public struct MissingStatistics: Error, CustomStringConvertible {
        public let description: String
    }

    /// Per-channel mean and variance that the distilled batch should show at `tensor`; both
    /// sides' standard deviations are taken as √(variance + epsilon), as BatchNormalization's.
    public struct Target: Sendable {
        public var tensor: String
        public var mean: [Float]
        public var variance: [Float]
        public var epsilon: Float
    }

    /// The epsilon of targets from a statistics file: keeps the gradient finite at channels whose
    /// variance is 0.
    static let foldedEpsilon: Float = 1e-5

    /// The statistics to distil towards in `graph`. Without `folded`: at each BatchNormalization
    /// node's input, its running mean and variance. With `folded` (a model whose
    /// BatchNorm was folded away): at the output of each Conv whose weight initializer is
    /// named W, `folded["W.mean"]` and `folded["W.variance"]`, the mean β and variance
    /// γ²·var/(var + ε) that the BN layer gave its output. Example: a BN with γ = 2, β = 0.5,
    /// var = 1, ε = 0 after conv weight "c.weight" gives "c.weight.mean" = [0.5] and
    /// "c.weight.variance" = [4]: the target at the conv's output is mean 0.5, standard deviation 2.
    public static func targets(_ graph: Graph, folded: [String: Tensor]? = nil) throws -> [Target] {
        guard let folded else {
            let targets = graph.nodes.compactMap { node -> Target? in
                guard case .batchNorm(let epsilon) = node.op, let mean = graph.initializers[node.inputs[3]],
                      let variance = graph.initializers[node.inputs[4]] else { return nil }
                return Target(tensor: node.inputs[0], mean: mean.floats, variance: variance.floats, epsilon: epsilon)
            }
            guard !targets.isEmpty else {
                throw MissingStatistics(description: "the model has no BatchNormalization statistics to distil calibration data from (ZeroQ); "
                    + "its BatchNorm layers were folded before export. Give real images with --data DIR --prep P, or the folded "
                    + "layers' statistics with --bn-statistics FILE.npz")
            }
            return targets
        }
        var targets: [Target] = [], used = Set<String>()
        for node in graph.nodes {
            guard case .conv = node.op, node.inputs.count > 1, let mean = folded[node.inputs[1] + ".mean"],
                  let variance = folded[node.inputs[1] + ".variance"] else { continue }
            let weight = node.inputs[1], channels = graph.initializers[weight]?.shape.first ?? -1, variances = variance.floats
            guard mean.count == channels, variance.count == channels, variances.allSatisfy({ $0 >= 0 }) else {
                throw MissingStatistics(description: "statistics of '\(weight)': expected \(channels) channel means and non-negative variances, "
                    + "found \(mean.count) and \(variance.count)")
            }
            targets.append(Target(tensor: node.outputs[0], mean: mean.floats, variance: variances, epsilon: foldedEpsilon))
            used.formUnion([weight + ".mean", weight + ".variance"])
        }
        if let stray = folded.keys.sorted().first(where: { !used.contains($0) }) {
            throw MissingStatistics(description: "'\(stray)' names no Conv weight of the model (keys are <weight>.mean and <weight>.variance)")
        }
        guard !targets.isEmpty else { throw MissingStatistics(description: "the statistics file holds no arrays") }
        return targets
    }

    /// Optimizer steps `distill` takes by default.
    public static let iterations = 100

    /// `count` inputs for `graph` distilled from Gaussian noise by `iterations` Adam steps on the
    /// pixels minimizing Σ over `targets` of mean over channels of (μ_batch − μ)² + (σ_batch − σ)²,
    /// σ = √(variance + ε). A classifier (one output [N, K], K > 1) also gets the cross-entropy of
    /// each input against a class drawn for it, as in GDFQ (Xu et al. 2020): statistics alone give
    /// inputs no class stands out on, whose small logits would calibrate the output range too
    /// narrow (the top logits clipped, top-1 lost among ties).
    /// The batch is split over `shards` tapes run on threads of their own (OpenBLAS on one thread
    /// each); the statistics, the loss and every gradient are those of the whole batch.
    /// `progress` hears (iteration, loss) every 10 iterations.
    public static func distill(_ graph: Graph, targets: [Target], count: Int, iterations: Int = ZeroQ.iterations, learningRate: Double = 0.2,
                               seed: UInt64 = 1, shards: Int = min(2, ProcessInfo.processInfo.activeProcessorCount),
                               progress: (Int, Double) -> Void = { _, _ in }) throws -> Tensor {
        guard let input = graph.inputs.first, input.shape.count == 4 else {
            throw MissingStatistics(description: "data-free calibration takes models with one NCHW image input")
        }
        var random = SplitMix(seed: seed)
        let shape = [count] + input.shape.dropFirst()
        var pixels = ["x": Buffer<Float>(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in gaussian(&random) })]
        var adam = Adam(learningRate: learningRate)
        let output = graph.outputs.count == 1 ? graph.outputs[0] : nil
        var labels: [Int]?
        let sharded = ShardedTape(graph: graph, count: count, shards: shards)
        let parts = sharded.shards
        try Engine.withSingleThreadedBLAS {
            for iteration in 1...max(iterations, 1) {
                let outputs = try sharded.forward([input.name: pixels["x"]!])
                var seeds = [[String: Buffer<Float>]](repeating: [:], count: parts)
                var loss = 0.0
                if let output, let first = outputs[0][output], first.shape.count == 2, first.shape[1] > 1 {
                    let classes = first.shape[1]
                    if labels == nil { labels = (0..<count).map { _ in Int(random.next() % UInt64(classes)) } }
                    let logits = Buffer(shape: [count, classes], values: outputs.flatMap { $0[output]!.values })
                    let (term, gradient) = Loss.crossEntropy(logits, labels: labels!)
                    loss += Double(term)
                    for s in 0..<parts { seeds[s][output] = sharded.slice(gradient, s) }
                }
                for target in targets {
                    let (term, gradients) = statisticsLoss(sharded.values(target.tensor), target)
                    loss += term
                    for s in 0..<parts { seeds[s][target.tensor] = seeds[s][target.tensor].map { $0 + gradients[s] } ?? gradients[s] }
                }
                let gradients = try sharded.backward(seeds, parameters: false).map { $0[input.name]! }
                adam.step(&pixels, gradients: ["x": Buffer(shape: shape, values: gradients.flatMap(\.values))], trainable: ["x"])
                if iteration % 10 == 0 || iteration == iterations { progress(iteration, loss) }
            }
        }
        return pixels["x"]!.tensor
    }

    /// mean over channels of (μ_batch − μ)² + (σ_batch − σ)² against `target` for a batch z
    /// [N, C, …] held in parts (split along N), and its gradient in each part; σ_batch =
    /// √(biased batch variance + ε).
    static func statisticsLoss(_ parts: [Buffer<Float>], _ target: Target) -> (Double, [Buffer<Float>]) {
        let channels = parts[0].shape[1], inner = parts[0].shape.dropFirst(2).reduce(1, *)
        let total = parts.reduce(0) { $0 + $1.count }, m = Float(total / max(channels, 1))
        // The batch's statistics from the parts': means weighted by size, variances by the
        // parallel-axis rule (each part's variance plus its mean's squared distance).
        let statistics = parts.map { $0.channelStatistics() }
        var batchMean = [Float](repeating: 0, count: channels), batchVariance = [Float](repeating: 0, count: channels)
        for (part, (mean, _)) in zip(parts, statistics) {
            let weight = Float(part.count) / Float(total)
            for c in 0..<channels { batchMean[c] += weight * mean[c] }
        }
        for (part, (mean, variance)) in zip(parts, statistics) {
            let weight = Float(part.count) / Float(total)
            for c in 0..<channels { batchVariance[c] += weight * (variance[c] + (mean[c] - batchMean[c]) * (mean[c] - batchMean[c])) }
        }
        let batchStd = batchVariance.map { ($0 + target.epsilon).squareRoot() }
        var loss = 0.0
        var dMean = [Float](repeating: 0, count: channels), dStd = [Float](repeating: 0, count: channels)
        for c in 0..<channels {
            let (a, b) = (batchMean[c] - target.mean[c], batchStd[c] - (target.variance[c] + target.epsilon).squareRoot())
            loss += Double(a * a + b * b) / Double(channels)
            (dMean[c], dStd[c]) = (2 * a / Float(channels), 2 * b / Float(channels))
        }
        // ∂/∂z = dMean/m + dStd · (z − μ_batch) / (m · σ_batch): per channel, scale · z + shift.
        let scale = (0..<channels).map { dStd[$0] / (m * batchStd[$0]) }
        let shift = (0..<channels).map { dMean[$0] / m - scale[$0] * batchMean[$0] }
        let gradients = parts.map { z in
            Buffer(shape: z.shape, values: [Float](unsafeUninitializedCapacity: z.count) { out, initialized in
                z.values.withUnsafeBufferPointer { values in
                    for plane in 0..<z.count / max(inner, 1) {
                        let (a, b) = (scale[plane % channels], shift[plane % channels])
                        for p in plane * inner..<(plane + 1) * inner { out[p] = a * values[p] + b }
                    }
                }
                initialized = z.count
            })
        }
        return (loss, gradients)
    }

    /// A standard normal value (Box–Muller).
    private static func gaussian(_ random: inout SplitMix) -> Float {
        let u = (Double(random.next() >> 11) + 0.5) / Double(1 << 53), v = random.unit()
        return Float((-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v))
    }
}
