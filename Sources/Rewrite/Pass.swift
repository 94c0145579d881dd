import Graph

/// A named graph rewrite. `apply` returns how many sites it changed; the graph it leaves
/// must still `verify()`.
public struct Pass: Sendable {
    public let name: String
    public let apply: @Sendable (inout Graph) throws -> Int

    public init(name: String, apply: @escaping @Sendable (inout Graph) throws -> Int) {
        self.name = name
        self.apply = apply
    }
}

extension Pass {
    /// Drops nodes no graph output depends on, and initializers nothing reads.
    public static let removeDeadNodes = Pass(name: "remove-dead-nodes") { graph in
        var live = Set(graph.outputs)
        var kept: [Node] = []
        for node in graph.nodes.reversed() where node.outputs.contains(where: live.contains) {
            kept.append(node)
            live.formUnion(node.inputs)
        }
        let removed = graph.nodes.count - kept.count
        graph.nodes = kept.reversed()
        graph.initializers = graph.initializers.filter { live.contains($0.key) }
        return removed
    }
}
