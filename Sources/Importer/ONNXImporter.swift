import Foundation
import Graph
import ONNXProto
import SwiftProtobuf

/// An imported model: the graph and what the importer had to say about it.
public struct ImportedModel {
    public var graph: Graph
    public var irVersion: Int
    /// The default-domain opset of the file as read (before any upgrade).
    public var opset: Int
    /// Upgrades, skipped checks and similar remarks, one line each.
    public var notes: [String]
}

/// Reads ONNX files into a `Graph` with static shapes.
///
/// Old opsets (below 13) are upgraded with libonnx's version converter where it succeeds;
/// models newer than libonnx knows (IR > 8 or opset > 17) skip it and rely on Whittle's own
/// shape inference. Shape subgraphs fold to constants, Identity/Dropout disappear.
public enum ONNXImporter {
    /// The opset old models are upgraded to.
    public static let upgradeOpset = 13

    /// Imports the file at `path`. `inputShape` fixes the input's dynamic dimensions; without it a
    /// dynamic first (batch) dimension becomes 1 and any other dynamic dimension is an error.
    public static func load(path: String, inputShape: [Int]? = nil) throws -> ImportedModel {
        let fileName = (path as NSString).lastPathComponent
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImportError("cannot read '\(path)': no such file or not readable")
        }
        do {
            return try load(data: data, inputShape: inputShape)
        } catch let error as ImportError {
            throw ImportError("\(fileName): \(error.description)")
        }
    }

    public static func load(data: Data, inputShape: [Int]? = nil) throws -> ImportedModel {
        var model = try parse(data)
        let irVersion = Int(model.irVersion)
        let opset = defaultOpset(model)
        var notes: [String] = []
        var importOpset = opset
        let libonnxKnows = irVersion <= LibONNX.maxIRVersion && opset <= LibONNX.maxOpset
        if !libonnxKnows {
            notes.append("IR \(irVersion), opset \(opset) is newer than libonnx knows (IR \(LibONNX.maxIRVersion), opset \(LibONNX.maxOpset)): libonnx checks skipped, Whittle's own shape inference used")
        } else {
            do { try LibONNX.check(data) } catch let error as ImportError {
                notes.append("libonnx checker: \(firstLine(error.description))")
            }
        }
        if libonnxKnows && opset < upgradeOpset {
            do {
                model = try parse(try LibONNX.convert(data, toOpset: upgradeOpset))
                importOpset = upgradeOpset
                notes.append("upgraded opset \(opset) to \(upgradeOpset) with libonnx")
            } catch let error as ImportError {
                notes.append("opset \(opset) kept: libonnx could not upgrade it (\(firstLine(error.description)))")
            }
        }
        let graph = try buildGraph(model.graph, opset: importOpset, inputShape: inputShape)
        return ImportedModel(graph: graph, irVersion: irVersion, opset: opset, notes: notes)
    }

    private static func parse(_ data: Data) throws -> Onnx_ModelProto {
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw ImportError("not a valid ONNX model (protobuf decoding failed: \(error))")
        }
        guard model.hasGraph, !model.graph.node.isEmpty else {
            throw ImportError("not a valid ONNX model: it has no graph nodes")
        }
        return model
    }

    private static func defaultOpset(_ model: Onnx_ModelProto) -> Int {
        Int(model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }?.version ?? 1)
    }

    private static func firstLine(_ text: String) -> String {
        String(text.split(separator: "\n").first ?? "")
    }

    /// Every op the importer translates, by ONNX name.
    static let registry: [String: OpImporter] = [Convolution.table, Linear.table, Elementwise.table,
                                                 Pooling.table, DataMovement.table, Quantized.table]
        .reduce(into: [:]) { $0.merge($1) { first, _ in first } }

    /// Names of the ONNX ops Whittle imports (folded shape ops included).
    public static var supportedOps: [String] { Array(Set(registry.keys).union(Folding.foldable)).sorted() }

    private static func buildGraph(_ proto: Onnx_GraphProto, opset: Int, inputShape: [Int]?) throws -> Graph {
        var ctx = ImportContext(opset: opset)
        for initializer in proto.initializer {
            ctx.defineConstant(initializer.name, try Tensor(onnx: initializer))
            if initializer.dataType == ONNXType.int8.rawValue { ctx.int8Constants.insert(initializer.name) }
        }
        let realInputs = proto.input.filter { ctx.constants[$0.name] == nil }
        guard !realInputs.isEmpty else { throw ImportError("the graph has no inputs") }
        guard !proto.output.isEmpty else { throw ImportError("the graph has no outputs") }
        for input in realInputs {
            let shape = try staticShape(input, override: realInputs.count == 1 ? inputShape : nil)
            ctx.inputs.append(ValueInfo(name: input.name, shape: shape))
            ctx.shapes[input.name] = shape
        }
        for node in proto.node {
            // Every op below names its first output; a node without one is refused here, once.
            guard let first = node.output.first, !first.isEmpty else { throw ImportError("\(node.label) has no output") }
            if try Folding.fold(node, &ctx) { continue }
            let domain = node.domain.isEmpty || node.domain == "ai.onnx" ? "" : node.domain + "."
            guard let importer = registry[domain + node.opType] ?? (domain == "com.microsoft." ? registry[node.opType] : nil) else {
                throw ImportError("unsupported op \(domain)\(node.opType): \(node.label)")
            }
            try importer(&ctx, node)
        }
        let outputs = try proto.output.map { output -> String in
            let name = ctx.resolve(output.name)
            guard ctx.shapes[name] != nil else { throw ImportError("graph output '\(output.name)' is never produced") }
            guard ctx.constants[name] == nil else { throw ImportError("graph output '\(output.name)' is a constant") }
            return name
        }
        return try assemble(ctx, name: proto.name, outputs: outputs)
    }

    /// The input's shape with dynamic dimensions filled from `override` or a batch of 1.
    private static func staticShape(_ input: Onnx_ValueInfoProto, override: [Int]?) throws -> [Int] {
        let type = input.type.tensorType.elemType
        guard type == 0 || ONNXType(rawValue: type)?.isFloatingPoint == true else {
            throw ImportError("input '\(input.name)' holds \(ONNXType(rawValue: type).map { "\($0)" } ?? "type \(type)") values; Whittle runs models whose input is floating point")
        }
        let dims = input.type.tensorType.shape.dim.map { dim -> Int? in
            if case .dimValue(let value) = dim.value, value > 0 { return Int(value) }
            return nil
        }
        let described = "[" + dims.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
        if let override {
            guard override.count == dims.count,
                  zip(dims, override).allSatisfy({ $0 == nil || $0 == $1 }), override.allSatisfy({ $0 > 0 })
            else { throw ImportError("--input-shape \(override.map(String.init).joined(separator: "x")) does not fit input '\(input.name)' of shape \(described)") }
            try checkedCount(override, of: "--input-shape")
            return override
        }
        guard !dims.isEmpty else { throw ImportError("input '\(input.name)' has no shape; give one with --input-shape") }
        let shape = try dims.enumerated().map { index, dim in
            if let dim { return dim }
            guard index == 0 else {
                throw ImportError("input '\(input.name)' has dynamic dimensions \(described); give them with --input-shape, e.g. 1x3x224x224")
            }
            return 1
        }
        try checkedCount(shape, of: "input '\(input.name)'")
        return shape
    }

    /// Keeps the nodes the outputs depend on and the constants those nodes read.
    private static func assemble(_ ctx: ImportContext, name: String, outputs: [String]) throws -> Graph {
        let read = Set(ctx.nodes.flatMap(\.inputs))
        var graph = Graph(name: name, inputs: ctx.inputs, outputs: outputs, nodes: ctx.nodes,
                          initializers: ctx.constants.filter { read.contains($0.key) }, quantization: ctx.quantization)
        graph.removeDeadNodes()
        do { try graph.verify() } catch { throw ImportError("the imported graph is inconsistent: \(error)") }
        return graph
    }
}
