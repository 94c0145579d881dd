import Datasets
import Engine
import Foundation
import Graph

/// A training loop over labeled image batches: forward, a loss, backward, an optimizer step.
/// The loss is a closure, so distillation, QAT and supernet training reuse the loop.
///
///     let trainer = Trainer(graph: graph, optimizer: Adam(learningRate: 1e-3))
///     try trainer.train(data: mnist, preset: .mnist, epochs: 1, batchSize: 64,
///                       objective: Trainer.crossEntropy(output: "logits")) { print($0) }
///     // trainer.tape.parameters holds the trained weights; trainer.log the loss of every step
public final class Trainer {
    /// One step's images (augmented, as the model read them) and their labels.
    public struct Batch {
        public var inputs: Buffer<Float>
        public var labels: [Int]

        public init(inputs: Buffer<Float>, labels: [Int]) {
            self.inputs = inputs
            self.labels = labels
        }
    }

    /// What a step reports: the loss and the seeds (loss gradients by graph output name).
    public typealias Objective = (_ outputs: [String: Buffer<Float>], _ batch: Batch) throws -> (loss: Float, seeds: [String: Buffer<Float>])

    public struct Progress: Sendable, CustomStringConvertible {
        public var epoch: Int
        public var step: Int
        public var steps: Int
        /// Mean loss over the epoch so far.
        public var loss: Double
        public var imagesPerSecond: Double

        public var description: String {
            String(format: "epoch %d  step %d/%d  loss %.4f  %.1f images/s", epoch + 1, step, steps, loss, imagesPerSecond)
        }
    }

    /// The tape whose parameters the optimizer steps (the first shard's).
    public let tape: Tape<Float>
    public var optimizer: any Optimizer
    /// The loss of every step, in order.
    public private(set) var log: [Float] = []
    /// Each batch split over tapes on threads of their own (BatchNorm then normalizes by each
    /// shard's statistics, as data-parallel training without synchronized BatchNorm does).
    private var sharded: ShardedTape

    /// Training mode on every shard's tape (BatchNorm normalizes by batch statistics).
    public var isTraining: Bool {
        get { tape.isTraining }
        set { for t in sharded.tapes { t.isTraining = newValue } }
    }

    /// `threads` tapes share each batch (nil: one per core).
    public init(graph: Graph, optimizer: any Optimizer, threads: Int? = nil) {
        let shards = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        sharded = ShardedTape(graph: graph, count: shards, shards: shards)
        tape = sharded.tapes[0]
        self.optimizer = optimizer
    }

    /// Softmax cross-entropy on the graph output `output` against the batch labels.
    public static func crossEntropy(output: String) -> Objective {
        { outputs, batch in
            let labels = batch.labels
            guard let logits = outputs[output] else { throw EngineError("the model has no output '\(output)'") }
            let classes = logits.count / max(logits.shape[0], 1)
            if let bad = labels.first(where: { !(0..<classes).contains($0) }) {
                throw EngineError("label \(bad) is outside the model's \(classes) classes")
            }
            let (loss, gradient) = Loss.crossEntropy(logits, labels: labels)
            return (loss, [output: gradient])
        }
    }

    /// Hinton's distillation (`Loss.distillation`) from `teacher`, a graph with the same input
    /// and output names run by the Engine on each batch: no labels needed.
    public static func distillation(teacher: Graph, temperature: Float = 1) -> Objective {
        let engine = Engine(graph: teacher)
        let output = teacher.outputs[0], input = teacher.inputs[0].name
        return { outputs, batch in
            guard let student = outputs[output] else { throw EngineError("the model has no output '\(output)'") }
            let target = try engine.run([input: batch.inputs.tensor])[output]!
            guard target.shape == student.shape else { throw EngineError("the teacher's output \(target.shape) is not the student's \(student.shape)") }
            let (loss, gradient) = Loss.distillation(student: student, teacher: Buffer(target), temperature: temperature)
            return (loss, [output: gradient])
        }
    }

