import Engine
import Foundation
import Graph

/// The integer ops a float graph becomes, still in float terms: which float values each one
/// reads and writes, with Relu/Clip folded into the op before them and constants folded into
/// unary tables. The values it names (`observed`) are the ones calibration watches.
public struct QuantPlan {
    struct Step {
        enum Kind {
            /// Weights NCHW [M, C/group, kh, kw] as the graph holds them.
            case conv(ConvAttributes, weights: Tensor, bias: [Float])
            /// Weights [M][K] row-major.
            case fullyConnected(weights: [Float], outputs: Int, bias: [Float])
            case add, mul
            case unary((Float) -> Float)
            /// f(channel, x): an op with one constant per channel (the NCHW channel dim).
            case perChannel(channels: Int, (Int, Float) -> Float)
            case maxPool(PoolAttributes)
            case mean
            case concat
            case reshape
            case softmax
            /// Start and step in each of 4 dims, NHWC for 4-D (`IntegerOp.Kind.slice`).
            case slice(starts: [Int], steps: [Int])
            /// Zeros (or `value`) before each of 4 dims, NHWC for 4-D; the rest after.
            case pad(before: [Int], value: Float)
            /// Nearest resize: source rows and columns.
            case resize(rows: [Int], columns: [Int])
            /// Weights [M][kh][kw][C/group] (from ONNX's [C, M/group, kh, kw]).
            case convTranspose(ConvAttributes, weights: [Float], outputs: Int, bias: [Float])
            /// A float island's op: float32 in and out, in the graph's layout.
            case island(FloatOp)
        }

        var name: String
        var kind: Kind
        var inputs: [String]
        var output: String
        /// A Relu or Clip folded into the step, in real values.
        var clamp: (low: Float, high: Float)?
        /// The graph initializers a conv or fully connected step quantizes.
        var parameters: Parameters?
        /// The NCHW shape a fully connected step's input was flattened from in NHWC order, if any.
        var flattenedInput: [Int]?
    }

    /// Where a linear step's weights and bias live in the float graph, for the QDQ export.
    struct Parameters {
        var weight: String
        /// The weight's output-channel axis: 0 for conv and Gemm with transB, 1 for [K, M] weights.
        var axis: Int
        var bias: String?
        /// The bias's real value is bias-unit · input scale · weight scale · this (Gemm's alpha / beta).
        var biasFactor: Float
        /// The step's weights are the graph's times this (Gemm's alpha).
        var weightFactor: Float = 1
    }

    public let graph: Graph
    let steps: [Step]
    /// Float shapes (NCHW) at batch 1.
    let shapes: [String: [Int]]
    /// The float values that become integer tensors: the graph input, then each step's output
    /// (a float island's output needs its range where an integer op or the model output reads it).
    public let observed: [String]
    /// The nodes that run in float32, in graph order.
    public let floatNodes: [FloatNode]

    public struct UnsupportedError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(_ graph: Graph) throws {
        guard graph.inputs.count == 1, graph.outputs.count == 1 else {
            throw UnsupportedError(description: "int8 export takes models with one input and one output (this one has \(graph.inputs.count) and \(graph.outputs.count))")
        }
        let graph = graph.withBatch(1)
        self.graph = graph
        let shapes = try graph.inferShapes()
        self.shapes = shapes
        let consumers = graph.consumers()
        var folded = Set<Int>()
        var steps: [Step] = []
        var floatNodes: [FloatNode] = []
        /// Values a float island computes.
        var floatValues = Set<String>()
        /// Values that are a 4-D [N, C, H, W] flattened in NHWC order, with that shape: only a
        /// fully connected layer may read them, with its weight columns permuted to match.
        var flattenedNHWC: [String: [Int]] = [:]

        func constant(_ name: String) -> Tensor? { graph.initializers[name] }
        func unsupported(_ node: Node, _ why: String) -> UnsupportedError {
            UnsupportedError(description: "node '\(node.name)' (\(node.op.name)): \(why)")
        }
        /// The single reader of `value` when it is a node of the given ops and nothing else reads `value`.
        func soleReader(_ value: String, _ accept: (Op) -> Bool) -> Int? {
            guard let readers = consumers[value], readers.count == 1, !graph.outputs.contains(value),
                  accept(graph.nodes[readers[0]].op) else { return nil }
            return readers[0]
        }
        /// Folds a following Relu/Clip into the step.
        func foldActivation(_ step: inout Step) {
            guard let index = soleReader(step.output, { if case .relu = $0 { true } else if case .clip = $0 { true } else { false } })
            else { return }
            switch graph.nodes[index].op {
            case .relu: step.clamp = (0, .infinity)
            case .clip(let low, let high): step.clamp = (low, high)
            default: return
            }
            folded.insert(index)
            step.output = graph.nodes[index].outputs[0]
        }

