import Graph

extension Pass {
    /// Folds a per-channel affine map into the Conv or Gemm that feeds it alone: a
    /// BatchNormalization, or an Add, Sub, Mul or Div by a constant with one value per output
    /// channel (or one value), as exporters write a conv's bias or a BatchNorm in pieces.
    ///
    /// With y = x · f + s per channel: W′ = W · f and b′ = b · f + s. A BatchNorm has
    /// f = scale / √(var + ε) and s = bias − mean · f. Example: scale 2, var 3, ε 1 → f = 1;
    /// mean 0.5, bias 0.1, b 1 → b′ = 0.6. An Add of [0.2, 0.3] after a conv without bias gives b′ = [0.2, 0.3].
    public static let foldBatchNorm = Pass(name: "fold-affine") { graph in
        var folded = 0
        var index = 0
        while index < graph.nodes.count {
            defer { index += 1 }
            let node = graph.nodes[index]
            guard let x = node.inputs.first(where: { graph.initializers[$0] == nil }),
                  let producerIndex = graph.nodes.firstIndex(where: { $0.outputs == [x] }),
                  (graph.consumers()[x] ?? []).count == 1, !graph.outputs.contains(x)
            else { continue }
            let producer = graph.nodes[producerIndex]
            guard producer.inputs.count >= 2, let weight = graph.initializers[producer.inputs[1]], weight.isFloat,
                  let (channels, rank) = outputChannels(producer.op, weight: weight),
                  let (factors, shifts) = channelAffine(node, x: x, channels: channels, rank: rank, in: graph),
                  let scaled = scaleOutputChannels(producer.op, weight: weight, factors: factors)
            else { continue }
            let oldBias = producer.inputs.count > 2 ? graph.initializers[producer.inputs[2]]?.floats : Array(repeating: 0, count: channels)
            guard let oldBias, oldBias.count == channels || oldBias.count == 1 else { continue }
            let bias = (0..<channels).map { c in (oldBias.count == 1 ? oldBias[0] : oldBias[c]) * factors[c] + shifts[c] }
            let weightName = node.name + "_folded_weight", biasName = node.name + "_folded_bias"
            graph.initializers[weightName] = scaled
            graph.initializers[biasName] = Tensor(shape: [bias.count], floats: bias)
            var fused = producer
            fused.inputs = [producer.inputs[0], weightName, biasName]
            fused.outputs = node.outputs
            graph.nodes[producerIndex] = fused
            graph.nodes.remove(at: index)
            index -= 1
            folded += 1
        }
        graph.removeDeadNodes()
        return PassReport(changes: folded)
    }

    /// The per-channel (factor, shift) of a node that maps its input `x` (of `rank` dims) as
    /// y = x · factor + shift on each of `channels` channels (axis 1), or nil.
    private static func channelAffine(_ node: Node, x: String, channels: Int, rank: Int, in graph: Graph) -> (factors: [Float], shifts: [Float])? {
        if case .batchNorm(let epsilon) = node.op {
            guard node.inputs[0] == x, let stats = constants(node.inputs.dropFirst(), in: graph), stats.count == 4,
                  stats.allSatisfy({ $0.count == channels }) else { return nil }
            let factors = (0..<channels).map { stats[0][$0] / (stats[3][$0] + epsilon).squareRoot() }
            return (factors, (0..<channels).map { stats[1][$0] - stats[2][$0] * factors[$0] })
        }
        guard node.inputs.count == 2, let k = node.inputs.first(where: { $0 != x }).flatMap({ graph.initializers[$0] }), k.isFloat,
              k.count == 1 || (k.count == channels && Array(k.shape.drop(while: { $0 == 1 })) == [channels] + [Int](repeating: 1, count: rank - 2))
        else { return nil }
        // One value per channel must sit on axis 1 of the output: [C], [1, C] for [N, C]; [C, 1, 1], [1, C, 1, 1] for NCHW.
        let values = k.count == 1 ? [Float](repeating: k.floats[0], count: channels) : k.floats
        let ones = [Float](repeating: 1, count: channels), zeros = [Float](repeating: 0, count: channels)
        switch node.op {
        case .add: return (ones, values)
        case .sub where node.inputs[0] == x: return (ones, values.map { -$0 })
        case .mul: return (values, zeros)
        case .div where node.inputs[0] == x && values.allSatisfy({ $0 != 0 }): return (values.map { 1 / $0 }, zeros)
        default: return nil
        }
    }

    /// Output channels and output rank of a Conv (weight [M, …]) or a plain Gemm, or nil.
    private static func outputChannels(_ op: Op, weight: Tensor) -> (channels: Int, rank: Int)? {
        switch op {
        case .conv where weight.shape.count >= 3: return (weight.shape[0], weight.shape.count)
        case .gemm(1, 1, false, let transB) where weight.shape.count == 2: return (transB ? weight.shape[0] : weight.shape[1], 2)
        default: return nil
        }
    }

    private static func constants(_ names: ArraySlice<String>, in graph: Graph) -> [[Float]]? {
        let tensors = names.compactMap { graph.initializers[$0] }
        guard tensors.count == names.count, tensors.allSatisfy(\.isFloat) else { return nil }
        return tensors.map(\.floats)
    }

    /// The weight with output channel c multiplied by factors[c], or nil when the op is not foldable.
    private static func scaleOutputChannels(_ op: Op, weight: Tensor, factors: [Float]) -> Tensor? {
        var values = weight.floats
        switch op {
        case .conv:
            guard weight.shape[0] == factors.count else { return nil }
            let block = weight.count / factors.count
            for i in values.indices { values[i] *= factors[i / block] }
        case .gemm(1, 1, false, let transB):
            let outputs = transB ? weight.shape[0] : weight.shape[1]
            guard weight.shape.count == 2, outputs == factors.count else { return nil }
            for i in values.indices { values[i] *= factors[transB ? i / weight.shape[1] : i % weight.shape[1]] }
        default:
            return nil
        }
        return Tensor(shape: weight.shape, floats: values)
    }
}
