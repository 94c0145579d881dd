import Foundation
import Graph

extension QuantPlan {
    /// The integer model and what it does not keep: each conv and fully connected layer's
    /// scheme and per-channel weight scales (folded into its requantization), by layer name.
    public struct Lowered: Sendable {
        public struct Weights: Sendable {
            public var scheme: Scheme
            public var scales: [Float]
        }

        public var integer: IntegerModel
        public var weights: [String: Weights]
    }

    /// Builds the integer model from a real range per observed value, each conv and fully
    /// connected layer's weights by its scheme and scale rule in `plan` (int8 where the plan has
    /// no layer of that name).
    ///
    /// Weights are symmetric per output channel (`WeightQuantizer`); activations uint8
    /// affine per tensor over their range widened to contain 0, so real 0 (zero padding, Relu's
    /// floor) is exact. Ops that only move bytes (concat, max pool, reshape, slice, pad, resize) share one range
    /// across their operands: the union of theirs.
    ///
    /// With `inputMeans` (per-channel means of the values, from calibration), each conv and fully
    /// connected bias is corrected for the mean shift its weights' rounding causes (bias
    /// correction, Nagel et al. 2019): bias −= Σ (w_q·s − w) · E[x] over the inputs each output
    /// reads. Example: weights [0.3, 0.7] on int8 with scale 0.7/127 round 0.3 to 54·s ≈ 0.29764;
    /// with input means [2, 1] the bias rises by 2 · 0.00236 ≈ 0.0047.
    ///
    /// With `moments` (the second moment of a layer's input patches, `LearnedRounding.inputMoments`),
    /// that layer's weights below int8 are rounded by `LearnedRounding` instead of to nearest.
    public func lower(ranges: [String: (low: Float, high: Float)], inputMeans: [String: [Double]]? = nil, plan: Plan,
                      moments: [String: [[Float]]] = [:]) throws -> Lowered {
        let unified = unify(ranges)
        var tensors: [IntegerTensor] = []
        var ops: [IntegerOp] = []
        /// Each value's uint8 tensor and, in float islands, its float32 one.
        var index: [String: Int] = [:], floatIndex: [String: Int] = [:]
        func addQuantized(_ name: String) throws -> Int {
            guard let range = unified[name] else { throw UnsupportedError(description: "no calibration range for '\(name)'") }
            let (scale, zero) = QuantPlan.affine(range)
            index[name] = tensors.count
            tensors.append(IntegerTensor(name: name, shape: QuantPlan.nhwc(shapes[name]!), scale: scale, zeroPoint: zero))
            return tensors.count - 1
        }
        func addFloat(_ name: String) -> Int {
            floatIndex[name] = tensors.count
            tensors.append(.float(name: name, shape: shapes[name].flatMap { $0.isEmpty ? nil : $0 } ?? [1]))
            return tensors.count - 1
        }
        /// The uint8 tensor of `name`, quantized from its float one where a float island computed it.
        func uint8Tensor(of name: String, for reader: String) throws -> Int {
            if let i = index[name] { return i }
            guard let from = floatIndex[name] else {
                throw UnsupportedError(description: "node '\(reader)' reads '\(name)', which no integer op produces")
            }
            let i = try addQuantized(name)
            ops.append(IntegerOp(name: "quantize \(name)", kind: .quantize, inputs: [from], output: i))
            return i
        }
        /// The float32 tensor of `name`, dequantized from its uint8 one where an integer op computed it.
        func floatTensor(of name: String, for reader: String) throws -> Int {
            if let i = floatIndex[name] { return i }
            let from = try uint8Tensor(of: name, for: reader), i = addFloat(name)
            ops.append(IntegerOp(name: "dequantize \(name)", kind: .dequantize, inputs: [from], output: i))
            return i
        }
        _ = try addQuantized(graph.inputs[0].name)
        var layerWeights: [String: Lowered.Weights] = [:]
        for step in steps {
            if case .island(let f) = step.kind {
                let inputs = try step.inputs.map { try floatTensor(of: $0, for: step.name) }
                ops.append(IntegerOp(name: step.name, kind: .float(f), inputs: inputs, output: addFloat(step.output)))
                continue
            }
            let inputs = try step.inputs.map { try uint8Tensor(of: $0, for: step.name) }
            let output = try addQuantized(step.output)
            if case .softmax = step.kind { (tensors[output].scale, tensors[output].zeroPoint) = (1 / 256, 0) }
            let x = tensors[inputs[0]], y = tensors[output]
            var clamp: ClosedRange<Int32> = 0...255
            if let (low, high) = step.clamp {
                let qLow = low.isFinite ? max(0, min(255, Int32(y.quantize(low)))) : 0
                let qHigh = high.isFinite ? max(qLow, min(255, Int32(y.quantize(high)))) : 255
                clamp = qLow...qHigh
            }
            let layer = plan[step.name] ?? Plan.Layer(name: step.name)
            let kind: IntegerOp.Kind
            switch step.kind {
            case .conv(let a, let w, let bias):
                let real = QuantPlan.ohwi(w)
                let (weights, scales) = quantized(real, channels: w.shape[0], layer: layer, moments: moments[step.name])
                layerWeights[step.name] = Lowered.Weights(scheme: layer.weights, scales: scales)
                let corrected = QuantPlan.corrected(bias, real: real, weights: weights, scales: scales, group: a.group,
                                                    means: inputMeans?[step.inputs[0]].map { $0.map(Float.init) })
                kind = .conv(Window(kernel: (a.kernel[0], a.kernel[1]), stride: (a.strides[0], a.strides[1]),
                                    pads: [a.pads[0], a.pads[1], a.pads[2], a.pads[3]],
                                    dilation: (a.dilations[0], a.dilations[1])),
                             group: a.group, weights: weights, bias: QuantPlan.bias(corrected, x: x, weightScales: scales),
                             requant: scales.map { Requantization(Double(x.scale) * Double($0) / Double(y.scale)) })
            case .fullyConnected(let w, let outputs, let bias):
                let (weights, scales) = quantized(w, channels: outputs, layer: layer, moments: moments[step.name])
                layerWeights[step.name] = Lowered.Weights(scheme: layer.weights, scales: scales)
                // Channel means are per dim 1: the features of [N, K], not of a [B, T, K] input's rows.
                let means = inputMeans?[step.inputs[0]].map { QuantPlan.columnsInNHWC($0.map(Float.init), flattened: step.flattenedInput) }
                    .flatMap { $0.count * outputs == w.count ? $0 : nil }
                let corrected = QuantPlan.corrected(bias, real: w, weights: weights, scales: scales, group: 1, means: means)
                kind = .fullyConnected(weights: weights, bias: QuantPlan.bias(corrected, x: x, weightScales: scales),
                                       requant: scales.map { Requantization(Double(x.scale) * Double($0) / Double(y.scale)) })
            case .add:
                let b = tensors[inputs[1]]
                let twiceMax = 2 * Double(max(x.scale, b.scale)), leftShift: Int32 = 20
                kind = .add(leftShift: leftShift, a: Requantization(Double(x.scale) / twiceMax),
                            b: Requantization(Double(b.scale) / twiceMax),
                            output: Requantization(twiceMax / (Double(1 << leftShift) * Double(y.scale))))
            case .mul:
                kind = .mul(Requantization(Double(x.scale) * Double(tensors[inputs[1]].scale) / Double(y.scale)))
            case .unary(let f):
                kind = .lookup((0...255).map { y.quantize(f(x.dequantize(UInt8($0)))) })
            case .perChannel(let channels, let f):
                kind = .lookup((0..<channels).flatMap { c in (0...255).map { y.quantize(f(c, x.dequantize(UInt8($0)))) } })
            case .maxPool(let a):
                let shape = shapes[step.inputs[0]]!, out = shapes[step.output]!
                // Ceil mode: widen the end padding until the floor rule gives the same extent.
                let pads = (0..<2).map { i in
                    max(a.pads[i + 2], (out[i + 2] - 1) * a.strides[i] + a.kernel[i] - shape[i + 2] - a.pads[i])
                }
                kind = .maxPool(Window(kernel: (a.kernel[0], a.kernel[1]), stride: (a.strides[0], a.strides[1]),
                                       pads: [a.pads[0], a.pads[1], pads[0], pads[1]], dilation: (1, 1)))
            case .mean:
                let shape = shapes[step.inputs[0]]!
                kind = .mean(Requantization(Double(x.scale) / (Double(y.scale) * Double(shape[2] * shape[3]))))
            case .convTranspose(let a, let w, let outputs, let bias):
                // int8 whatever the plan: transposed convs are no plan layer yet. No bias correction:
                // each output sees only some of the taps.
                let (weights, scales) = WeightQuantizer.quantize(w, channels: outputs, scheme: .int8, rule: .maxAbs)
                layerWeights[step.name] = Lowered.Weights(scheme: .int8, scales: scales)
                kind = .convTranspose(Window(kernel: (a.kernel[0], a.kernel[1]), stride: (a.strides[0], a.strides[1]),
                                             pads: [a.pads[0], a.pads[1], a.pads[2], a.pads[3]],
                                             dilation: (a.dilations[0], a.dilations[1])),
                                      group: a.group, weights: weights, bias: QuantPlan.bias(bias, x: x, weightScales: scales),
                                      requant: scales.map { Requantization(Double(x.scale) * Double($0) / Double(y.scale)) })
            case .resize(let rows, let columns): kind = .resize(rows: rows, columns: columns)
            case .slice(let starts, let steps): kind = .slice(starts: starts, steps: steps)
            case .pad(let before, let value): kind = .pad(before: before, value: y.quantize(value))
            case .concat: kind = .concat
            case .reshape: kind = .reshape
            case .softmax:
                kind = .softmax((0...255).map { UInt32((Foundation.exp(-Double($0) * Double(x.scale)) * 4_194_304).rounded()) })
            case .island: continue // lowered above
            }
            ops.append(IntegerOp(name: step.name, kind: kind, inputs: inputs, output: output, clamp: clamp,
                                 scheme: layerWeights[step.name]?.scheme ?? .int8))
        }
        let output = try uint8Tensor(of: graph.outputs[0], for: "the model output")
        return Lowered(integer: IntegerModel(tensors: tensors, ops: ops, inputs: [0], outputs: [output]), weights: layerWeights)
    }

