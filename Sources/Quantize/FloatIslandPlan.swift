import Graph

extension QuantPlan {
    /// A node the model runs in float32 (a float island), and why it is not an integer op.
    public struct FloatNode: Sendable {
        public var name: String
        /// The ONNX op ("ReduceMean").
        public var op: String
        /// Why it runs in float: the integer path's refusal, or that its input is already float.
        public var reason: String
    }

    /// The float op `node` becomes in a float island, or nil when the runtime has no float kernel
    /// for it either. Shapes are the float graph's at batch 1; ranks up to 6.
    static func floatOp(_ node: Node, shapes: [String: [Int]], constant: (String) -> Tensor?) -> FloatOp? {
        let activations = node.inputs.filter { constant($0) == nil }
        guard let first = activations.first, let input = shapes[first], let output = shapes[node.outputs[0]],
              output.count <= 6, activations.allSatisfy({ (shapes[$0]?.count ?? 7) <= 6 }) else { return nil }
        func axis(_ a: Int, rank: Int) -> Int { a < 0 ? a + rank : a }
        switch node.op {
        case .relu: return .unary(.relu)
        case .sigmoid: return .unary(.sigmoid)
        case .sqrt: return .unary(.sqrt)
        case .erf: return .unary(.erf)
        case .exp: return .unary(.exp)
        case .tanh: return .unary(.tanh)
        case .clip(let low, let high): return .unary(.clip(min: low, max: high))
        case .hardSigmoid(let alpha, let beta): return .unary(.hardSigmoid(alpha: alpha, beta: beta))
        case .hardSwish: return .unary(.hardSwish)
        case .add, .sub, .mul, .div, .pow:
            let f: FloatOp.Binary
            switch node.op {
            case .add: f = .add
            case .sub: f = .sub
            case .mul: f = .mul
            case .div: f = .div
            default: f = .pow
            }
            if activations.count == 2 { return .binary(f, constant: nil) }
            guard node.inputs.count == 2, let c = node.inputs.compactMap(constant).first, c.shape.count <= 6 else { return nil }
            return .binary(f, constant: FloatOp.Constant(shape: c.shape, values: c.floats, first: constant(node.inputs[0]) != nil))
        case .matMul:
            guard first == node.inputs[0], input.count >= 2 else { return nil }
            if activations.count == 2 { return (shapes[node.inputs[1]]?.count ?? 0) >= 2 ? .matMul(constant: nil, bias: nil) : nil }
            guard let b = constant(node.inputs[1]), (2...6).contains(b.shape.count) else { return nil }
            return .matMul(constant: FloatOp.Constant(shape: b.shape, values: b.floats), bias: nil)
        case .gemm(let alpha, let beta, let transA, let transB):
            guard !transA, first == node.inputs[0], input.count == 2, let b = constant(node.inputs[1]), b.shape.count == 2 else { return nil }
            let (k, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
            var bias: [Float]?
            if node.inputs.count > 2 {
                guard let c = constant(node.inputs[2]), c.count == n || c.count == 1 else { return nil }
                bias = (0..<n).map { beta * c.floats[c.count == 1 ? 0 : $0] }
            }
            let values = QuantPlan.rows(b.floats, shape: b.shape, transposed: transB).map { alpha * $0 }
            return .matMul(constant: FloatOp.Constant(shape: [k, n], values: values), bias: bias)
        case .reduceMean(let axes, _):
            let normalized = axes.isEmpty ? Array(input.indices) : axes.map { axis($0, rank: input.count) }
            return .reduceMean(axes: Array(Set(normalized)).sorted())
        case .globalAveragePool:
            return input.count == 4 ? .reduceMean(axes: [2, 3]) : nil
        case .softmax(let a):
            return .softmax(axis: axis(a, rank: input.count))
        case .transpose(let perm):
            return .transpose(perm: perm.isEmpty ? Array(input.indices.reversed()) : perm)
        case .slice(let starts, let ends, let axes, let steps):
            var start = [Int](repeating: 0, count: input.count), step = [Int](repeating: 1, count: input.count)
            for (i, a) in axes.enumerated() {
                let d = axis(a, rank: input.count)
                guard let begin = sliceRange(dimension: input[d], start: starts[i], end: ends[i], step: steps[i]).first(where: { _ in true })
                else { return nil }
                (start[d], step[d]) = (begin, steps[i])
            }
            return .slice(starts: start, steps: step)
        case .concat(let a):
            return .concat(axis: axis(a, rank: output.count))
        case .maxPool(let a), .averagePool(let a, _):
            guard a.kernel.count == 2, input.count == 4 else { return nil }
            // Ceil mode: the end padding widened until the floor rule gives the same extent.
            let ends = (0..<2).map { i in max(a.pads[i + 2], (output[i + 2] - 1) * a.strides[i] + a.kernel[i] - input[i + 2] - a.pads[i]) }
            let window = Window(kernel: (a.kernel[0], a.kernel[1]), stride: (a.strides[0], a.strides[1]),
                                pads: [a.pads[0], a.pads[1], ends[0], ends[1]], dilation: (1, 1))
            if case .averagePool(_, let includePad) = node.op { return .pool(window, includePad ? .averageWithPads : .average) }
            return .pool(window, .max)
        case .reshape, .flatten, .squeeze, .unsqueeze:
            return .reshape
        default:
            return nil
        }
    }

    /// Whether an op is worth returning to integers when its input is float: the ones with weights.
    static func hasWeights(_ op: Op) -> Bool {
        switch op {
        case .conv, .convTranspose, .gemm, .matMul: return true
        default: return false
        }
    }
}
