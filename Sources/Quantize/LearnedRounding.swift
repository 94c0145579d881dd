import Engine
import Graph

/// Learned rounding for weights below 8 bits: AdaRound's layer-wise objective (Nagel et al. 2020)
/// — choose for every weight between rounding down and up, at the scale the scheme's rule gave, so
/// that the layer's output on the calibration images moves least — solved exactly in its
/// quadratic form by coordinate descent instead of AdaRound's relaxed gradient descent.
///
/// For one output channel with real weights w, scale s and levels q, the output error over the
/// input patches x is Σ_x ((s·q − w)·x)² = δᵀ M δ with δ = s·q − w and M = Σ x xᵀ, the second
/// moment of the patches the channel reads (`inputMoments`). Starting from round-to-nearest, each
/// sweep flips a weight to its other rounding where that lowers δᵀ M δ, keeping r = M δ current:
/// flipping weight i by d changes the error by 2·d·r_i + d²·M_ii. Nearest rounding minimizes each
/// |δ_i| alone; this minimizes the layer's output error, which is what the network feels.
///
/// Example: w = [0.26, 0.26], s = 0.5 (nearest: q = [1, 1], δ = [0.24, 0.24]) with inputs that
/// always come as a pair (M = [[1, 1], [1, 1]]): the error is (0.24 + 0.24)² = 0.2304; flipping
/// one weight down gives δ = [−0.26, 0.24] and (−0.02)² = 0.0004.
public enum LearnedRounding {
    /// Sweeps over a channel's weights at most.
    static let sweeps = 8

    /// Levels for one layer's rows (one per output channel, `channels` of them, each `per` long)
    /// at `scales`, `moments[g]` the K×K second moment (K = `per`) of group g's input patches;
    /// channel c reads group c / (channels / groups).
    public static func levels(_ weights: [Float], channels: Int, scales: [Float], scheme: Scheme, moments: [[Float]]) -> [Int8] {
        let per = weights.count / max(channels, 1), groups = max(moments.count, 1), perGroup = max(channels / groups, 1)
        let low = Float(scheme.levels.lowerBound), high = Float(scheme.levels.upperBound)
        var levels = [Int8](repeating: 0, count: weights.count)
        var delta = [Float](repeating: 0, count: per), r = [Float](repeating: 0, count: per)
        for c in 0..<channels {
            let s = scales[c], m = moments[min(c / perGroup, groups - 1)], row = c * per
            var q = (0..<per).map { i in Float(WeightQuantizer.level(weights[row + i], scale: s, scheme: scheme)) }
            for i in 0..<per { delta[i] = s * q[i] - weights[row + i] }
            m.withUnsafeBufferPointer { m in
                for i in 0..<per {
                    var sum: Float = 0
                    for j in 0..<per { sum += m[i * per + j] * delta[j] }
                    r[i] = sum
                }
                for _ in 0..<sweeps {
                    var flipped = false
                    for i in 0..<per {
                        let down = (weights[row + i] / s).rounded(.down)
                        let other = q[i] == down ? down + 1 : down
                        guard other >= low, other <= high, abs(other - q[i]) == 1 else { continue } // clamped weights stay
                        let d = s * (other - q[i])
                        guard 2 * d * r[i] + d * d * m[i * per + i] < -1e-12 * d * d else { continue }
                        q[i] = other
                        delta[i] += d
                        for j in 0..<per { r[j] += d * m[j * per + i] }
                        flipped = true
                    }
                    if !flipped { break }
                }
            }
            for i in 0..<per { levels[row + i] = Int8(q[i]) }
        }
        return levels
    }

    /// The second moment of each listed layer's input patches over `batches`, per group, in the
    /// order of the layer's weight rows as lowering holds them: a conv's (kernel row, kernel
    /// column, input channel of its group), a fully connected layer's input features (NHWC order
    /// where it reads a flattened map). Zero padding enters as zeros; each diagonal is raised by
    /// how few patches there were (`shrunk`). A layer with fewer patches than weights in a row
    /// gets no moments (an empty list) and keeps nearest rounding: fitted to so few, the rounding does not carry over to
    /// other images — Lite0's classifier (1,280 inputs, 40 images) at int2 alone kept 85.2 % of
    /// imagenet-eval learned and 86.4 % nearest (81.1 and 81.5 % of imagenet-train).
    public static func inputMoments(_ plan: QuantPlan, batches: [Tensor], layers: Set<String>) throws -> [String: [[Float]]] {
        let steps = plan.steps.filter { layers.contains($0.name) }
        var watch = plan.graph
        watch.outputs = Array(Set(steps.map { $0.inputs[0] }).subtracting([plan.graph.inputs[0].name]))
        let engine = Engine(graph: watch), input = plan.graph.inputs[0].name
        var moments: [String: [Moment]] = [:]
        for batch in batches {
            var values = try watch.outputs.isEmpty ? [:] : engine.run([input: batch])
            values[input] = batch
            for step in steps {
                let value = values[step.inputs[0]]!, each = value.count / max(value.shape[0], 1), all = value.floats
                for image in 0..<value.shape[0] {
                    let x = Tensor(shape: [1] + value.shape.dropFirst(), floats: Array(all[image * each..<(image + 1) * each]))
                    switch step.kind {
                    case .conv(let a, let w, _):
                        accumulate(&moments[step.name, default: []], convPatches(x, kernel: (w.shape[2], w.shape[3]), attributes: a))
                    case .fullyConnected(let w, let outputs, _):
                        let rows = featureRows(x, features: w.count / max(outputs, 1), flattened: step.flattenedInput != nil)
                        accumulate(&moments[step.name, default: []], rows)
                    default: break
                    }
                }
            }
        }
        return moments.mapValues { groups in
            groups.allSatisfy { $0.patches >= $0.width } ? groups.map { shrunk($0.moment, patches: $0.patches) } : []
        }
    }