    /// A layer's weight levels and scales by its scheme and rule, rounded by `LearnedRounding` where
    /// `moments` are given (not empty) and the scheme is below int8.
    func quantized(_ weights: [Float], channels: Int, layer: Plan.Layer, moments: [[Float]]?) -> (levels: [Int8], scales: [Float]) {
        let nearest = WeightQuantizer.quantize(weights, channels: channels, scheme: layer.weights, rule: layer.scaleRule)
        guard let moments, !moments.isEmpty, layer.weights != .int8 else { return nearest }
        return (LearnedRounding.levels(weights, channels: channels, scales: nearest.scales, scheme: layer.weights, moments: moments), nearest.scales)
    }

    /// Ranges made equal across the operands of byte-moving ops (union-find over value names).
    private func unify(_ ranges: [String: (low: Float, high: Float)]) -> [String: (low: Float, high: Float)] {
        var parent: [String: String] = [:]
        func root(_ name: String) -> String {
            var name = name
            while let p = parent[name], p != name { name = p }
            return name
        }
        for step in steps {
            switch step.kind {
            case .concat, .maxPool, .reshape, .slice, .pad, .resize:
                for input in step.inputs where root(input) != root(step.output) { parent[root(input)] = root(step.output) }
            default: break
            }
        }
        var merged: [String: (low: Float, high: Float)] = [:]
        for (name, range) in ranges {
            let r = root(name)
            let old = merged[r] ?? range
            merged[r] = (min(old.low, range.low), max(old.high, range.high))
        }
        return ranges.keys.reduce(into: [:]) { $0[$1] = merged[root($1)] }
    }