        /// Composes the one-input ops that alone read a lookup step's output into its table: a chain
        /// such as x · a + b after a HardSwish quantizes once instead of three times.
        func composeFollowing(_ step: inout Step) {
            while let next = soleReader(step.output, { _ in true }),
                  let g = QuantPlan.scalarFunction(graph.nodes[next], of: step.output, constant: constant) {
                switch step.kind {
                case .unary(let f): step.kind = .unary { g(f($0)) }
                case .perChannel(let channels, let f): step.kind = .perChannel(channels: channels) { g(f($0, $1)) }
                default: return
                }
                folded.insert(next)
                step.output = graph.nodes[next].outputs[0]
            }
        }

        for (index, node) in graph.nodes.enumerated() where !folded.contains(index) {
            let activations = node.inputs.filter { constant($0) == nil }
            var step = Step(name: node.name, kind: .add, inputs: activations, output: node.outputs[0])
            let float = activations.contains { flattenedNHWC[$0] != nil } ? nil : QuantPlan.floatOp(node, shapes: shapes, constant: constant)
            func island(_ f: FloatOp, because reason: String) {
                step.kind = .island(f)
                steps.append(step)
                floatValues.insert(step.output)
                floatNodes.append(FloatNode(name: node.name, op: node.op.name, reason: reason))
            }
            if let float, !QuantPlan.hasWeights(node.op), activations.contains(where: floatValues.contains) {
                island(float, because: "its input is float")
                continue
            }
            do {
                let isLinear: Bool
                switch node.op {
                case .gemm, .matMul: isLinear = true
                default: isLinear = false
                }
                if let flat = activations.lazy.compactMap({ flattenedNHWC[$0] }).first, !isLinear {
                    throw unsupported(node, "it reads a 4-D tensor flattened in NHWC order (shape \(flat)); only Gemm/MatMul may")
                }
                switch node.op {
                case .conv(let a):
                    guard a.kernel.count == 2, let w = constant(node.inputs[1]), activations.count == 1 else {
                        throw unsupported(node, "only 2-D convolutions with constant weights run in int8")
                    }
                    let bias = node.inputs.count > 2 ? constant(node.inputs[2])?.floats ?? [] : [Float](repeating: 0, count: w.shape[0])
                    step.kind = .conv(a, weights: w, bias: bias)
                    step.parameters = Parameters(weight: node.inputs[1], axis: 0, bias: node.inputs.count > 2 ? node.inputs[2] : nil, biasFactor: 1)
                    foldActivation(&step)
                case .gemm(let alpha, let beta, let transA, let transB):
                    guard !transA, let b = constant(node.inputs[1]), b.shape.count == 2, activations.count == 1 else {
                        throw unsupported(node, "only x·Wᵀ + b with constant W runs in int8")
                    }
                    let outputs = transB ? b.shape[0] : b.shape[1]
                    var bias = [Float](repeating: 0, count: outputs)
                    if node.inputs.count > 2, let c = constant(node.inputs[2]) {
                        guard c.count == outputs || c.count == 1 else { throw unsupported(node, "the bias must hold one value per output") }
                        bias = (0..<outputs).map { beta * c.floats[c.count == 1 ? 0 : $0] }
                    }
                    step.kind = .fullyConnected(weights: QuantPlan.columnsInNHWC(QuantPlan.rows(b, transposed: !transB).map { alpha * $0 },
                                                                                 flattened: flattenedNHWC[activations[0]]),
                                                outputs: outputs, bias: bias)
                    step.flattenedInput = flattenedNHWC[activations[0]]
                    step.parameters = Parameters(weight: node.inputs[1], axis: transB ? 0 : 1,
                                                 bias: node.inputs.count > 2 && beta != 0 ? node.inputs[2] : nil, biasFactor: alpha / beta,
                                                 weightFactor: alpha)
                    foldActivation(&step)
                case .matMul:
                    // [N, K] or [B, T, K] (rows of K) times a constant [K, M].
                    guard let b = constant(node.inputs[1]), b.shape.count == 2, activations.count == 1,
                          let rank = shapes[node.inputs[0]]?.count, rank == 2 || rank == 3 else {
                        throw unsupported(node, "only [N, K] or [B, T, K] · constant [K, M] runs in int8")
                    }
                    let outputs = b.shape[1]
                    var bias = [Float](repeating: 0, count: outputs)
                    step.flattenedInput = flattenedNHWC[activations[0]]
                    step.parameters = Parameters(weight: node.inputs[1], axis: 1, bias: nil, biasFactor: 1)
                    // A following Add of a constant vector is the bias.
                    if let addIndex = soleReader(step.output, { $0 == .add }),
                       let c = graph.nodes[addIndex].inputs.first(where: { constant($0)?.count == outputs }) {
                        bias = constant(c)!.floats
                        step.parameters?.bias = c
                        folded.insert(addIndex)
                        step.output = graph.nodes[addIndex].outputs[0]
                    }
                    step.kind = .fullyConnected(weights: QuantPlan.columnsInNHWC(QuantPlan.rows(b, transposed: true),
                                                                                 flattened: flattenedNHWC[activations[0]]),
                                                outputs: outputs, bias: bias)
                    foldActivation(&step)
                case .add, .mul, .sub, .div:
                    if activations.count == 2 {
                        if shapes[activations[0]] != shapes[step.output] { step.inputs.reverse() }
                        guard shapes[step.inputs[0]] == shapes[step.output] else {
                            throw unsupported(node, "the first operand must have the output's shape")
                        }
                        switch node.op {
                        case .add: step.kind = .add; foldActivation(&step)
                        case .mul: step.kind = .mul
                        default: throw unsupported(node, "\(node.op.name) of two activations has no int8 kernel")
                        }
                    } else if activations.count == 1, let f = QuantPlan.scalarFunction(node, of: activations[0], constant: constant) {
                        step.kind = .unary(f)
                        composeFollowing(&step)
                    } else if activations.count == 1, let c = node.inputs.compactMap(constant).first,
                              let output = shapes[step.output], output.count == 4 || output.count == 2,
                              c.count == output[1], c.count > 1, c.shape.drop(while: { $0 == 1 }).first == c.count,
                              c.shape.drop(while: { $0 == 1 }).dropFirst().allSatisfy({ $0 == 1 }),
                              c.shape.drop(while: { $0 == 1 }).count == output.count - 1 {
                        // One constant per channel: [C, 1, 1] or [1, C, 1, 1] for NCHW, [C] for [N, C].
                        let k = c.floats, constantFirst = constant(node.inputs[0]) != nil
                        let f: (Int, Float) -> Float
                        switch node.op {
                        case .add: f = { $1 + k[$0] }
                        case .mul: f = { $1 * k[$0] }
                        case .sub: f = constantFirst ? { k[$0] - $1 } : { $1 - k[$0] }
                        default: f = constantFirst ? { k[$0] / $1 } : { $1 / k[$0] }
                        }
                        step.kind = .perChannel(channels: c.count, f)
                        composeFollowing(&step)
                    } else {
                        throw unsupported(node, "int8 runs it with two activations, or one activation and a scalar or one constant per channel")
                    }
                case .batchNorm(let epsilon):
                    // Inference BatchNorm the folding pass left (no conv before it): one affine map per channel.
                    let p = node.inputs.dropFirst().compactMap(constant)
                    guard activations.count == 1, p.count == 4, Set(p.map(\.count)).count == 1 else {
                        throw unsupported(node, "int8 runs BatchNormalization with constant scale, bias, mean and variance")
                    }
                    let (gamma, beta, mean, variance) = (p[0].floats, p[1].floats, p[2].floats, p[3].floats)
                    let factor = zip(gamma, variance).map { $0 / ($1 + epsilon).squareRoot() }
                    step.kind = .perChannel(channels: gamma.count) { c, x in (x - mean[c]) * factor[c] + beta[c] }
                    composeFollowing(&step)
                case .relu, .clip, .sigmoid, .hardSigmoid, .hardSwish, .tanh, .exp, .sqrt, .erf, .pow:
                    guard activations.count == 1, let f = QuantPlan.scalarFunction(node, of: activations[0], constant: constant) else {
                        throw unsupported(node, "int8 raises to a constant scalar power only")
                    }
                    step.kind = .unary(f)
                    composeFollowing(&step)
                case .maxPool(let a):
                    guard a.kernel.count == 2 else { throw unsupported(node, "only 2-D pooling runs in int8") }
                    step.kind = .maxPool(a)
                case .globalAveragePool:
                    step.kind = .mean
                case .averagePool(let a, _):
                    let shape = shapes[node.inputs[0]]!
                    guard shape.count == 4, a.kernel == [shape[2], shape[3]], a.pads.allSatisfy({ $0 == 0 }) else {
                        throw unsupported(node, "int8 averages whole planes only (a kernel of the input's height and width, no padding)")
                    }
                    step.kind = .mean
                case .slice(let starts, let ends, let axes, let steps):
                    let shape = shapes[node.inputs[0]]!
                    guard shape.count <= 4 else { throw unsupported(node, "int8 slices tensors of rank 4 at most") }
                    var start = [Int](repeating: 0, count: shape.count), stride = [Int](repeating: 1, count: shape.count)
                    for (i, axis) in axes.enumerated() {
                        let a = axis < 0 ? axis + shape.count : axis
                        guard let first = sliceRange(dimension: shape[a], start: starts[i], end: ends[i], step: steps[i]).first(where: { _ in true }) else {
                            throw unsupported(node, "the slice is empty")
                        }
                        (start[a], stride[a]) = (first, steps[i])
                    }
                    step.kind = .slice(starts: QuantPlan.nhwc4(start, fill: 0), steps: QuantPlan.nhwc4(stride, fill: 1))
                case .resize(let a):
                    let input = shapes[node.inputs[0]]!, output = shapes[step.output]!
                    guard a.mode == .nearest, input.count == 4, input[..<2] == output[..<2] else {
                        throw unsupported(node, "int8 resizes H and W with the nearest mode only (this one: \(a.mode.rawValue))")
                    }
                    let (rows, columns) = a.nearestSources(input: input, output: output)
                    step.kind = .resize(rows: rows, columns: columns)
                case .convTranspose(let a, _):
                    guard a.kernel.count == 2, let w = constant(node.inputs[1]), w.shape.count == 4, activations.count == 1 else {
                        throw unsupported(node, "only 2-D transposed convolutions with constant weights run in int8")
                    }
                    let outputs = w.shape[1] * a.group
                    let bias = node.inputs.count > 2 ? constant(node.inputs[2])?.floats ?? [] : [Float](repeating: 0, count: outputs)
                    step.kind = .convTranspose(a, weights: QuantPlan.transposedOHWI(w, group: a.group), outputs: outputs, bias: bias)
                    step.parameters = a.group == 1 ? Parameters(weight: node.inputs[1], axis: 1, bias: node.inputs.count > 2 ? node.inputs[2] : nil, biasFactor: 1) : nil
                    foldActivation(&step)
                case .pad(let pads, let value, let mode):
                    let rank = shapes[node.inputs[0]]!.count
                    guard mode == .constant, rank <= 4, pads.count == 2 * rank, pads.allSatisfy({ $0 >= 0 }) else {
                        throw unsupported(node, "int8 pads with a constant, by non-negative amounts, tensors of rank 4 at most")
                    }
                    step.kind = .pad(before: QuantPlan.nhwc4(Array(pads.prefix(rank)), fill: 0), value: value)
                case .reduceMean(let axes, _) where Set(axes) == [2, 3] && shapes[node.inputs[0]]?.count == 4:
                    step.kind = .mean
                case .concat(let axis):
                    let rank = shapes[step.output]!.count
                    guard (rank == 4 && axis == 1) || axis == rank - 1 else {
                        throw unsupported(node, "int8 concatenates along channels only")
                    }
                    step.kind = .concat
                case .reshape, .flatten, .squeeze, .unsqueeze:
                    let from = shapes[node.inputs[0]]!, to = shapes[step.output]!
                    if !QuantPlan.sameOrderInNHWC(from), to.count == 2, to[0] == from[0] {
                        flattenedNHWC[step.output] = from
                    } else if !QuantPlan.sameOrderInNHWC(from) || !QuantPlan.sameOrderInNHWC(to) {
                        throw unsupported(node, "a reshape that reorders NHWC data has no int8 kernel")
                    }
                    step.kind = .reshape
                case .softmax(let axis):
                    let rank = shapes[step.output]!.count
                    guard axis == rank - 1, rank != 4 || QuantPlan.sameOrderInNHWC(shapes[step.output]!) else {
                        throw unsupported(node, "int8 softmax runs along the last axis")
                    }
                    step.kind = .softmax
                default:
                    throw unsupported(node, "the int8 runtime has no kernel for \(node.op.name)")
                }
                if let rank = shapes[step.output]?.count, rank > 4 {
                    throw unsupported(node, "its output has rank \(rank); int8 tensors have rank 4 at most")
                }
                steps.append(step)
            } catch let refusal as UnsupportedError {
                guard let float else {
                    throw UnsupportedError(description: refusal.description + ", and the runtime has no float kernel for it either")
                }
                island(float, because: refusal.description.range(of: "): ").map { String(refusal.description[$0.upperBound...]) } ?? refusal.description)
            }
        }
        self.steps = steps
        self.floatNodes = floatNodes
        observed = [graph.inputs[0].name] + steps.map(\.output)
    }

