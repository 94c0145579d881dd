import Engine
import Foundation
import Graph

/// Data-free calibration (ZeroQ, Cai et al. 2020): a synthetic batch distilled from the model
/// itself, so that at every BatchNormalization the batch's per-channel mean and standard
/// deviation match the running statistics the BN layer learned on the real data.
public enum ZeroQ {
    public struct MissingStatistics: Error, CustomStringConvertible {
        public let description: String
    }

    /// The BatchNormalization nodes whose running mean and variance are constants.
    static func statisticsNodes(_ graph: Graph) -> [Node] {
        graph.nodes.filter { node in
            guard case .batchNorm = node.op else { return false }
            return graph.initializers[node.inputs[3]] != nil && graph.initializers[node.inputs[4]] != nil
        }
    }

    /// `count` inputs for `graph` (which must still hold its BatchNormalization nodes, as
    /// imported), from Gaussian noise, by `iterations` Adam steps on the pixels minimizing
    /// Σ over BN nodes of mean over channels of (μ_batch − μ_bn)² + (σ_batch − σ_bn)², σ = √(var + ε).
    /// `progress` hears (iteration, loss) every 50 iterations.
    public static func distill(_ graph: Graph, count: Int, iterations: Int = 200, learningRate: Double = 0.2, seed: UInt64 = 1,
                               progress: (Int, Double) -> Void = { _, _ in }) throws -> Tensor {
        let nodes = statisticsNodes(graph)
        guard !nodes.isEmpty else {
            throw MissingStatistics(description: "the model has no BatchNormalization statistics to distil calibration data from (ZeroQ); "
                + "its BatchNorm layers were folded before export. Give real images with --data DIR --prep P")
        }
        guard let input = graph.inputs.first, input.shape.count == 4 else {
            throw MissingStatistics(description: "data-free calibration takes models with one NCHW image input")
        }
        let tape = Tape<Float>(graph: graph)
        var random = SplitMix(seed: seed)
        let shape = [count] + input.shape.dropFirst()
        var pixels = ["x": Buffer<Float>(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in gaussian(&random) })]
        var adam = Adam(learningRate: learningRate)
        for iteration in 1...max(iterations, 1) {
            try tape.forward([input.name: pixels["x"]!])
            var seeds: [String: Buffer<Float>] = [:]
            var loss = 0.0
            for node in nodes {
                let z = tape.values[node.inputs[0]]!
                guard case .batchNorm(let epsilon) = node.op else { continue }
                let (term, gradient) = statisticsLoss(z, mean: graph.initializers[node.inputs[3]]!.floats,
                                                      variance: graph.initializers[node.inputs[4]]!.floats, epsilon: epsilon)
                loss += term
                seeds[node.inputs[0]] = seeds[node.inputs[0]].map { $0 + gradient } ?? gradient
            }
            let gradients = try tape.backward(seeds)
            adam.step(&pixels, gradients: ["x": gradients[input.name]!], trainable: ["x"])
            if iteration % 50 == 0 || iteration == iterations { progress(iteration, loss) }
        }
        return pixels["x"]!.tensor
    }

    /// mean over channels of (μ − μ_bn)² + (σ − σ_bn)² for z [N, C, …], and its gradient in z.
    static func statisticsLoss(_ z: Buffer<Float>, mean: [Float], variance: [Float], epsilon: Float) -> (Double, Buffer<Float>) {
        let channels = z.shape[1], inner = z.shape.dropFirst(2).reduce(1, *), m = Float(z.count / max(channels, 1))
        let (batchMean, batchVariance) = z.channelStatistics()
        let batchStd = batchVariance.map { ($0 + epsilon).squareRoot() }
        var loss = 0.0
        var dMean = [Float](repeating: 0, count: channels), dStd = [Float](repeating: 0, count: channels)
        for c in 0..<channels {
            let (a, b) = (batchMean[c] - mean[c], batchStd[c] - (variance[c] + epsilon).squareRoot())
            loss += Double(a * a + b * b) / Double(channels)
            (dMean[c], dStd[c]) = (2 * a / Float(channels), 2 * b / Float(channels))
        }
        var gradient = Buffer<Float>(zeros: z.shape)
        for i in 0..<z.count {
            let c = (i / inner) % channels
            gradient.values[i] = dMean[c] / m + dStd[c] * (z.values[i] - batchMean[c]) / (m * batchStd[c])
        }
        return (loss, gradient)
    }

    /// A standard normal value (Box–Muller).
    private static func gaussian(_ random: inout SplitMix) -> Float {
        let u = (Double(random.next() >> 11) + 0.5) / Double(1 << 53), v = Double(random.next() >> 11) / Double(1 << 53)
        return Float((-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v))
    }
}
