import Graph

extension Pass {
    /// Folds a 1×1 convolution that feeds global average pooling → flatten → Gemm into the
    /// Gemm: pooling commutes with a 1×1 convolution, so Gemm(pool(conv(x))) is
    /// Gemm′(pool(x)) with W′ = W·Wc and b′ = b + W·bc. This is where NORM's feature transform
    /// (1×1 → 1×1 with a residual, already one 1×1 after `fuseBranches`) disappears.
    public static let foldIntoClassifier = Pass(name: "fold-into-classifier") { graph in
        var folded = 0
        let consumers = graph.consumers()
        func soleReader(_ value: String) -> Int? {
            guard let readers = consumers[value], readers.count == 1, !graph.outputs.contains(value) else { return nil }
            return readers[0]
        }
        for conv in graph.nodes {
            guard case .conv(let a) = conv.op, a.kernel == [1, 1], a.strides == [1, 1], a.pads.allSatisfy({ $0 == 0 }), a.group == 1,
                  let convWeight = graph.initializers[conv.inputs[1]],
                  let poolIndex = soleReader(conv.outputs[0]), graph.nodes[poolIndex].op == .globalAveragePool,
                  let flattenIndex = soleReader(graph.nodes[poolIndex].outputs[0]),
                  graph.nodes[flattenIndex].op == .flatten(axis: 1) || graph.nodes[flattenIndex].op == .reshape(shape: [0, -1]),
                  let gemmIndex = soleReader(graph.nodes[flattenIndex].outputs[0]),
                  case .gemm(1, 1, false, let transB) = graph.nodes[gemmIndex].op,
                  graph.nodes[gemmIndex].inputs[0] == graph.nodes[flattenIndex].outputs[0],
                  let gemmWeight = graph.initializers[graph.nodes[gemmIndex].inputs[1]]
            else { continue }
            let gemm = graph.nodes[gemmIndex]
            let (mid, inputs) = (convWeight.shape[0], convWeight.shape[1])
            let outputs = transB ? gemmWeight.shape[0] : gemmWeight.shape[1]
            let w = gemmWeight.floats, wc = convWeight.floats
            let bc = conv.inputs.count > 2 ? graph.initializers[conv.inputs[2]]?.floats ?? [] : Array(repeating: 0, count: mid)
            var bias = gemm.inputs.count > 2 ? graph.initializers[gemm.inputs[2]]?.floats ?? [] : Array(repeating: 0, count: outputs)
            guard bc.count == mid, bias.count == outputs else { continue }
            func gemmAt(_ n: Int, _ c: Int) -> Float { transB ? w[n * mid + c] : w[c * outputs + n] }
            // W′ as [outputs, inputs] (transB form).
            var weight = [Float](repeating: 0, count: outputs * inputs)
            for n in 0..<outputs {
                for c in 0..<mid {
                    let g = gemmAt(n, c)
                    bias[n] += g * bc[c]
                    for i in 0..<inputs { weight[n * inputs + i] += g * wc[c * inputs + i] }
                }
            }
            let (weightName, biasName) = (gemm.name + "_folded_weight", gemm.name + "_folded_bias")
            graph.initializers[weightName] = Tensor(shape: [outputs, inputs], floats: weight)
            graph.initializers[biasName] = Tensor(shape: [outputs], floats: bias)
            graph.nodes[poolIndex].inputs[0] = conv.inputs[0]
            graph.nodes[gemmIndex] = Node(name: gemm.name, op: .gemm(alpha: 1, beta: 1, transA: false, transB: true),
                                          inputs: [gemm.inputs[0], weightName, biasName], outputs: gemm.outputs)
            folded += 1
        }
        graph.removeDeadNodes()
        return PassReport(changes: folded)
    }
}
