import Graph

extension QuantPlan {
    /// The float graph with the quantization of `integer` written on it, for the QDQ ONNX export
    /// (`ONNXWriter` turns the parameters into QuantizeLinear/DequantizeLinear nodes):
    /// - every integer tensor's value: uint8, its scale and zero point;
    /// - every conv and fully connected weight: symmetric, one scale per output channel along its
    ///   output axis, the same integers the `.wtm` holds (in the float graph's layout), stored as
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
        for tensor in integer.tensors {
            graph.quantization[tensor.name] = QuantParams(scales: [tensor.scale], zeroPoints: [tensor.zeroPoint], isSigned: false)
            inputScales[tensor.name] = tensor.scale
        }
        for (step, op) in zip(steps, integer.ops) {
            guard let p = step.parameters, let w = graph.initializers[p.weight], let xScale = inputScales[step.inputs[0]],
                  p.biasFactor.isFinite, let index = graph.nodes.firstIndex(where: { $0.name == step.name }) else { continue }
            let bias: [Int32]
            switch op.kind {
            case .conv(_, _, _, let b, _), .fullyConnected(_, let b, _), .convTranspose(_, _, _, let b, _): bias = b
            default: continue
            }
            guard let weights = lowered.weights[step.name] else { continue }
            let scales = weights.scales, channels = w.shape[p.axis], levels = weights.scheme.levels
            graph.quantization[p.weight] = QuantParams(scales: scales, zeroPoints: [0], axis: p.axis, isSigned: true,
                                                       levels: Int64(levels.lowerBound)...Int64(levels.upperBound))

            let biasScales = scales.map { xScale * $0 * p.biasFactor }
            let name = p.bias ?? graph.addBias(after: index, named: step.name + "_bias")
            let shape = graph.initializers[name]?.shape ?? [channels]
            graph.initializers[name] = Tensor(shape: shape, floats: zip(bias, biasScales).map { Float(Double($0) * Double($1)) })
            graph.quantization[name] = QuantParams(scales: biasScales, zeroPoints: [0], axis: shape.count - 1, isSigned: true, bits: 32)
        }
        return graph
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