    /// `m` with its diagonal raised by the factor 1 + K / `patches`: a second moment of K-long
    /// patches estimated from fewer than K of them has rank below K, and coordinate descent would
    /// fit those few patches at the expense of all others — on Lite0's classifier (K = 1280, 40
    /// images) learned rounding cost 4 pt of top-1 at 0.75× int4's bytes. With many patches
    /// (a 1×1 conv on 56×56 maps) the factor is ≈ 1; with few it tends to the diagonal, for which
    /// nearest rounding is the optimum.
    static func shrunk(_ m: [Float], patches: Int) -> [Float] {
        let k = Int(Double(m.count).squareRoot()), factor = 1 + Float(k) / Float(max(patches, 1))
        var out = m
        for i in 0..<k { out[i * k + i] *= factor }
        return out
    }

    /// Each group's patch matrix ([patches, width], row-major).
    struct Patches {
        var width: Int
        var groups: [[Float]]
    }

    /// One group's Σ x xᵀ so far, and over how many patches of `width` values.
    struct Moment {
        var moment: [Float]
        var patches = 0
        var width: Int { Int(Double(moment.count).squareRoot()) }
    }

    /// M_g += X_gᵀ X_g for each group's patch matrix X_g.
    static func accumulate(_ moments: inout [Moment], _ patches: Patches) {
        let width = patches.width
        for (g, x) in patches.groups.enumerated() {
            if g >= moments.count { moments.append(Moment(moment: [Float](repeating: 0, count: width * width))) }
            let count = x.count / max(width, 1)
            moments[g].patches += count
            x.withUnsafeBufferPointer { x in
                moments[g].moment.withUnsafeMutableBufferPointer { m in
                    Float.gemm(transA: true, transB: false, m: width, n: width, k: count, alpha: 1, a: x.baseAddress!, lda: width,
                               b: x.baseAddress!, ldb: width, beta: 1, c: m.baseAddress!, ldc: width)
                }
            }
        }
    }

    /// The patches a conv reads from `x` ([N, C, H, W]), per group, each in the order (kernel row,
    /// kernel column, input channel of the group).
    static func convPatches(_ x: Tensor, kernel: (Int, Int), attributes a: ConvAttributes) -> Patches {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]), groups = max(a.group, 1), cg = c / groups
        let (kh, kw) = kernel, (sy, sx) = (a.strides[0], a.strides[1]), (dy, dx) = (a.dilations[0], a.dilations[1])
        let (top, left) = (a.pads[0], a.pads[1])
        let oh = (h + a.pads[0] + a.pads[2] - dy * (kh - 1) - 1) / sy + 1, ow = (w + a.pads[1] + a.pads[3] - dx * (kw - 1) - 1) / sx + 1
        let width = kh * kw * cg, values = x.floats
        var groupsOut = [[Float]](repeating: [], count: groups)
        for g in 0..<groups {
            var rows = [Float](repeating: 0, count: n * oh * ow * width)
            for image in 0..<n {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let base = ((image * oh + oy) * ow + ox) * width
                        for ky in 0..<kh {
                            let y = oy * sy - top + ky * dy
                            guard y >= 0, y < h else { continue }
                            for kx in 0..<kw {
                                let xx = ox * sx - left + kx * dx
                                guard xx >= 0, xx < w else { continue }
                                for ci in 0..<cg {
                                    rows[base + (ky * kw + kx) * cg + ci] = values[((image * c + g * cg + ci) * h + y) * w + xx]
                                }
                            }
                        }
                    }
                }
            }
            groupsOut[g] = rows
        }
        return Patches(width: width, groups: groupsOut)
    }

    /// A fully connected layer's input rows of `features` values: NHWC order for a flattened
    /// [N, C, H, W] map, else as stored.
    static func featureRows(_ x: Tensor, features: Int, flattened: Bool) -> Patches {
        let values = x.floats
        guard flattened, x.shape.count == 4 else { return Patches(width: features, groups: [values]) }
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var rows = [Float](repeating: 0, count: values.count)
        for image in 0..<n {
            for ch in 0..<c {
                for p in 0..<h * w { rows[image * features + p * c + ch] = values[(image * c + ch) * h * w + p] }
            }
        }
        return Patches(width: features, groups: [rows])
    }
}
