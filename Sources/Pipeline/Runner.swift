import Engine
import Graph

/// Float execution of a graph for the commands.
public enum Runner {
    /// Runs the graph on its single input and returns its outputs by name.
    public static func forward(_ graph: Graph, input: Tensor) throws -> [String: Tensor] {
        try Engine(graph: graph).run([graph.inputs[0].name: input])
    }
}
