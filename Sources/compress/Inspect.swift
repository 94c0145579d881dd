import ArgumentParser
import Foundation
import Graph
import Pipeline
import Rewrite
import Runner

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model's ops, parameters, MACs and weight bytes, in total or per layer.",
        discussion: """
        MACs are multiply-accumulates of one forward pass at the input shape (batch 1 unless \
        --input-shape says otherwise); budgets call them FLOPs. Params count \
        the float weights and biases; bytes are those parameters stored as float32 (4 each). \
        The counts are taken after import and BatchNorm folding.
        """)

    @Argument(help: "The model (.onnx, or a .wtm: its ops, weight schemes, sizes and what it records of its use).") var model: String
    @Option(help: "Fixes dynamic input dimensions, e.g. 1x3x224x224 (a dynamic batch alone defaults to 1).")
    var inputShape: String?
    @Flag(help: "List every layer.") var layers = false
    @Flag(help: "Show the node counts before and after the simplify passes, and what each pass did.") var simplify = false
    @Flag(help: "Say which nodes int8 has no kernel for (they run in float32 inside the .wtm, as float islands) and why, before any calibration.")
    var int8Coverage = false
    @Flag(help: "Print one JSON object: macs, params, bytes (totals), ops, inputs, layers with --layers, float_ops with --int8-coverage.")
    var json = false

    func run() throws {
        if model.lowercased().hasSuffix(".wtm") { return try inspectWTM() }
        let shape = try inputShape.map(ModelLoader.parseShape)
        var loaded = try ModelLoader.load(path: model, inputShape: shape, simplify: !simplify)
        var before: [String: Int] = [:]
        var passes: [(pass: String, changes: Int, notes: [String])] = []
        if simplify {
            before = Self.opCounts(loaded.graph)
            passes = try Simplify.run(&loaded.graph)
            loaded.notes += passes.flatMap(\.notes)
        }
        let graph = loaded.graph
        let costs = try graph.layerCosts()
        let macs = costs.reduce(0) { $0 + $1.macs }, params = costs.reduce(0) { $0 + $1.params }
        let bytes = costs.reduce(0) { $0 + $1.bytes }
        let ops = Self.opCounts(graph)
        let floatNodes = int8Coverage ? try Pipeline.floatNodes(graph) : []
        if json {
            var object: [String: Any] = [
                "model": model, "macs": macs, "params": params, "bytes": bytes, "nodes": graph.nodes.count, "ops": ops,
                "inputs": graph.inputs.map { ["name": $0.name, "shape": $0.shape] }, "notes": loaded.notes,
            ]
            if simplify {
                object["ops_before"] = before
                object["passes"] = passes.map { ["name": $0.pass, "changes": $0.changes, "notes": $0.notes] as [String: Any] }
            }
            if layers {
                object["layers"] = costs.map { ["node": $0.node, "op": $0.op, "output_shape": $0.outputShape,
                                                "macs": $0.macs, "params": $0.params, "bytes": $0.bytes] as [String: Any] }
            }
            if int8Coverage { object["float_ops"] = floatNodes.map { ["name": $0.name, "op": $0.op, "reason": $0.reason] } }
            try printJSON(object)
            return
        }
        loaded.notes.forEach { print("note: \($0)") }
        if simplify {
            print("before \(before.values.reduce(0, +)) nodes: " + Self.describe(before))
            for pass in passes { print("pass   \(pass.pass): \(pass.changes) change\(pass.changes == 1 ? "" : "s")") }
        }
        for input in graph.inputs { print("input  \(input.name) \(input.shape)") }
        print("nodes  \(graph.nodes.count): " + Self.describe(ops))
        print("MACs   \(humanCount(macs)) (\(macs))")
        print("params \(humanCount(params)) (\(params)), \(humanCount(bytes))B as float32")
        if layers {
            print(padded("node", 40) + padded("op", 20) + padded("output", 22) + padded("MACs", 12) + "params")
            for cost in costs {
                print(padded(cost.node, 40) + padded(cost.op, 20) + padded("\(cost.outputShape)", 22)
                      + padded(humanCount(cost.macs), 12) + humanCount(cost.params))
            }
        }
        if int8Coverage {
            print("int8   \(graph.nodes.count - floatNodes.count) of \(graph.nodes.count) nodes; \(floatNodes.count) run in float32 (a float island)"
                  + (floatNodes.isEmpty ? "" : ":"))
            for node in floatNodes { print("  " + padded(node.name, 38) + padded(node.op, 20) + node.reason) }
        }
    }

    /// A `.wtm`: ops by kind, weights by scheme, sizes, and its metadata.
    private func inspectWTM() throws {
        let wtm = try IntegerInference(path: model)
        let ops = wtm.model.ops.reduce(into: [String: Int]()) { $0[$1.kindName, default: 0] += 1 }
        let schemes = wtm.model.ops.filter { $0.weightCount > 0 }.reduce(into: [String: Int]()) { $0[$1.scheme.rawValue, default: 0] += 1 }
        let meta = wtm.metadata
        if json {
            var object: [String: Any] = ["model": model, "bytes": wtm.bytes.count, "ops": ops, "weight_schemes": schemes,
                                         "macs": wtm.runner.macs, "arena_bytes": wtm.runner.arenaSize, "runtime": Runner.runtimeVersion]
            if let meta { object["metadata"] = try JSONSerialization.jsonObject(with: Data(try meta.json())) }
            return try printJSON(object)
        }
        print("file   \(humanCount(wtm.bytes.count))B, arena \(humanCount(wtm.runner.arenaSize))B")
        print("input  \(wtm.input.shape) NCHW (stored NHWC uint8), preprocessing \(meta?.preprocessing?.preset ?? "not recorded")")
        print("ops    \(wtm.model.ops.count): " + Self.describe(ops))
        print("weights " + Self.describe(schemes))
        print("MACs   \(humanCount(wtm.runner.macs)) (\(wtm.runner.macs))")
        guard let meta else { return print("(no metadata: made before Whittle recorded it)") }
        if let source = meta.source { print("source \(source.file), \(source.bytes) bytes, sha256 \(source.sha256)") }
        print("labels \(meta.labels?.count ?? 0) class names")
        print("made by \(meta.whittle)")
    }

    static func opCounts(_ graph: Graph) -> [String: Int] {
        graph.nodes.reduce(into: [:]) { $0[$1.op.name, default: 0] += 1 }
    }

    static func describe(_ counts: [String: Int]) -> String {
        counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }
}
