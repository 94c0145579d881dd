import Graph
import ONNXProto

/// Translates one ONNX node into the graph under construction.
typealias OpImporter = @Sendable (inout ImportContext, Onnx_NodeProto) throws -> Void

/// The state of an import: the graph so far, the static shape of every value, and the values
/// known at import time (initializers, Constant nodes and folded shape arithmetic).
struct ImportContext {
    let opset: Int
    var nodes: [Node] = []
    var inputs: [ValueInfo] = []
    var shapes: [String: [Int]] = [:]
    var constants: [String: Tensor] = [:]
    var quantization: [String: QuantParams] = [:]
    /// Integer constants whose ONNX type is signed 8-bit (zero points tell int8 from uint8).
    var int8Constants = Set<String>()
    /// Values removed at import (Identity, Dropout) → the value that replaces them.
    var aliases: [String: String] = [:]
    private var usedNames = Set<String>()

    init(opset: Int) { self.opset = opset }

    /// The value a node input names after aliases, or nil for an omitted optional input.
    func input(_ node: Onnx_NodeProto, _ index: Int) -> String? {
        guard index < node.input.count, !node.input[index].isEmpty else { return nil }
        return resolve(node.input[index])
    }

    func resolve(_ name: String) -> String {
        var name = name
        while let next = aliases[name] { name = next }
        return name
    }

    func requiredInput(_ node: Onnx_NodeProto, _ index: Int) throws -> String {
        guard let name = input(node, index) else { throw ImportError("\(node.label) is missing input \(index)") }
        guard shapes[name] != nil else { throw ImportError("\(node.label) reads '\(name)', which no node, input or initializer defines") }
        return name
    }

    func shape(_ name: String) -> [Int] { shapes[name] ?? [] }

    /// A constant input (initializer, Constant node or folded value), or nil when it is computed at run time.
    func constant(_ node: Onnx_NodeProto, _ index: Int) -> Tensor? {
        input(node, index).flatMap { constants[$0] }
    }

    /// A constant input that must be known at import for this op, as integers.
    func constantInts(_ node: Onnx_NodeProto, _ index: Int, _ what: String) throws -> [Int]? {
        guard input(node, index) != nil else { return nil }
        guard let tensor = constant(node, index) else {
            throw ImportError("\(node.label): its \(what) input is computed at run time; only constant \(what) is supported")
        }
        return tensor.int64s.map { Int(clamping: $0) }
    }

    /// A constant input as one finite float per element, or an error naming `what`.
    func finiteFloats(_ node: Onnx_NodeProto, _ index: Int, _ what: String) throws -> [Float]? {
        guard let values = constant(node, index)?.floats else { return nil }
        guard values.allSatisfy(\.isFinite) else { throw ImportError("\(node.label): its \(what) \(values) must be finite") }
        return values
    }

    /// `values` (an attribute or constant input named `what`) each within `range`.
    func check(_ values: [Int], within range: ClosedRange<Int>, _ what: String, _ node: Onnx_NodeProto) throws {
        guard values.allSatisfy(range.contains) else {
            throw ImportError("\(node.label): \(what) \(values) must lie within \(range.lowerBound)…\(range.upperBound)")
        }
    }

    mutating func defineConstant(_ name: String, _ tensor: Tensor) {
        constants[name] = tensor
        shapes[name] = tensor.shape
    }

    /// Adds a node for `op` and records the shapes of its outputs.
    /// Every output must hold 1 to `maxTensorElements` elements, and every constant float input
    /// (weights, biases, BatchNorm statistics, operands) be finite.
    mutating func emit(_ op: Op, for node: Onnx_NodeProto, inputs: [String], outputs: [String]? = nil) throws {
        let first = node.output[0] // buildGraph refuses nodes without an output
        for name in inputs {
            guard let tensor = constants[name], tensor.isFloat, !tensor.floats.allSatisfy(\.isFinite) else { continue }
            throw ImportError("\(node.label): '\(name)' holds NaN or infinite values")
        }
        let outputs = outputs ?? [first]
        let inputShapes = inputs.map { shape($0) }
        let outputShapes: [[Int]]
        do {
            outputShapes = try op.outputShapes(inputShapes)
            for shape in outputShapes where try checkedElementCount(shape) == 0 {
                throw ShapeError("its output \(shape) would be empty")
            }
        } catch let error as ShapeError {
            throw ImportError("\(node.label): \(error.description)")
        }
        for (name, shape) in zip(outputs, outputShapes) { shapes[name] = shape }
        nodes.append(Node(name: uniqueName(node), op: op, inputs: inputs, outputs: outputs))
    }

    private mutating func uniqueName(_ node: Onnx_NodeProto) -> String {
        var name = node.name.isEmpty ? "\(node.opType)_\(nodes.count)" : node.name
        while !usedNames.insert(name).inserted { name += "_\(nodes.count)" }
        return name
    }

    /// Normalizes a possibly negative axis for a tensor of the given rank.
    func axis(_ axis: Int, rank: Int, _ node: Onnx_NodeProto) throws -> Int {
        let normalized = axis < 0 ? axis + rank : axis
        guard normalized >= 0, normalized < rank else {
            throw ImportError("\(node.label): axis \(axis) is out of range for rank \(rank)")
        }
        return normalized
    }
}