    /// The value a conv or fully connected layer's integer op writes (after a folded Relu/Clip),
    /// whose range its plan's observer chooses; nil for a name that is no step.
    public func output(ofLayer name: String) -> String? { steps.first { $0.name == name }?.output }

    /// ConvTranspose weights [C, M/group, kh, kw] → [M][kh][kw][C/group].
    static func transposedOHWI(_ w: Tensor, group: Int) -> [Float] { transposedOHWI(w.floats, shape: w.shape, group: group) }

    static func transposedOHWI<T>(_ values: [T], shape: [Int], group: Int) -> [T] {
        let (c, mg, kh, kw) = (shape[0], shape[1], shape[2], shape[3])
        let cg = c / group
        var out = values
        for m in 0..<mg * group { for ky in 0..<kh { for kx in 0..<kw { for i in 0..<cg {
            let (g, local) = (m / mg, m % mg)
            out[((m * kh + ky) * kw + kx) * cg + i] = values[(((g * cg + i) * mg + local) * kh + ky) * kw + kx]
        } } } }
        return out
    }

    /// Whether a float NCHW shape stores its elements in the same order in NHWC
    /// (true for [N, C, 1, 1], [N, 1, H, W] and every shape that is not 4-D).
    static func sameOrderInNHWC(_ shape: [Int]) -> Bool {
        shape.count != 4 || shape[2] * shape[3] == 1 || shape[1] == 1
    }

