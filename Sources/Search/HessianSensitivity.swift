import Engine
import Foundation
import Graph
import Quantize
import Training

extension Sensitivity {
    /// HAWQ-V3's sensitivity (Yao et al. 2021): Ω(l, s) = Tr(H_l) / n_l · ‖Q_s(W_l) − W_l‖², the
    /// mean curvature of the loss along layer l's n_l weights times the squared error scheme s
    /// puts on them (per output channel, by the scheme's standard scale rule).
    ///
    /// Tr(H_l) is the Gauss-Newton Hessian's, by Hutchinson's estimator (`hessianTraces`).
    ///
    /// Example: a layer of 4 weights with Tr(H_l) = 8 (2 per weight) whose int4 rounding moves
    /// them by 0.01, 0.02, 0, 0.01 has Ω(l, int4) = 2 · 0.0006 = 0.0012.
    public static func hawq(_ graph: Graph, inputs: Tensor, options: [Scheme], samples: Int = 4, seed: UInt64 = 1,
                            progress: (String) -> Void = { _ in }) throws -> Sensitivity {
        let traces = try hessianTraces(graph, inputs: inputs, samples: samples, seed: seed, progress: progress)
        let layers = graph.weightLayers()
        let omega = zip(layers, weightErrors(graph, options: options)).map { layer, row in
            let perWeight = traces[layer.name]! / Double(max(graph.initializers[layer.weight]!.count, 1))
            return row.mapValues { perWeight * $0 }
        }
        return Sensitivity(layers: layers.map(\.name), omega: omega)
    }

    /// ‖Q_s(W_l) − W_l‖² per weight layer (`Graph.weightLayers` order) and scheme s: the squared
    /// error of its weights quantized per output channel by the scheme's standard scale rule.
    public static func weightErrors(_ graph: Graph, options: [Scheme]) -> [[Scheme: Double]] {
        graph.weightLayers().map { layer -> [Scheme: Double] in
            let weight = graph.initializers[layer.weight]!, w = weight.floats
            return options.reduce(into: [:]) { row, scheme in
                let q = fakeQuantized(weight, channelAxis: outputAxis(layer.op), scheme: scheme).floats
                row[scheme] = zip(q, w).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
            }
        }
    }

    /// Tr(G_l) per weight layer (by node name): the sum of `curvature`'s diagonal, the trace of
    /// the block on layer l's weights of the loss's Gauss-Newton Hessian.
    public static func hessianTraces(_ graph: Graph, inputs: Tensor, samples: Int = 4, seed: UInt64 = 1,
                                     progress: (String) -> Void = { _ in }) throws -> [String: Double] {
        let measured = try curvature(graph, inputs: inputs, samples: samples, seed: seed, progress: progress)
        return Dictionary(uniqueKeysWithValues: zip(graph.weightLayers(), measured).map { ($0.name, $1.diagonal.reduce(0, +)) })
    }

    /// What one pass over `inputs` learns of each weight layer (`Graph.weightLayers` order).
    public struct LayerCurvature: Sendable {
        /// diag(G_l), one entry per weight (the weight tensor's order), G = Jᵀ H_out J the loss's
        /// Gauss-Newton Hessian: J the Jacobian of the outputs by the weights and H_out the loss's
        /// curvature in the outputs — for softmax cross-entropy and for KL to the float model alike
        /// diag(p) − ppᵀ per image (labels do not enter); for outputs that are no class scores, the
        /// mean squared difference's 2/M · I. G is the Hessian less a term that vanishes at a
        /// trained minimum, and positive semi-definite. The mean over the inputs.
        public var diagonal: [Double]
        /// The mean square of each channel of the layer's input (axis 1 of a conv's or Gemm's, the
        /// last of a MatMul's) over the inputs and positions.
        public var inputPower: [Double]
    }

