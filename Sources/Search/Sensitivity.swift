import Engine
import Foundation
import Graph
import Quantize

/// How much the model's output suffers when one weight layer takes a scheme: Ω(layer, scheme),
/// the table a bit-width allocator chooses from.
public struct Sensitivity: Sendable {
    /// The weight layers in node order (`Graph.weightLayers`).
    public var layers: [String]
    /// Ω per layer (same order) and scheme.
    public var omega: [[Scheme: Double]]

    public init(layers: [String], omega: [[Scheme: Double]]) {
        self.layers = layers
        self.omega = omega
    }

    /// ZeroQ's sensitivity (Cai et al. 2020): Ω(l, s) = the mean over `inputs` of
    /// KL(softmax(float logits) ‖ softmax(logits with only layer l's weights quantized to s)),
    /// weights per output channel by the scheme's standard scale rule, activations float. For a
    /// model whose output is no vector of class scores: the squared difference of the outputs
    /// over the float outputs' squared deviation from their mean. On distilled inputs it needs
    /// no data. `progress` hears one line per layer.
    public static func zeroQ(_ graph: Graph, inputs: Tensor, options: [Scheme], progress: (String) -> Void = { _ in }) throws -> Sensitivity {
        let inputName = graph.inputs[0].name, output = graph.outputs[0]
        let reference = try Engine(graph: graph).run([inputName: inputs])[output]!
        let layers = graph.weightLayers()
        var omega: [[Scheme: Double]] = []
        for (index, layer) in layers.enumerated() {
            let weight = graph.initializers[layer.weight]!
            var row: [Scheme: Double] = [:]
            for scheme in options {
                var quantized = graph
                quantized.initializers[layer.weight] = fakeQuantized(weight, channelAxis: outputAxis(layer.op), scheme: scheme)
                row[scheme] = divergence(reference, try Engine(graph: quantized).run([inputName: inputs])[output]!)
            }
            omega.append(row)
            let figures = options.map { "\($0.rawValue) " + String(format: "%.2e", row[$0]!) }.joined(separator: ", ")
            progress("  sensitivity \(index + 1)/\(layers.count) \(layer.name): \(figures)")
        }
        return Sensitivity(layers: layers.map(\.name), omega: omega)
    }

    /// The axis of a weight layer's output channels: 0 for Conv and Gemm with transB, else 1.
    static func outputAxis(_ op: Op) -> Int {
        switch op {
        case .conv: return 0
        case .gemm(_, _, _, let transB): return transB ? 0 : 1
        default: return 1
        }
    }

    /// `weight` quantized per output channel (`channelAxis` 0, or 1 of a 2-D [K, M]) to `scheme`
    /// by its standard rule, then dequantized.
    static func fakeQuantized(_ weight: Tensor, channelAxis: Int, scheme: Scheme) -> Tensor {
        let values = weight.floats
        guard channelAxis == 1, weight.shape.count == 2 else {
            let q = WeightQuantizer.quantize(values, channels: weight.shape[0], scheme: scheme, rule: .standard(for: scheme))
            let per = values.count / weight.shape[0]
            return Tensor(shape: weight.shape, floats: q.levels.indices.map { Float(q.levels[$0]) * q.scales[$0 / per] })
        }
        let (k, m) = (weight.shape[0], weight.shape[1])
        let rows = (0..<m * k).map { values[($0 % k) * m + $0 / k] } // [M][K]
        let q = WeightQuantizer.quantize(rows, channels: m, scheme: scheme, rule: .standard(for: scheme))
        return Tensor(shape: weight.shape, floats: (0..<k * m).map { i in Float(q.levels[(i % m) * k + i / m]) * q.scales[i % m] })
    }

    /// Mean KL(softmax(a) ‖ softmax(b)) over the rows of class scores, or Σ(a − b)² / Σ(a − ā)².
    public static func divergence(_ a: Tensor, _ b: Tensor) -> Double {
        let x = a.floats, y = b.floats, batch = max(a.shape[0], 1), classes = x.count / batch
        guard Tensor.holdsClassScores(a.shape) else {
            let mean = x.reduce(0.0) { $0 + Double($1) } / Double(max(x.count, 1))
            let spread = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
            return zip(x, y).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) } / max(spread, 1e-12)
        }
        var total = 0.0
        for n in 0..<batch {
            let p = softmax(x[n * classes..<(n + 1) * classes]), q = softmax(y[n * classes..<(n + 1) * classes])
            total += zip(p, q).reduce(0.0) { $0 + ($1.0 > 0 ? $1.0 * log($1.0 / max($1.1, 1e-300)) : 0) }
        }
        return total / Double(batch)
    }

    /// softmax of a row of scores, in Double.
    static func softmax<C: Collection>(_ row: C) -> [Double] where C.Element: BinaryFloatingPoint {
        let top = row.map { Double($0) }.max() ?? 0
        let e = row.map { Foundation.exp(Double($0) - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }
}