    /// A 2-D constant as rows [M][K]: itself, or its transpose when it is stored [K, M].
    static func rows(_ t: Tensor, transposed: Bool) -> [Float] { rows(t.floats, shape: t.shape, transposed: transposed) }

    static func rows<T>(_ values: [T], shape: [Int], transposed: Bool) -> [T] {
        guard transposed else { return values }
        let (k, m) = (shape[0], shape[1])
        var out = values
        for i in 0..<k { for j in 0..<m { out[j * k + i] = values[i * m + j] } }
        return out
    }

    /// FC weight rows [M][C·H·W] (columns in NCHW order) with their columns reordered to H·W·C, so
    /// they read a tensor flattened from NHWC. `flattened` is the NCHW shape, or nil: no change.
    static func columnsInNHWC<T>(_ rows: [T], flattened: [Int]?) -> [T] {
        guard let shape = flattened else { return rows }
        let (c, h, w) = (shape[1], shape[2], shape[3]), depth = c * h * w
        var out = rows
        for m in 0..<rows.count / depth {
            for ch in 0..<c { for y in 0..<h { for x in 0..<w {
                out[m * depth + (y * w + x) * c + ch] = rows[m * depth + (ch * h + y) * w + x]
            } } }
        }
        return out
    }

    /// The function `node` computes of its input `value` alone: a one-input op, or arithmetic with
    /// a scalar constant (x + 3, 6 / x, x ^ 2); nil for any other node.
    static func scalarFunction(_ node: Node, of value: String, constant: (String) -> Tensor?) -> ((Float) -> Float)? {
        let op = node.op
        switch op {
        case .relu, .clip, .sigmoid, .hardSigmoid, .hardSwish, .tanh, .exp, .sqrt, .erf:
            return node.inputs.first == value ? { QuantPlan.apply(op, $0) } : nil
        case .add, .sub, .mul, .div, .pow:
            guard node.inputs.count == 2, node.inputs.contains(value), let c = node.inputs.compactMap(constant).first, c.count == 1
            else { return nil }
            let k = c.floats[0], constantFirst = node.inputs[0] != value
            switch op {
            case .add: return { $0 + k }
            case .mul: return { $0 * k }
            case .sub: return constantFirst ? { k - $0 } : { $0 - k }
            case .div: return constantFirst ? { k / $0 } : { $0 / k }
            default: return constantFirst ? { Foundation.pow(k, $0) } : { Foundation.pow($0, k) }
            }
        default:
            return nil
        }
    }

    /// The float function of a one-input op.
    static func apply(_ op: Op, _ x: Float) -> Float {
        switch op {
        case .relu: return max(x, 0)
        case .clip(let low, let high): return min(max(x, low), high)
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case .hardSigmoid(let alpha, let beta): return max(0, min(1, alpha * x + beta))
        case .hardSwish: return x * max(0, min(1, x / 6 + 0.5))
        case .tanh: return Foundation.tanh(x)
        case .exp: return Foundation.exp(x)
        case .sqrt: return Foundation.sqrt(x)
        case .erf: return Foundation.erf(x)
        default: return x
        }
    }
}
