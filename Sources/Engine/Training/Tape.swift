import Graph

/// Runs a graph forward keeping every value, then backward: the gradient of a scalar loss with
/// respect to every graph input and every initializer (the parameters), by reverse-mode
/// differentiation over the nodes. Generic over the scalar: `Tape<Float>` trains, `Tape<Double>`
/// is what gradient checks compare with central finite differences.
///
///     let tape = Tape<Float>(graph: graph)
///     let logits = try tape.forward(["input": Buffer(images)])["logits"]!
///     let gradients = try tape.backward(["logits": dLossDLogits])   // by value name
///     // gradients["conv1.weight"] has the weight's shape
///
/// Relu/Clip stay separate nodes here (the inference Engine folds them into the op before).
public final class Tape<T: TrainingScalar> {
    public let graph: Graph
    /// The initializers in the tape's scalar type; an optimizer updates them in place.
    public var parameters: [String: Buffer<T>]
    /// Every value of the last forward pass, by name (inputs, parameters and node outputs).
    public private(set) var values: [String: Buffer<T>] = [:]
    /// Training mode: BatchNorm normalizes by each batch's statistics and moves its running
    /// statistics (inputs 3 and 4, updated in `parameters`) towards them; inference mode reads them.
    public var isTraining = false
    /// How far a training batch moves the running statistics (PyTorch's 0.1, ONNX's momentum
    /// 0.9), or nil: their running average over the batches since `resetBatchNormAverage()`,
    /// which is BN recalibration.
    public var batchNormMomentum: Double? = 0.1
    private var averagedBatches = 0
    /// Per-node state the backward pass needs (max pool's chosen positions).
    private var saved: [Int: [Int]] = [:]
    private var shapes: (inputs: [String: [Int]], all: [String: [Int]])?

    public init(graph: Graph) {
        self.graph = graph
        parameters = graph.initializers.mapValues { Buffer($0) }
    }

    /// Runs every node on `inputs` (by graph input name) and returns the graph outputs.
    @discardableResult
    public func forward(_ inputs: [String: Buffer<T>]) throws -> [String: Buffer<T>] {
        var inputShapes: [String: [Int]] = [:]
        for input in graph.inputs {
            guard let buffer = inputs[input.name] else { throw EngineError("input '\(input.name)' is missing") }
            guard buffer.shape.count == input.shape.count, buffer.shape.dropFirst() == input.shape.dropFirst() else {
                throw EngineError("input '\(input.name)' has shape \(buffer.shape); the model expects \(input.shape) (any batch size)")
            }
            inputShapes[input.name] = buffer.shape
        }
        if shapes?.inputs != inputShapes {
            var shaped = graph
            shaped.inputs = graph.inputs.map { ValueInfo(name: $0.name, shape: inputShapes[$0.name]!) }
            do { shapes = (inputShapes, try shaped.inferShapes()) } catch { throw EngineError("\(error)") }
        }
        let all = shapes!.all
        values = parameters
        for input in graph.inputs { values[input.name] = inputs[input.name] }
        saved = [:]
        for (index, node) in graph.nodes.enumerated() {
            let operands = try node.inputs.map { name -> Buffer<T> in
                guard let value = values[name] else { throw EngineError("node '\(node.name)' reads '\(name)', which has no value") }
                return value
            }
            var state: [Int] = []
            values[node.outputs[0]] = try Differentiable.forward(node.op, operands, outputShape: all[node.outputs[0]]!,
                                                                 training: isTraining, saved: &state)
            if !state.isEmpty { saved[index] = state }
            if isTraining, case .batchNorm = node.op { updateRunningStatistics(node, operands[0]) }
        }
        if isTraining { averagedBatches += 1 }
        return graph.outputs.reduce(into: [:]) { $0[$1] = values[$1] }
    }

    /// Starts a new running average for `batchNormMomentum == nil`.
    public func resetBatchNormAverage() { averagedBatches = 0 }

    /// The names of BatchNorm running statistics: parameters an optimizer must leave alone.
    public var batchNormStatistics: Set<String> {
        Set(graph.nodes.flatMap { node -> [String] in
            if case .batchNorm = node.op { return Array(node.inputs.dropFirst(3)) }
            return []
        })
    }

    /// Running mean and variance (the unbiased batch variance, as PyTorch keeps it) moved
    /// towards this batch's.
    private func updateRunningStatistics(_ node: Node, _ x: Buffer<T>) {
        let (mean, variance) = x.channelStatistics()
        let n = Double(x.count / max(x.shape[1], 1))
        let unbiased = variance.map { Double($0) * n / max(n - 1, 1) }
        let rate = batchNormMomentum ?? 1 / Double(averagedBatches + 1)
        for (name, batch) in [(node.inputs[3], mean.map(Double.init)), (node.inputs[4], unbiased)] {
            guard var running = parameters[name], running.count == batch.count else { continue }
            for c in running.values.indices { running.values[c] += T(rate * (batch[c] - Double(running.values[c]))) }
            parameters[name] = running
        }
    }

    /// Gradients of the loss whose gradients with respect to graph outputs are `seeds` (by output
    /// name; an output without a seed contributes nothing), for every value the seeds reach:
    /// graph inputs, parameters and intermediate values, by name. Without `parameters`,
    /// convolutions skip their weight and bias gradients (for gradients in the input alone).
    public func backward(_ seeds: [String: Buffer<T>], parameters: Bool = true) throws -> [String: Buffer<T>] {
        var gradients: [String: Buffer<T>] = [:]
        for (name, seed) in seeds {
            guard let value = values[name] else { throw EngineError("'\(name)' has no value: run forward first") }
            guard seed.shape == value.shape else { throw EngineError("the gradient of '\(name)' has shape \(seed.shape), the value \(value.shape)") }
            gradients[name] = seed
        }
        for (index, node) in graph.nodes.enumerated().reversed() {
            guard let gradient = gradients[node.outputs[0]] else { continue }
            let operands = node.inputs.map { values[$0]! }
            let inputGradients = try Differentiable.backward(node.op, operands, output: values[node.outputs[0]]!, gradient: gradient,
                                                             training: isTraining, saved: saved[index] ?? [], parameters: parameters)
            for (name, g) in zip(node.inputs, inputGradients) {
                guard let g else { continue }
                gradients[name] = gradients[name].map { $0 + g } ?? g
            }
        }
        return gradients
    }
}