    /// Trains on the first `limit` samples of `data` (all by default), shuffled each epoch, with
    /// BatchNorm in training mode; `progress` hears every 10th step and each epoch's last.
    /// Parameters named in `frozen`, and BatchNorm running statistics, are not stepped. Training
    /// stops after the step that passes `deadline`.
    public func train(data: LabeledData, preset: Preset, limit: Int? = nil, epochs: Int, batchSize: Int,
                      augmentation: Augmentation = .none, frozen: Set<String> = [], seed: UInt64 = 1, deadline: Date? = nil,
                      objective: Objective, progress: (Progress) -> Void = { _ in }) throws {
        let input = tape.graph.inputs[0]
        guard input.shape.count == 4 else { throw EngineError("training takes models with one NCHW image input") }
        let count = min(limit ?? data.samples.count, data.samples.count)
        guard count > 0, batchSize > 0 else { throw EngineError("nothing to train on: \(count) images, batch \(batchSize)") }
        let trainable = Set(tape.parameters.keys).subtracting(tape.batchNormStatistics).subtracting(frozen)
        var random = SplitMix(seed: seed)
        let wasTraining = isTraining
        isTraining = true
        defer { isTraining = wasTraining }
        let steps = (count + batchSize - 1) / batchSize
        for epoch in 0..<epochs {
            var order = Array(0..<count)
            for i in order.indices.reversed() where i > 0 { order.swapAt(i, random.below(i + 1)) }
            let started = Date()
            var total = 0.0
            for step in 0..<steps {
                let indices = Array(order[step * batchSize..<min((step + 1) * batchSize, count)])
                let shape = [indices.count, input.shape[1], input.shape[2], input.shape[3]]
                var pixels = try data.inputs(indices, preset: preset, size: input.shape[2], channels: input.shape[1])
                augmentation.apply(&pixels, shape: shape, random: &random)
                let batch = Batch(inputs: Buffer(shape: shape, values: pixels), labels: indices.map { data.samples[$0].label })
                let loss = try self.step(batch, trainable: trainable, objective: objective)
                guard loss.isFinite else { throw EngineError("the loss diverged (\(loss)) at epoch \(epoch + 1), step \(step + 1)") }
                log.append(loss)
                total += Double(loss)
                let late = deadline.map { Date() >= $0 } ?? false
                if (step + 1) % 10 == 0 || step + 1 == steps || late {
                    let images = Double(min((step + 1) * batchSize, count))
                    progress(Progress(epoch: epoch, step: step + 1, steps: steps, loss: total / Double(step + 1),
                                      imagesPerSecond: images / max(Date().timeIntervalSince(started), 1e-9)))
                }
                if late { return }
            }
        }
    }

    /// One optimizer step on `batch`, split over the shards (each with OpenBLAS on its own
    /// thread): forward, the objective on the whole batch's outputs, backward, the gradients of
    /// `trainable` summed over the shards; BatchNorm running statistics averaged over them.
    /// Returns the loss; a loss that is not finite leaves the parameters as they were.
    @discardableResult
    public func step(_ batch: Batch, trainable: Set<String>, objective: Objective) throws -> Float {
        sharded.split(batch.inputs.shape[0])
        let shards = sharded
        let outputs = try Engine.withSingleThreadedBLAS { try shards.forward([tape.graph.inputs[0].name: batch.inputs]) }
        let (loss, seeds) = try objective(ShardedTape.joined(outputs), batch)
        guard loss.isFinite else { return loss }
        let parts = try Engine.withSingleThreadedBLAS {
            try shards.backward((0..<shards.shards).map { s in seeds.mapValues { shards.slice($0, s) } }, parameters: true)
        }
        var gradients = parts[0].filter { trainable.contains($0.key) }
        for part in parts.dropFirst() {
            for (name, g) in part where trainable.contains(name) { gradients[name] = gradients[name].map { $0 + g } ?? g }
        }
        optimizer.step(&tape.parameters, gradients: gradients, trainable: trainable)
        for name in tape.batchNormStatistics {
            let parts = sharded.tapes.prefix(sharded.shards).map { $0.parameters[name]! }
            tape.parameters[name] = Buffer(shape: parts[0].shape, values: parts[0].values.indices.map { i in
                parts.reduce(0) { $0 + $1.values[i] } / Float(parts.count)
            })
        }
        for other in sharded.tapes.dropFirst() { other.parameters = tape.parameters }
        return loss
    }

    /// Re-estimates every BatchNorm's running statistics as their average over the first
    /// `limit` images of `data` (BN recalibration, after weights changed), without training.
    public func recalibrateBatchNorm(data: LabeledData, preset: Preset, limit: Int, batchSize: Int) throws {
        let input = tape.graph.inputs[0]
        let count = min(limit, data.samples.count)
        let (training, momentum) = (tape.isTraining, tape.batchNormMomentum)
        (tape.isTraining, tape.batchNormMomentum) = (true, nil)
        tape.resetBatchNormAverage()
        defer { (tape.isTraining, tape.batchNormMomentum) = (training, momentum) }
        for start in stride(from: 0, to: count, by: batchSize) {
            let indices = Array(start..<min(start + batchSize, count))
            let pixels = try data.inputs(indices, preset: preset, size: input.shape[2], channels: input.shape[1])
            try tape.forward([input.name: Buffer(shape: [indices.count] + input.shape.dropFirst(), values: pixels)])
        }
    }

    /// The graph with the trained parameters as its initializers.
    public var trainedGraph: Graph {
        var graph = tape.graph
        for (name, buffer) in tape.parameters { graph.initializers[name] = buffer.tensor }
        return graph
    }

    /// The loss log as CSV: `step,loss`, one line per step.
    public func writeLog(to path: String) throws {
        let lines = ["step,loss"] + log.enumerated().map { "\($0.offset + 1),\($0.element)" }
        try OutputFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: path)
    }
}
