import Graph

extension Pass {
    /// Folds a BatchNormalization into the Conv or Gemm that feeds it alone.
    ///
    /// With f = scale / √(var + ε) per output channel: W′ = W · f and b′ = (b − mean) · f + bias.
    /// Example: scale 2, var 3, ε 1 → f = 1; mean 0.5, bias 0.1, b 1 → b′ = 0.6.
    public static let foldBatchNorm = Pass(name: "fold-batchnorm") { graph in
        var folded = 0
        var index = 0
        while index < graph.nodes.count {
            defer { index += 1 }
            let bn = graph.nodes[index]
            guard case .batchNorm(let epsilon) = bn.op,
                  let stats = constants(bn.inputs.dropFirst(), in: graph), stats.count == 4,
                  let producerIndex = graph.nodes.firstIndex(where: { $0.outputs == [bn.inputs[0]] }),
                  (graph.consumers()[bn.inputs[0]] ?? []).count == 1, !graph.outputs.contains(bn.inputs[0])
            else { continue }
            let producer = graph.nodes[producerIndex]
            guard producer.inputs.count >= 2 else { continue }
            let factors = (0..<stats[0].count).map { stats[0][$0] / (stats[3][$0] + epsilon).squareRoot() }
            guard let weight = graph.initializers[producer.inputs[1]], weight.isFloat,
                  let scaled = scaleOutputChannels(producer.op, weight: weight, factors: factors)
            else { continue }
            let oldBias = producer.inputs.count > 2 ? graph.initializers[producer.inputs[2]]?.floats : Array(repeating: 0, count: factors.count)
            guard let oldBias, oldBias.count == factors.count || oldBias.count == 1 else { continue }
            let bias = factors.indices.map { c in
                ((oldBias.count == 1 ? oldBias[0] : oldBias[c]) - stats[2][c]) * factors[c] + stats[1][c]
            }
            let weightName = bn.name + "_folded_weight", biasName = bn.name + "_folded_bias"
            graph.initializers[weightName] = scaled
            graph.initializers[biasName] = Tensor(shape: [bias.count], floats: bias)
            var fused = producer
            fused.inputs = [producer.inputs[0], weightName, biasName]
            fused.outputs = bn.outputs
            graph.nodes[producerIndex] = fused
            graph.nodes.remove(at: index)
            index -= 1
            folded += 1
        }
        graph.removeDeadNodes()
        return PassReport(changes: folded)
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
