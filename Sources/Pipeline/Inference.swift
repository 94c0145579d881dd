import Engine
import Graph

/// Float inference for the commands.
public enum Inference {
    /// Runs the graph on its single input with the float Engine and returns its outputs by name.
    public static func float(_ graph: Graph, input: Tensor) throws -> [String: Tensor] {
        try Engine(graph: graph).run([graph.inputs[0].name: input])
    }
}
