import COpenBLAS
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
/// as soon as its last reader has run, so a forward pass allocates nothing per op. A batch runs
/// one image at a time through a batch-1 plan when no op mixes images (`isBatchSeparable`),
/// so each layer's output is still in cache when the next layer reads it; otherwise the
/// whole batch is planned at once.
///
///     let engine = Engine(graph: graph)
///     let logits = try engine.run(["input": image])["logits"]!
public final class Engine {
    public let graph: Graph
    private let weights: [String: ConstantBuffer]
    private let separable: Bool
    private var plan: Plan?

    public init(graph: Graph) {
        self.graph = graph
        separable = Engine.isBatchSeparable(graph)
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
        let batch = shapes[graph.inputs[0].name]![0]
        let split = batch > 1 && separable
        let planShapes = split ? shapes.mapValues { [1] + $0.dropFirst() } : shapes
        if plan == nil || plan!.inputShapes != planShapes {
            plan = try Plan(graph: graph, inputShapes: planShapes, weights: weights)
        }
        let plan = plan!
        let items = split ? batch : 1
        var results = graph.outputs.map { output in
            var values = [Float]()
            values.reserveCapacity(plan.shape(output).reduce(1, *) * items)
            return values
        }
        for item in 0..<items {
            for input in graph.inputs {
                let count = planShapes[input.name]!.reduce(1, *)
                inputs[input.name]!.floats.withUnsafeBufferPointer {
                    plan.pointer(input.name).update(from: $0.baseAddress! + item * count, count: count)
                }
            }
            try plan.run()
            for (index, output) in graph.outputs.enumerated() {
                results[index] += UnsafeBufferPointer(start: plan.pointer(output), count: plan.shape(output).reduce(1, *))
            }
        }
        var outputs: [String: Tensor] = [:]
        for (index, output) in graph.outputs.enumerated() {
            let shape = plan.shape(output)
            outputs[output] = Tensor(shape: split ? [batch] + shape.dropFirst() : shape, floats: results[index])
        }
        return outputs
    }

    /// Stops OpenBLAS's idle worker threads, which otherwise spin on another core for about
    /// 0.1 s after the library loads. Timing the C runtime calls this first: `compress profile`
    /// on two threads would share its second core with them. The next Engine run restarts them.
    public static func stopIdleBLASThreads() {
        whittle_blas_stop_idle_threads()
    }

    /// Runs `body` with OpenBLAS on the calling thread only, for callers that split work over
    /// threads of their own (each then calls SGEMM itself); the previous thread count after.
    public static func withSingleThreadedBLAS<R>(_ body: () throws -> R) rethrows -> R {
        let previous = openblas_get_num_threads()
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(previous) }
        return try body()
    }

    /// Whether every op treats the images of a batch independently, so running them one at a
    /// time gives the same result. True for CNN classifiers; false when an op reshapes, slices,
    /// pads or reduces across the batch dimension.
    public static func isBatchSeparable(_ graph: Graph) -> Bool {
        guard let shapes = try? graph.withBatch(1).inferShapes() else { return false }
        /// Whether a constant operand has a batch dimension of its own (a [2, 4] Gemm C, an
        /// [N, C, H, W] addend): running one image at a time would read its first row only.
        func batchedConstant(_ name: String, rank: Int) -> Bool {
            guard let shape = graph.initializers[name]?.shape else { return false }
            return shape.count == rank && shape.count >= 2 && shape[0] != 1
        }
        return graph.outputs.allSatisfy { shapes[$0]?.first == 1 } && graph.nodes.allSatisfy { node in
            let rank = shapes[node.outputs[0]]?.count ?? 0
            switch node.op {
            case .gemm(_, _, let transA, _): return !transA && !(node.inputs.count > 2 && batchedConstant(node.inputs[2], rank: rank))
            case .add, .sub, .mul, .div, .pow: return !node.inputs.contains { batchedConstant($0, rank: rank) }
            case .softmax(let axis): return axis != 0
            case .reduceMean(let axes, _): return !axes.isEmpty && !axes.contains(0)
            case .reshape(let shape): return shape.first == 0
            case .flatten(let axis): return axis >= 1
            case .transpose(let perm): return perm.first == 0
            case .concat(let axis): return axis != 0
            case .slice(_, _, let axes, _): return !axes.contains(0)
            case .pad(let pads, _, _): return pads[0] == 0 && pads[pads.count / 2] == 0
            case .squeeze(let axes), .unsqueeze(let axes): return !axes.isEmpty && !axes.contains(0)
            case .resize(let a): return a.sizes == nil ? a.scales.first == 1 : a.sizes!.first == 1
            case .matMul:
                return (shapes[node.inputs[0]]?.count ?? 0) >= 2 && (shapes[node.inputs[1]]?.count ?? 3) <= 2
            default:
                // Elementwise ops, convolutions, pools and BatchNorm act per image.
                return true
            }
        }
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
