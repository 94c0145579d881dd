import Graph

extension QuantPlan {
    /// The float graph with the quantization of `integer` written on it, for the QDQ ONNX export
    /// (`ONNXWriter` turns the parameters into QuantizeLinear/DequantizeLinear nodes):
    /// - every integer tensor's value: uint8, its scale and zero point;
    /// - every conv and fully connected weight: symmetric, one scale per output channel along its
    ///   output axis, the same integers the `.wtm` holds (in the float graph's layout, learned
    ///   rounding included: the initializer becomes level × scale, over Gemm's alpha), stored as
    ///   int8 restricted to its scheme's levels (int4: −8…7), which ONNX Runtime runs;
    /// - their biases: the `.wtm`'s int32 biases (bias correction included) in units of input
    ///   scale × weight scale. A conv, Gemm or MatMul without a bias gets one (a MatMul through
    ///   an Add after it), since bias correction may have given it one.
    /// Relu and Clip folded into an integer op stay as float nodes before the QuantizeLinear that
    /// makes them redundant, as ONNX Runtime's quantizer leaves them.
    public func qdqGraph(_ lowered: Lowered) -> Graph {
        let integer = lowered.integer
        var graph = self.graph
        var inputScales: [String: Float] = [:]
        for tensor in integer.tensors where !tensor.isFloat {
            graph.quantization[tensor.name] = QuantParams(scales: [tensor.scale], zeroPoints: [tensor.zeroPoint], isSigned: false)
            inputScales[tensor.name] = tensor.scale
        }
        let opsByName = Dictionary(integer.ops.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for step in steps {
            guard let op = opsByName[step.name], let p = step.parameters, let w = graph.initializers[p.weight], let xScale = inputScales[step.inputs[0]],
                  p.biasFactor.isFinite, let index = graph.nodes.firstIndex(where: { $0.name == step.name }) else { continue }
            let bias: [Int32], integers: [Int8]
            switch op.kind {
            case .conv(_, _, let q, let b, _), .fullyConnected(let q, let b, _), .convTranspose(_, _, let q, let b, _): (integers, bias) = (q, b)
            default: continue
            }
            guard let weights = lowered.weights[step.name], let positions = weightPositions(step, shape: w.shape) else { continue }
            let scales = weights.scales.map { $0 / p.weightFactor }, channels = w.shape[p.axis], levels = weights.scheme.levels
            var real = [Float](repeating: 0, count: w.count)
            let perChannel = max(integers.count / max(scales.count, 1), 1)
            for (i, at) in positions.enumerated() { real[at] = Float(integers[i]) * scales[i / perChannel] }
            graph.initializers[p.weight] = Tensor(shape: w.shape, floats: real)
            graph.quantization[p.weight] = QuantParams(scales: scales, zeroPoints: [0], axis: p.axis, isSigned: true,
                                                       levels: Int64(levels.lowerBound)...Int64(levels.upperBound))

            let biasScales = weights.scales.map { xScale * $0 * p.biasFactor }
            let name = p.bias ?? graph.addBias(after: index, named: step.name + "_bias")
            let shape = graph.initializers[name]?.shape ?? [channels]
            graph.initializers[name] = Tensor(shape: shape, floats: zip(bias, biasScales).map { Float(Double($0) * Double($1)) })
            graph.quantization[name] = QuantParams(scales: biasScales, zeroPoints: [0], axis: shape.count - 1, isSigned: true, bits: 32)
        }
        return graph
    }

    /// Where each weight of `step`, in the order lowering quantizes them (one output channel's row
    /// after another), sits in its graph initializer of `shape`; nil for a step without weights.
    func weightPositions(_ step: Step, shape: [Int]) -> [Int]? {
        let index = Array(0..<shape.reduce(1, *))
        switch step.kind {
        case .conv: return QuantPlan.ohwi(index, shape: shape)
        case .fullyConnected:
            return QuantPlan.columnsInNHWC(QuantPlan.rows(index, shape: shape, transposed: step.parameters?.axis == 1), flattened: step.flattenedInput)
        case .convTranspose(let a, _, _, _): return QuantPlan.transposedOHWI(index, shape: shape, group: a.group)
        default: return nil
        }
    }
}

extension Graph {
    /// Gives the conv, Gemm or MatMul at `index` a bias input named `name` (its value is set by
    /// the caller): a third input, or for MatMul an Add after it that takes over its output.
    fileprivate mutating func addBias(after index: Int, named name: String) -> String {
        let node = nodes[index]
        if case .matMul = node.op {
            let product = node.outputs[0] + "_product"
            nodes[index].outputs[0] = product
            nodes.insert(Node(name: name + "_add", op: .add, inputs: [product, name], outputs: [node.outputs[0]]), at: index + 1)
        } else {
            nodes[index].inputs.append(name)
        }
        return name
    }
}
