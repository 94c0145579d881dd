import Foundation
import Graph

/// What a training-free proxy (`Proxy`) reads of each weight layer: its primitives at a fixed
/// random sample of the layer's weight positions, so that evaluating a formula costs the same
/// for a classifier of a million weights as for a 3×3 conv.
///
/// The primitives, per sampled weight:
/// - `w`: the weight;
/// - `e`: its error under the scheme, Q_s(W) − W (per output channel, the scheme's standard rule);
/// - `g`: the root of the Gauss-Newton Hessian's diagonal there, √E[(Jᵀr)²] — the size of the
///   gradient a random output perturbation of the loss's curvature sends it (`curvature`);
/// - `h`: the layer's mean curvature, Tr(G_l) / n_l (HAWQ-V3's), the same for every weight;
/// - `a`: the root mean square of the input channel the weight multiplies (the activations);
/// - `b`: the scheme's bits, log₂ of its levels (int8 7.99, int4 4, int2 2, ternary 1.58).
public struct ProxyInputs: Sendable {
    public struct Layer: Sendable {
        public var name: String
        /// Weights in the layer; a sum over the sample is scaled by count / sampled.
        public var count: Int
        public var w: [Double], g: [Double], a: [Double]
        public var h: Double
        /// `e` per scheme.
        public var e: [Scheme: [Double]]
    }

    public var layers: [Layer]
    public var options: [Scheme]

    /// Measures the primitives of `graph`'s weight layers (`Graph.weightLayers` order) on
    /// `inputs`: one forward and `samples` backward passes per image (`Sensitivity.curvature`),
    /// each layer's weights quantized to every option once, then `sampled` positions per layer
    /// drawn with `seed` (all of them in a smaller layer).
    public static func measure(_ graph: Graph, inputs: Tensor, options: [Scheme], samples: Int = 4, sampled: Int = 1024, seed: UInt64 = 1,
                               progress: (String) -> Void = { _ in }) throws -> ProxyInputs {
        let curvature = try Sensitivity.curvature(graph, inputs: inputs, samples: samples, seed: seed, progress: progress)
        var random = SplitMix(seed: seed)
        let layers = zip(graph.weightLayers(), curvature).map { layer, measured -> Layer in
            let weight = graph.initializers[layer.weight]!, values = weight.floats, n = values.count
            let positions = n <= sampled ? Array(0..<n) : (0..<sampled).map { _ in random.below(n) }
            let channel = inputChannel(of: weight.shape, op: layer.op)
            let errors = options.reduce(into: [Scheme: [Double]]()) { row, scheme in
                let q = Sensitivity.fakeQuantized(weight, channelAxis: Sensitivity.outputAxis(layer.op), scheme: scheme).floats
                row[scheme] = positions.map { Double(q[$0] - values[$0]) }
            }
            return Layer(name: layer.name, count: n, w: positions.map { Double(values[$0]) },
                         g: positions.map { measured.diagonal[$0].squareRoot() },
                         a: positions.map { measured.inputPower[min(channel($0), measured.inputPower.count - 1)].squareRoot() },
                         h: measured.diagonal.reduce(0, +) / Double(max(n, 1)), e: errors)
        }
        return ProxyInputs(layers: layers, options: options)
    }

    /// The input channel the weight at a flat index multiplies: a conv's [M, C/group, k…] weight
    /// reads channel (o / (M / group)) · C/group + c; a Gemm's [M, K] (transB) or [K, M] weight and
    /// a MatMul's [K, M] read k.
    ///
    /// Example: a depthwise conv of 8 channels has weight [8, 1, 3, 3]; index 20 is output 2's
    /// third tap, which reads channel (2 / 1) · 1 + 0 = 2.
    static func inputChannel(of shape: [Int], op: Op) -> (Int) -> Int {
        switch op {
        case .conv(let attributes):
            let perGroup = shape[1], taps = shape.dropFirst(2).reduce(1, *), outputsPerGroup = max(shape[0] / max(attributes.group, 1), 1)
            return { i in (i / (perGroup * taps) / outputsPerGroup) * perGroup + (i / taps) % perGroup }
        case .gemm(_, _, _, true):
            return { $0 % shape[1] }
        default:
            return { $0 / shape[1] }
        }
    }
}
