import ArgumentParser
import Graph
import Pipeline

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model's ops, parameters, MACs and weight bytes, in total or per layer.",
        discussion: """
        MACs are multiply-accumulates of one forward pass at the input shape (batch 1 unless \
        --input-shape says otherwise); budgets call them FLOPs. Params count \
        the float weights and biases; bytes are those parameters stored as float32 (4 each). \
        The counts are taken after import and BatchNorm folding.
        """)

    @Argument(help: "The model (.onnx).") var model: String
    @Option(help: "Fixes dynamic input dimensions, e.g. 1x3x224x224 (a dynamic batch alone defaults to 1).")
    var inputShape: String?
    @Flag(help: "List every layer.") var layers = false
    @Flag(help: "Print one JSON object: macs, params, bytes (totals), ops, inputs, layers with --layers.") var json = false

    func run() throws {
        let loaded = try ModelLoader.load(path: model, inputShape: try inputShape.map(ModelLoader.parseShape))
        let graph = loaded.graph
        let costs = try graph.layerCosts()
        let macs = costs.reduce(0) { $0 + $1.macs }, params = costs.reduce(0) { $0 + $1.params }
        let bytes = costs.reduce(0) { $0 + $1.bytes }
        var ops: [String: Int] = [:]
        for node in graph.nodes { ops[node.op.name, default: 0] += 1 }
        if json {
            var object: [String: Any] = [
                "model": model, "macs": macs, "params": params, "bytes": bytes, "nodes": graph.nodes.count, "ops": ops,
                "inputs": graph.inputs.map { ["name": $0.name, "shape": $0.shape] }, "notes": loaded.notes,
            ]
            if layers {
                object["layers"] = costs.map { ["node": $0.node, "op": $0.op, "output_shape": $0.outputShape,
                                                "macs": $0.macs, "params": $0.params, "bytes": $0.bytes] as [String: Any] }
            }
            try printJSON(object)
            return
        }
        loaded.notes.forEach { print("note: \($0)") }
        for input in graph.inputs { print("input  \(input.name) \(input.shape)") }
        print("nodes  \(graph.nodes.count): " + ops.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        print("MACs   \(humanCount(macs)) (\(macs))")
        print("params \(humanCount(params)) (\(params)), \(humanCount(bytes))B as float32")
        if layers {
            print(padded("node", 40) + padded("op", 20) + padded("output", 22) + padded("MACs", 12) + "params")
            for cost in costs {
                print(padded(cost.node, 40) + padded(cost.op, 20) + padded("\(cost.outputShape)", 22)
                      + padded(humanCount(cost.macs), 12) + humanCount(cost.params))
            }
        }
    }
}