    /// uint8 scale and zero point for a real range, widened to contain 0.
    /// Example: [−1, 1] → scale 2/255, zero point 128 (127.5 rounded to even).
    static func affine(_ range: (low: Float, high: Float)) -> (scale: Float, zeroPoint: Int32) {
        let low = min(range.low, 0), high = max(range.high, 0)
        let scale = max((high - low) / 255, 1e-8)
        let zero = Int32(max(0, min(255, (-low / scale).rounded(.toNearestOrEven))))
        return (scale, zero)
    }

    /// Per-dim values of an NCHW tensor in the runtime's 4 dims: NHWC order for 4-D, `fill`
    /// past a lower rank. Example: [0, 1, 2, 3] → [0, 2, 3, 1]; [5, 6] → [5, 6, fill, fill].
    static func nhwc4(_ values: [Int], fill: Int) -> [Int] {
        values.count == 4 ? [values[0], values[2], values[3], values[1]] : values + [Int](repeating: fill, count: 4 - values.count)
    }

    /// NCHW → NHWC for 4-D shapes; other ranks unchanged.
    static func nhwc(_ shape: [Int]) -> [Int] {
        shape.count == 4 ? [shape[0], shape[2], shape[3], shape[1]] : shape
    }

    /// Conv weights [M, C/g, kh, kw] → [M][kh][kw][C/g].
    static func ohwi(_ w: Tensor) -> [Float] { ohwi(w.floats, shape: w.shape) }

    static func ohwi<T>(_ values: [T], shape: [Int]) -> [T] {
        let (m, c, kh, kw) = (shape[0], shape[1], shape[2], shape[3])
        var out = values
        for o in 0..<m { for i in 0..<c { for y in 0..<kh { for x in 0..<kw {
            out[((o * kh + y) * kw + x) * c + i] = values[((o * c + i) * kh + y) * kw + x]
        } } } }
        return out
    }

    /// `bias` minus the mean output shift of rounding the weights: for output o,
    /// Σ (q·scale − real) · means[input] over o's row, whose last dimension runs over the input
    /// channels of o's group. Unchanged without means, or when they do not fit the weights.
    static func corrected(_ bias: [Float], real: [Float], weights: [Int8], scales: [Float], group: Int, means: [Float]?) -> [Float] {
        let outputs = bias.count, row = real.count / max(outputs, 1)
        guard let means, outputs > 0, means.count % group == 0 else { return bias }
        let perGroup = means.count / group
        guard perGroup > 0, row % perGroup == 0 else { return bias }
        return bias.indices.map { o in
            let base = (o / max(outputs / group, 1)) * perGroup
            var shift: Double = 0
            for k in 0..<row {
                let error = Double(Float(weights[o * row + k]) * scales[o] - real[o * row + k])
                shift += error * Double(means[base + k % perGroup])
            }
            return bias[o] - Float(shift)
        }
    }

    /// Bias in accumulator units (input scale × weight scale), within the runtime's ±2^29.
    static func bias(_ bias: [Float], x: IntegerTensor, weightScales: [Float]) -> [Int32] {
        zip(bias, weightScales).map { b, s in
            let q = (Double(b) / (Double(x.scale) * Double(s))).rounded(.toNearestOrEven)
            return Int32(max(-536_870_912, min(536_870_912, q)))
        }
    }
}
