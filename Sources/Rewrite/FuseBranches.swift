import Graph

extension Pass {
    /// Fuses re-parameterized branches (RepVGG, ACNet, DBB, DyRep): parallel chains of linear
    /// ops on one input, summed by Adds, become one convolution.
    ///
    /// A chain is any sequence of Conv, BatchNormalization and AveragePool (counting its padding)
    /// ops, or nothing (the identity). Each chain becomes a dense `AffineConv`; 1×1 → k×k and
    /// 1×1 → pool sequences compose; the chains are zero-padded to the largest kernel at a common
    /// padding and summed. A 1×1 → BN → 3×3 chain fuses exactly only when the zero padding is
    /// applied before the bias (or the bias is zero); otherwise the site is left unfused with a
    /// note, never changed. Example: RepVGG's 3×3 + 1×1 + identity-BN block → one 3×3 conv.
    public static let fuseBranches = Pass(name: "fuse-branches") { graph in
        var report = PassReport(changes: 0)
        // Fusing replaces a root Add in place by a Conv with the same output, so node indices,
        // producers and shapes stay valid; only the readers change.
        let shapes = try graph.inferShapes()
        let producer = Dictionary(graph.nodes.enumerated().flatMap { i, node in node.outputs.map { ($0, i) } },
                                  uniquingKeysWith: { first, _ in first })
        var consumers = graph.consumers()
        for index in graph.nodes.indices.reversed() {
            guard case .add = graph.nodes[index].op, BranchFusion.isTreeRoot(index, in: graph, consumers: consumers) else { continue }
            switch BranchFusion.fuse(rootIndex: index, in: &graph, producer: producer, consumers: consumers, shapes: shapes) {
            case .fused:
                report.changes += 1
                consumers = graph.consumers()
            case .refused(let reason): report.notes.append("left '\(graph.nodes[index].name)' unfused: \(reason)")
            case .notBranches: break
            }
        }
        graph.removeDeadNodes()
        return report
    }
}

enum BranchFusion {
    enum Outcome {
        case fused
        case refused(String)
        case notBranches
    }

    /// The largest bias taken for zero when zero padding follows it (float32 noise of a bias
    /// that is zero by construction is about 1e-7).
    static let biasTolerance: Float = 1e-5

    /// A live Add whose output is not summed again by another Add that reads it alone.
    static func isTreeRoot(_ index: Int, in graph: Graph, consumers: [String: [Int]]) -> Bool {
        let output = graph.nodes[index].outputs[0]
        if graph.outputs.contains(output) { return true }
        let readers = consumers[output] ?? []
        return !readers.isEmpty && (readers.count != 1 || graph.nodes[readers[0]].op != .add)
    }

