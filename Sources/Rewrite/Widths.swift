import Graph

/// The width-application pass: channel groups (`Graph.channelGroups`) cut to a number of channels
/// each, their most important kept. A channel's importance is the L1 norm of the weights that
/// make it, each producer's normalized by its mean, summed over the group's producers (the
/// L1-norm criterion of filter pruning). Kept channels stay in their order, so a group kept whole
/// leaves the graph as it was.
public enum Widths {
    /// The group's channels, most important first (ties: lower index first).
    /// Example: a conv of 3 output channels with weights of L1 norms 1, 5, 2 → [1, 2, 0].
    public static func ranking(_ group: ChannelGroup, in graph: Graph) -> [Int] {
        var score = [Double](repeating: 0, count: group.channels)
        let made = Set(group.producers.compactMap { name in graph.nodes.first { $0.name == name }?.inputs[1] })
        for cut in group.slices where made.contains(cut.initializer) {
            let norms = graph.initializers[cut.initializer]!.sums(along: cut.axis) { Double(abs($0)) }
            let mean = norms.reduce(0, +) / Double(max(norms.count, 1))
            for c in norms.indices { score[c] += mean > 0 ? norms[c] / mean : 0 }
        }
        return score.indices.sorted { score[$0] != score[$1] ? score[$0] > score[$1] : $0 < $1 }
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// `graph` with group `groups[g]` cut to `widths[g]` channels (1...channels): those of
    /// `kept[g]` (ascending), or without it the first `widths[g]` of `ranking`. Tensors in
    /// `replacing` take the place of the graph's before the cut, at the graph's shapes (a search
    /// that refits the consumers of removed channels passes their new weights and biases).
    /// The graph still verifies.
    public static func apply(_ graph: Graph, groups: [ChannelGroup], widths: [Int], kept: [[Int]]? = nil,
                             replacing: [String: Tensor] = [:]) throws -> Graph {
        precondition(groups.count == widths.count, "one width per group")
        var cut = graph
        cut.initializers.merge(replacing) { $1 }
        for (g, (group, width)) in zip(groups, widths).enumerated() where width != group.channels {
            guard (1...group.channels).contains(width) else {
                throw Invalid(description: "layer '\(group.producers[0])' cannot keep \(width) of its \(group.channels) channels: keep 1 to \(group.channels)")
            }
            let keep = kept?[g] ?? ranking(group, in: graph).prefix(width).sorted()
            precondition(keep.count == width, "kept channels must number the width")
            for slice in group.slices {
                cut.initializers[slice.initializer] = cut.initializers[slice.initializer]!.gathering(keep, axis: slice.axis)
            }
            for name in group.depthwise + group.reshapes {
                let index = cut.nodes.firstIndex { $0.name == name }!
                switch cut.nodes[index].op {
                case .conv(var attributes):
                    attributes.group = width
                    cut.nodes[index].op = .conv(attributes)
                case .reshape(var target):
                    target[1] = width
                    cut.nodes[index].op = .reshape(shape: target)
                default: continue
                }
            }
        }
        try cut.verify()
        return cut
    }

    /// `graph` with the channels `plan` keeps (`Plan.Layer.channels`; a plan resolved against
    /// the graph gives every layer of a group the same number).
    public static func apply(_ plan: Plan, to graph: Graph) throws -> Graph {
        let groups = try graph.channelGroups()
        let widths = groups.map { group in plan[group.producers[0]]?.channels ?? group.channels }
        guard widths != groups.map(\.channels) else { return graph }
        return try apply(graph, groups: groups, widths: widths)
    }
}
