/// One operation applied to named values. Names are stable: reports and plans refer to them.
public struct Node: Equatable, Sendable {
    public var name: String
    public var op: Op
    public var inputs: [String]
    public var outputs: [String]

    public init(name: String, op: Op, inputs: [String], outputs: [String]) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// A graph input: its name and its static shape (the first dimension is the batch).
public struct ValueInfo: Equatable, Sendable {
    public var name: String
    public var shape: [Int]

    public init(name: String, shape: [Int]) {
        self.name = name
        self.shape = shape
    }
}

/// A dataflow graph with nodes in topological order.
///
/// Every value is produced once: by a graph input, an initializer, or one node output.
/// `verify()` checks that, and every pass leaves it true.
public struct Graph: Equatable, Sendable {
    public var name: String
    public var inputs: [ValueInfo]
    public var outputs: [String]
    public var nodes: [Node]
    public var initializers: [String: Tensor]
    /// Quantization parameters kept from an already-quantized source model, by value name.
    public var quantization: [String: QuantParams]

    public init(name: String, inputs: [ValueInfo], outputs: [String], nodes: [Node],
                initializers: [String: Tensor], quantization: [String: QuantParams] = [:]) {
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.nodes = nodes
        self.initializers = initializers
        self.quantization = quantization
    }

    public struct VerifyError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Checks that nodes are in topological order, every input is defined before use, every
    /// value is defined once, every output exists, and shapes infer.
    public func verify() throws {
        var defined = Set(inputs.map(\.name))
        for name in initializers.keys {
            guard defined.insert(name).inserted else {
                throw VerifyError(description: "value '\(name)' is both a graph input and an initializer")
            }
        }
        for node in nodes {
            for input in node.inputs where !defined.contains(input) {
                throw VerifyError(description: "node '\(node.name)' (\(node.op.name)) reads '\(input)' before it is defined")
            }
            for output in node.outputs {
                guard defined.insert(output).inserted else {
                    throw VerifyError(description: "value '\(output)' is defined twice (again by node '\(node.name)')")
                }
            }
        }
        for output in outputs where !defined.contains(output) {
            throw VerifyError(description: "graph output '\(output)' is never produced")
        }
        _ = try inferShapes()
    }

    /// For each value name, the indices of the nodes that read it.
    public func consumers() -> [String: [Int]] {
        var result: [String: [Int]] = [:]
        for (index, node) in nodes.enumerated() {
            for input in node.inputs { result[input, default: []].append(index) }
        }
        return result
    }

    /// Drops the nodes no graph output depends on, and the initializers and quantization
    /// parameters of values nothing reads any more. Returns how many nodes went.
    @discardableResult
    public mutating func removeDeadNodes() -> Int {
        var live = Set(outputs)
        var kept: [Node] = []
        for node in nodes.reversed() where node.outputs.contains(where: live.contains) {
            kept.append(node)
            live.formUnion(node.inputs)
        }
        let removed = nodes.count - kept.count
        nodes = kept.reversed()
        initializers = initializers.filter { live.contains($0.key) }
        quantization = quantization.filter { live.contains($0.key) }
        return removed
    }

    /// The same graph with a different batch size on every input.
    public func withBatch(_ batch: Int) -> Graph {
        var copy = self
        copy.inputs = inputs.map { ValueInfo(name: $0.name, shape: [batch] + $0.shape.dropFirst()) }
        return copy
    }
}