    static func fuse(rootIndex: Int, in graph: inout Graph, producer: [String: Int], consumers: [String: [Int]],
                     shapes: [String: [Int]]) -> Outcome {
        // The leaves of the Add tree.
        var leaves: [String] = []
        func collect(_ index: Int) {
            for input in graph.nodes[index].inputs {
                if let p = producer[input], graph.nodes[p].op == .add, consumers[input]?.count == 1, !graph.outputs.contains(input) {
                    collect(p)
                } else {
                    leaves.append(input)
                }
            }
        }
        collect(rootIndex)

        // Each leaf's chain back to the branch point: linear ops whose outputs feed only the chain.
        var chains: [[Int]] = [], sources: [String] = []
        for leaf in leaves {
            var chain: [Int] = [], value = leaf
            while let p = producer[value], isLinear(graph.nodes[p].op), consumers[value]?.count == 1, !graph.outputs.contains(value) {
                chain.append(p)
                value = graph.nodes[p].inputs[0]
            }
            chains.append(chain.reversed())
            sources.append(value)
        }
        guard let source = sources.first, sources.allSatisfy({ $0 == source }),
              chains.contains(where: { !$0.isEmpty }) else { return .notBranches }
        guard let inputShape = shapes[source], inputShape.count == 4 else { return .notBranches }

        // Every chain as one dense map.
        var maps: [AffineConv] = []
        var group: Int?
        for chain in chains {
            var map = AffineConv.identity(channels: inputShape[1])
            var first = true
            for index in chain {
                let node = graph.nodes[index]
                switch node.op {
                case .conv(let a):
                    // Every convolution of the block shares one group count, which the fused one keeps.
                    guard let weight = graph.initializers[node.inputs[1]], group == nil || group == a.group,
                          let conv = AffineConv.conv(a, weight: weight, bias: node.inputs.count > 2 ? graph.initializers[node.inputs[2]] : nil)
                    else { return .notBranches }
                    group = a.group
                    guard let next = first ? conv : map.followed(by: conv, biasTolerance: biasTolerance) else {
                        return .refused("in the branch through '\(node.name)', zero padding follows a non-zero bias, so one convolution cannot equal it")
                    }
                    map = next
                case .averagePool(let a, let countIncludePad):
                    guard countIncludePad || a.pads.allSatisfy({ $0 == 0 }), !a.ceilMode, a.kernel.count == 2 else { return .notBranches }
                    let pool = AffineConv.averagePool(a, channels: map.outChannels)
                    guard let next = first ? pool : map.followed(by: pool, biasTolerance: biasTolerance) else {
                        return .refused("in the branch through '\(node.name)', zero padding follows a non-zero bias, so one convolution cannot equal it")
                    }
                    map = next
                case .batchNorm(let epsilon):
                    let stats = node.inputs.dropFirst().compactMap { graph.initializers[$0]?.floats }
                    guard stats.count == 4 else { return .notBranches }
                    let scale = (0..<stats[0].count).map { stats[0][$0] / (stats[3][$0] + epsilon).squareRoot() }
                    let shift = (0..<scale.count).map { stats[1][$0] - stats[2][$0] * scale[$0] }
                    map = map.scaled(scale, shift: shift)
                default:
                    return .notBranches
                }
                first = false
            }
            maps.append(map)
        }
        guard Set(maps.map(\.stride)).count == 1, Set(maps.map(\.outChannels)).count == 1 else { return .notBranches }

        // A common kernel and padding: the largest kernel's.
        let widest = maps.max { $0.kernel.h * $0.kernel.w < $1.kernel.h * $1.kernel.w }!
        var fused = widest
        fused.weight = Array(repeating: 0, count: fused.weight.count)
        fused.bias = Array(repeating: 0, count: fused.outChannels)
        for map in maps {
            guard let placed = map.embedded(kernel: widest.kernel, pads: widest.pads) else { return .notBranches }
            for i in fused.weight.indices { fused.weight[i] += placed.weight[i] }
            for o in fused.bias.indices { fused.bias[o] += placed.bias[o] }
        }
        let fusedGroup = group ?? 1
        guard let weight = fused.groupedWeight(group: fusedGroup) else { return .notBranches }

        // One Conv where the root Add was; the chains and Adds become dead.
        let root = graph.nodes[rootIndex]
        let attributes = ConvAttributes(kernel: [fused.kernel.h, fused.kernel.w], strides: fused.stride, pads: fused.pads,
                                        dilations: [1, 1], group: fusedGroup)
        let (weightName, biasName) = (root.name + "_fused_weight", root.name + "_fused_bias")
        graph.initializers[weightName] = weight
        graph.initializers[biasName] = Tensor(shape: [fused.outChannels], floats: fused.bias)
        graph.nodes[rootIndex] = Node(name: root.name + "_fused", op: .conv(attributes), inputs: [source, weightName, biasName],
                                      outputs: root.outputs)
        return .fused
    }

    private static func isLinear(_ op: Op) -> Bool {
        switch op {
        case .conv, .batchNorm, .averagePool: return true
        default: return false
        }
    }
}
