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
/// whole batch is planned at once. When such a graph ends in small planes (7×7 and the like),
/// that tail runs on `ChannelMajor.images` images at a time stored [C, H, W, N], so each of
/// its matrix products covers every image at once.
///
///     let engine = Engine(graph: graph)
///     let logits = try engine.run(["input": image])["logits"]!
public final class Engine {
    public let graph: Graph
    private let weights: [String: ConstantBuffer]
    private let separable: Bool
    /// The graph cut where a separable batch goes over to the [C, H, W, N] tail.
    private(set) var split: Split?
    /// The whole graph's plan for the last input shapes.
    private var plan: Plan?
    /// The head's plan (batch 1) and the tail's, by images per run.
    private var headPlan: Plan?
    private var tailPlans: [Int: Plan] = [:]

    /// The nodes before the cut, run image by image, and from it, run on several images at once.
    struct Split {
        let head: Graph
        let tail: Graph
        /// The one value the head hands the tail, and its shape for one image.
        let value: String
        let shape: [Int]
    }

    public init(graph: Graph) {
        self.graph = graph
        separable = Engine.isBatchSeparable(graph)
        var weights: [String: ConstantBuffer] = [:]
        for (name, tensor) in graph.initializers { weights[name] = ConstantBuffer(tensor.floats) }
        self.weights = weights
        if separable, let shapes = try? graph.withBatch(1).inferShapes(), let (cut, value) = ChannelMajor.cut(graph, shapes: shapes) {
            var head = graph, tail = graph
            head.nodes = Array(graph.nodes[..<cut])
            head.outputs = [value]
            tail.nodes = Array(graph.nodes[cut...])
            tail.inputs = [ValueInfo(name: value, shape: shapes[value]!)]
            split = Split(head: head, tail: tail, value: value, shape: shapes[value]!)
        }
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
        if batch > 1, let split, let outputs = try runSplit(split, inputs, batch: batch) { return outputs }
        let separate = batch > 1 && separable
        let planShapes = separate ? shapes.mapValues { [1] + $0.dropFirst() } : shapes
        if plan == nil || plan!.inputShapes != planShapes {
            plan = try Plan(graph: graph, inputShapes: planShapes, weights: weights)
        }
        let plan = plan!
        let items = separate ? batch : 1
        var results = graph.outputs.map { _ in [Float]() }
        for item in 0..<items {
            feed(inputs, item: item, to: plan)
            plan.run()
            for (index, output) in graph.outputs.enumerated() {
                results[index] += UnsafeBufferPointer(start: plan.pointer(output), count: plan.shape(output).reduce(1, *))
            }
        }
        return collect(results, from: plan, batch: separate ? batch : nil)
    }

    /// Runs a separable batch through the head image by image and the tail `ChannelMajor.images`
    /// at a time; nil (and no split from then on) when the tail cannot run channel-major.
    private func runSplit(_ split: Split, _ inputs: [String: Tensor], batch: Int) throws -> [String: Tensor]? {
        let chunk = min(ChannelMajor.images, batch)
        guard (try? tailPlan(split, images: chunk)) != nil else {
            self.split = nil
            return nil
        }
        let headShapes = Dictionary(uniqueKeysWithValues: graph.inputs.map { ($0.name, [1] + inputs[$0.name]!.shape.dropFirst()) })
        if headPlan == nil || headPlan!.inputShapes != headShapes {
            headPlan = try Plan(graph: split.head, inputShapes: headShapes, weights: weights)
        }
        let head = headPlan!
        let count = split.shape.reduce(1, *)
        var results = graph.outputs.map { _ in [Float]() }
        for start in stride(from: 0, to: batch, by: chunk) {
            let images = min(chunk, batch - start)
            let tail = try tailPlan(split, images: images)
            let gathered = tail.pointer(split.value)
            for image in 0..<images {
                feed(inputs, item: start + image, to: head)
                head.run()
                let value = head.pointer(split.value)
                for i in 0..<count { gathered[i * images + image] = value[i] }
            }
            tail.run()
            for (index, output) in graph.outputs.enumerated() {
                results[index] += UnsafeBufferPointer(start: tail.pointer(output), count: tail.shape(output).reduce(1, *))
            }
        }
        return collect(results, from: try tailPlan(split, images: chunk), batch: batch)
    }

    /// The tail's plan for `images` images, kept for the full chunk and the last other count.
    private func tailPlan(_ split: Split, images: Int) throws -> Plan {
        if let plan = tailPlans[images] { return plan }
        let plan = try Plan(graph: split.tail, inputShapes: [split.value: [images] + split.shape.dropFirst()],
                            weights: weights, channelMajorInputs: true)
        tailPlans = tailPlans.filter { $0.key == ChannelMajor.images }
        tailPlans[images] = plan
        return plan
    }

    /// Copies image `item` of every input (the whole input when the plan's batch is the input's).
    private func feed(_ inputs: [String: Tensor], item: Int, to plan: Plan) {
        for input in graph.inputs {
            let count = plan.inputShapes[input.name]!.reduce(1, *)
            inputs[input.name]!.floats.withUnsafeBufferPointer {
                plan.pointer(input.name).update(from: $0.baseAddress! + item * count, count: count)
            }
        }
    }

    /// The outputs as tensors: shaped as in `plan`, or with `batch` images when they were run apart.
    private func collect(_ results: [[Float]], from plan: Plan, batch: Int?) -> [String: Tensor] {
        var outputs: [String: Tensor] = [:]
        for (index, output) in graph.outputs.enumerated() {
            let shape = plan.shape(output)
            outputs[output] = Tensor(shape: batch.map { [$0] + shape.dropFirst() } ?? shape, floats: results[index])
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