    /// The Gauss-Newton diagonal of every weight layer, by Hutchinson's estimator applied where G
    /// has low rank, in the outputs: diag(Jᵀ H J) = E[(Jᵀr)²] elementwise for any random r with
    /// E[rrᵀ] = H, ξ a Rademacher vector — for class scores r = (I − p1ᵀ)·diag(√p)·ξ, as
    /// diag(p) − ppᵀ = (I − p1ᵀ) diag(p) (I − 1pᵀ), else r = √(2/M)·ξ. (Drawing a label y from p
    /// and r = e_y − p has the same E[rrᵀ] but almost never leaves a confident model's top class:
    /// 10⁻⁵ of the trace on MNIST in 512 draws.) Each Jᵀr is one backward pass of one image
    /// through the `Tape`, `samples` per image; the forward pass gives the layers' input power.
    /// Weight-space Hutchinson (vᵀGv over Rademacher weight vectors, Gv through finite
    /// differences) measured ±40–100 % standard errors on Lite0's layers with 16 vectors, and
    /// differences of gradients worse (Relu6 kinks: traces of −2,330 ± 750); this one is a mean of
    /// non-negative terms.
    ///
    /// Example: one output y = w·x (M = 1, x = 3) under the mean squared difference: H = 2,
    /// r = ±√2, Jᵀr = ±3√2 and (Jᵀr)² = 18 = Jᵀ H J = 2 · 3² at every sample; the input power is 9.
    public static func curvature(_ graph: Graph, inputs: Tensor, samples: Int = 4, seed: UInt64 = 1,
                                 progress: (String) -> Void = { _ in }) throws -> [LayerCurvature] {
        let input = graph.inputs[0].name, output = graph.outputs[0]
        let count = inputs.shape[0], each = inputs.count / max(count, 1), pixels = inputs.floats
        let layers = graph.weightLayers()
        let threads = 2, bounds = (0...threads).map { $0 * count / threads }
        let report = progress
        let parts = try Engine.withSingleThreadedBLAS {
            try concurrentMap(threads) { part -> [LayerCurvature] in
                let tape = Tape<Float>(graph: graph)
                var random = SplitMix(seed: seed &+ UInt64(part))
                var sums = layers.map { LayerCurvature(diagonal: [Double](repeating: 0, count: graph.initializers[$0.weight]!.count), inputPower: []) }
                for n in bounds[part]..<bounds[part + 1] {
                    let image = Buffer(shape: [1] + inputs.shape.dropFirst(), values: Array(pixels[n * each..<(n + 1) * each]))
                    let scores = try tape.forward([input: image])[output]!
                    for (l, layer) in layers.enumerated() {
                        let power = channelPower(tape.values[layer.input]!, channelAxis: layer.op == .matMul ? -1 : 1)
                        sums[l].inputPower = sums[l].inputPower.isEmpty ? power : zip(sums[l].inputPower, power).map(+)
                    }
                    let classifier = Tensor.holdsClassScores(scores.shape)
                    let p = classifier ? softmax(scores.values[...]) : []
                    for _ in 0..<max(samples, 1) {
                        var r = [Float](repeating: 0, count: scores.count)
                        if classifier {
                            let s = p.map { random.next() & 1 == 0 ? -$0.squareRoot() : $0.squareRoot() }
                            let total = s.reduce(0, +)
                            for k in r.indices { r[k] = Float(s[k] - p[k] * total) }
                        } else {
                            let size = Float((2 / Double(r.count)).squareRoot())
                            for k in r.indices { r[k] = random.next() & 1 == 0 ? -size : size }
                        }
                        let gradients = try tape.backward([output: Buffer(shape: scores.shape, values: r)])
                        for (l, layer) in layers.enumerated() {
                            guard let g = gradients[layer.weight] else { continue }
                            for (i, value) in g.values.enumerated() { sums[l].diagonal[i] += Double(value) * Double(value) }
                        }
                    }
                    if part == 0 { report("  Hessian diagonal: \(min((n + 1) * threads, count))/\(count) images") }
                }
                return sums
            }
        }
        let images = Double(max(count, 1))
        return layers.indices.map { l in
            let total = parts.dropFirst().reduce(parts[0][l]) { sum, part in
                LayerCurvature(diagonal: zip(sum.diagonal, part[l].diagonal).map(+),
                               inputPower: part[l].inputPower.isEmpty ? sum.inputPower
                                   : sum.inputPower.isEmpty ? part[l].inputPower : zip(sum.inputPower, part[l].inputPower).map(+))
            }
            return LayerCurvature(diagonal: total.diagonal.map { $0 / (images * Double(max(samples, 1))) },
                                  inputPower: total.inputPower.map { $0 / images })
        }
    }

    /// The mean square of each channel of `value` (one image), channels on `channelAxis` (−1: the last).
    static func channelPower(_ value: Buffer<Float>, channelAxis: Int) -> [Double] {
        let axis = channelAxis < 0 ? value.shape.count - 1 : channelAxis
        let channels = value.shape[axis], inner = value.shape[(axis + 1)...].reduce(1, *)
        var power = [Double](repeating: 0, count: channels)
        for (i, x) in value.values.enumerated() { power[(i / inner) % channels] += Double(x) * Double(x) }
        let positions = Double(max(value.values.count / max(channels, 1), 1))
        return power.map { $0 / positions }
    }
}
