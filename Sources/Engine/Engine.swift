import Graph

/// Why a graph could not run: an input of the wrong shape, a missing input, an op the Engine
/// cannot execute.
public struct EngineError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs a `Graph` in float32 on NCHW batches.
///
/// Buffers are planned once per input shape: every activation gets a slot in a pool reused
/// as soon as its last reader has run, so a forward pass allocates nothing per op. Running a
/// batch of a new size plans again.
///
///     let engine = Engine(graph: graph)
///     let logits = try engine.run(["input": image])["logits"]!
public final class Engine {
    public let graph: Graph
    private let weights: [String: ConstantBuffer]
    private var plan: Plan?

    public init(graph: Graph) {
        self.graph = graph
        var weights: [String: ConstantBuffer] = [:]
        for (name, tensor) in graph.initializers { weights[name] = ConstantBuffer(tensor.floats) }
        self.weights = weights
    }

    /// Runs the graph on `inputs` (by graph input name) and returns every graph output.
    public func run(_ inputs: [String: Tensor]) throws -> [String: Tensor] {
        var shapes: [String: [Int]] = [:]
        for input in graph.inputs {
            guard let tensor = inputs[input.name] else {
                throw EngineError("input '\(input.name)' is missing (the model's inputs: \(graph.inputs.map(\.name).joined(separator: ", ")))")
            }
            guard tensor.shape.count == input.shape.count, tensor.shape.dropFirst() == input.shape.dropFirst() else {
                throw EngineError("input '\(input.name)' has shape \(tensor.shape); the model expects \(input.shape) (any batch size)")
            }
            shapes[input.name] = tensor.shape
        }
        if plan == nil || plan!.inputShapes != shapes {
            plan = try Plan(graph: graph, inputShapes: shapes, weights: weights)
        }
        return try plan!.execute(graph: graph, inputs: inputs)
    }
}

/// A float array copied once into memory the kernels read through pointers.
final class ConstantBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(_ values: [Float]) {
        count = values.count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(from: values, count: count)
    }

    deinit { pointer.deallocate() }
}
