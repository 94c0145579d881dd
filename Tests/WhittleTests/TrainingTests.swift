import Datasets
import Engine
import Foundation
import Graph
import Importer
import Pipeline
import Training
import XCTest

/// Losses, optimizers, BatchNorm in training mode and the training loop.
final class TrainingTests: XCTestCase {
    /// Each loss's gradient against central finite differences of the loss, in float64.
    func testLossGradientsMatchFiniteDifferences() throws {
        var random = SeededRandom(seed: 21)
        func buffer(_ shape: [Int]) -> Buffer<Double> { Buffer(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in 3 * Double(random.next()) }) }
        let teacher = buffer([3, 5]), target = buffer([2, 3, 2, 2]), feature = buffer([2, 2, 3, 3])
        let losses: [(String, Buffer<Double>, (Buffer<Double>) throws -> (loss: Double, gradient: Buffer<Double>))] = [
            ("cross-entropy", buffer([3, 5]), { Loss.crossEntropy($0, labels: [4, 0, 2]) }),
            ("distillation", buffer([3, 5]), { Loss.distillation(student: $0, teacher: teacher, temperature: 4) }),
            ("mean squared", buffer([2, 3, 2, 2]), { Loss.meanSquared($0, target) }),
            ("N-to-one", buffer([2, 8, 3, 3]), { try Loss.nToOne(student: $0, teacher: feature) }),
        ]
        for (name, x, loss) in losses {
            let analytic = try loss(x).gradient
            for i in 0..<x.count {
                var plus = x, minus = x
                plus.values[i] += 1e-6
                minus.values[i] -= 1e-6
                let numeric = (try loss(plus).loss - loss(minus).loss) / 2e-6
                XCTAssertEqual(analytic.values[i], numeric, accuracy: 1e-7, "\(name) [\(i)]")
            }
        }
        XCTAssertThrowsError(try Loss.nToOne(student: buffer([2, 7, 3, 3]), teacher: feature))
        // The documented example: logits [0, ln 3], label 1.
        let example = Loss.crossEntropy(Buffer(shape: [1, 2], values: [0, Foundation.log(3.0)]), labels: [1])
        XCTAssertEqual(example.loss, -Foundation.log(0.75), accuracy: 1e-12)
        XCTAssertEqual(example.gradient.values[0], 0.25, accuracy: 1e-12)
        // Distillation of identical logits is 0.
        XCTAssertEqual(Loss.distillation(student: teacher, teacher: teacher, temperature: 2).loss, 0, accuracy: 1e-12)
    }

    func testOptimizersFollowTheirUpdateRules() {
        var parameters = ["w": Buffer<Double>(shape: [2], values: [0, 1])]
        let gradients = ["w": Buffer<Double>(shape: [2], values: [1, -2])]
        var sgd = SGD(learningRate: 0.1, momentum: 0.9)
        sgd.step(&parameters, gradients: gradients, trainable: ["w"])
        sgd.step(&parameters, gradients: gradients, trainable: ["w"])
        XCTAssertEqual(parameters["w"]!.values[0], -0.29, accuracy: 1e-12) // the documented example
        XCTAssertEqual(parameters["w"]!.values[1], 1.58, accuracy: 1e-12)
        var frozen = ["w": Buffer<Double>(shape: [2], values: [0, 1])]
        sgd.step(&frozen, gradients: gradients, trainable: [])
        XCTAssertEqual(frozen["w"]!.values, [0, 1])

        var adam = Adam(learningRate: 0.01)
        parameters = ["w": Buffer<Double>(shape: [2], values: [0, 1])]
        adam.step(&parameters, gradients: gradients, trainable: ["w"])
        XCTAssertEqual(parameters["w"]!.values[0], -0.01, accuracy: 1e-8)
        XCTAssertEqual(parameters["w"]!.values[1], 1.01, accuracy: 1e-8)
    }

    /// BatchNorm in training mode: the output is normalized by the batch's statistics, the
    /// gradient checks against finite differences (float64), and the running statistics move
    /// by the momentum, or become the average over batches when recalibrating.
    func testBatchNormTrainingMode() throws {
        var random = SeededRandom(seed: 8)
        let x = Buffer<Double>(shape: [4, 3, 2, 2], values: (0..<48).map { _ in 2 * Double(random.next()) + 1 })
        let graph = Graph(name: "bn", inputs: [ValueInfo(name: "x", shape: [4, 3, 2, 2])], outputs: ["y"],
                          nodes: [Node(name: "bn", op: .batchNorm(epsilon: 1e-5), inputs: ["x", "s", "b", "m", "v"], outputs: ["y"])],
                          initializers: ["s": Tensor(shape: [3], floats: [1, 2, 0.5]), "b": Tensor(shape: [3], floats: [0, 1, -1]),
                                         "m": Tensor(shape: [3], floats: [0, 0, 0]), "v": Tensor(shape: [3], floats: [1, 1, 1])])
        let tape = Tape<Double>(graph: graph)
        tape.isTraining = true
        let y = try tape.forward(["x": x])["y"]!
        // Channel 0 (scale 1, bias 0) comes out with mean 0 and variance ≈ 1.
        func channel0(_ values: [Double]) -> [Double] { (0..<16).map { values[$0 / 4 * 12 + $0 % 4] } }
        let yChannel0 = channel0(y.values)
        XCTAssertEqual(yChannel0.reduce(0, +) / 16, 0, accuracy: 1e-12)
        XCTAssertEqual(yChannel0.map { $0 * $0 }.reduce(0, +) / 16, 1, accuracy: 1e-4)
        // Running mean moved 0.1 of the way to the batch mean.
        let batchMean0: Double = channel0(x.values).reduce(0, +) / 16
        XCTAssertEqual(tape.parameters["m"]!.values[0], 0.1 * batchMean0, accuracy: 1e-12)

        let r = Buffer(shape: y.shape, values: (0..<y.count).map { _ in Double(random.next()) })
        let gradients = try tape.backward(["y": r])
        func loss(_ x: Buffer<Double>) throws -> Double { zip(try tape.forward(["x": x])["y"]!.values, r.values).reduce(0) { $0 + $1.0 * $1.1 } }
        for i in 0..<x.count {
            var plus = x, minus = x
            plus.values[i] += 1e-6
            minus.values[i] -= 1e-6
            XCTAssertEqual(gradients["x"]!.values[i], (try loss(plus) - loss(minus)) / 2e-6, accuracy: 1e-6)
        }
        var scale = tape.parameters["s"]!
        scale.values[1] += 1e-6
        tape.parameters["s"] = scale
        let up = try loss(x)
        scale.values[1] -= 2e-6
        tape.parameters["s"] = scale
        XCTAssertEqual(gradients["s"]!.values[1], (up - (try loss(x))) / 2e-6, accuracy: 1e-6)

        tape.batchNormMomentum = nil
        tape.resetBatchNormAverage()
        let shifted = Buffer(shape: x.shape, values: x.values.map { $0 + 2 })
        try tape.forward(["x": x])
        try tape.forward(["x": shifted])
        XCTAssertEqual(tape.parameters["m"]!.values[0], batchMean0 + 1, accuracy: 1e-12)
    }

    /// The loop trains: the RepVGG MNIST model (unfused, BatchNorm in training mode) with its
    /// classifier re-initialized at random learns it back in one epoch over 2,000 images (the
    /// rest frozen), and scores ≥ 95 % on 500 held-out images (it had 98.95 %; a random
    /// classifier has about 10 %). BN recalibration afterwards keeps it there.
    func testTrainingLoopRelearnsAClassifier() throws {
        var graph = try ONNXImporter.load(path: try Paths.shared("models/fusion/repvgg/model.onnx")).graph
        let data = try LabeledData(folder: try Paths.shared("data/mnist"))
        let gemm = try XCTUnwrap(graph.nodes.first { $0.op.name == "Gemm" })
        var random = SeededRandom(seed: 2)
        for name in gemm.inputs.dropFirst() {
            let shape = graph.initializers[name]!.shape
            graph.initializers[name] = Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in 0.1 * random.next() })
        }
        func accuracy(_ graph: Graph) throws -> Double {
            let indices = Array(8000..<8500)
            let pixels = try data.inputs(indices, preset: .mnist, size: 28, channels: 1)
            let logits = try Engine(graph: graph).run([graph.inputs[0].name: Tensor(shape: [500, 1, 28, 28], floats: pixels)])[graph.outputs[0]]!
            let hits = indices.indices.filter { i in
                let row = Array(logits.floats[i * 10..<(i + 1) * 10])
                return row.indices.max { row[$0] < row[$1] } == data.samples[indices[i]].label
            }
            return Double(hits.count) / 500
        }
        XCTAssertLessThan(try accuracy(graph), 0.3)
        let trainer = Trainer(graph: graph, optimizer: Adam(learningRate: 1e-2))
        var reports: [Trainer.Progress] = []
        try trainer.train(data: data, preset: .mnist, limit: 2000, epochs: 1, batchSize: 32,
                          augmentation: Augmentation(padding: 2, flip: false), frozen: Set(graph.initializers.keys).subtracting(gemm.inputs),
                          objective: Trainer.crossEntropy(output: graph.outputs[0])) {
            reports.append($0)
        }
        XCTAssertEqual(trainer.log.count, 63)
        XCTAssertEqual(reports.last?.step, 63)
        let first = trainer.log.prefix(10).reduce(0, +) / 10, last = trainer.log.suffix(10).reduce(0, +) / 10
        XCTAssertLessThan(last, first / 3, "the loss falls")
        XCTAssertGreaterThanOrEqual(try accuracy(trainer.trainedGraph), 0.95)
        // BN recalibration: running statistics become the average over 512 training digits.
        let before = trainer.tape.parameters
        try trainer.recalibrateBatchNorm(data: data, preset: .mnist, limit: 512, batchSize: 64)
        let statistics = trainer.tape.batchNormStatistics
        XCTAssertFalse(statistics.isEmpty)
        XCTAssert(statistics.allSatisfy { trainer.tape.parameters[$0] != before[$0] }, "every running statistic re-estimated")
        XCTAssert(before.keys.filter { !statistics.contains($0) }.allSatisfy { trainer.tape.parameters[$0] == before[$0] }, "weights unchanged")
        XCTAssertFalse(trainer.tape.isTraining)
        XCTAssertGreaterThanOrEqual(try accuracy(trainer.trainedGraph), 0.95)
    }

    /// A step split over two tapes is the step of one: the MNIST model's gradients summed over
    /// the shards give the same SGD update as the whole batch on one tape, to float rounding.
    func testShardedStepIsTheWholeBatchsStep() throws {
        let graph = try ModelLoader.load(path: try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx")).graph
        let data = try LabeledData(folder: try Paths.shared("data/mnist"))
        let indices = Array(0..<16)
        let batch = Trainer.Batch(inputs: Buffer(shape: [16, 1, 28, 28], values: try data.inputs(indices, preset: .mnist, size: 28, channels: 1)),
                                  labels: indices.map { data.samples[$0].label })
        let objective = Trainer.crossEntropy(output: graph.outputs[0])
        let trained = try [1, 2].map { threads -> [String: Buffer<Float>] in
            let trainer = Trainer(graph: graph, optimizer: SGD(learningRate: 0.1, momentum: 0), threads: threads)
            trainer.isTraining = true
            try trainer.step(batch, trainable: Set(graph.initializers.keys), objective: objective)
            return trainer.tape.parameters
        }
        for (name, whole) in trained[0] {
            let before = graph.initializers[name]!.floats
            let update = zip(whole.values, before).map { $0 - $1 }, sharded = zip(trained[1][name]!.values, before).map { $0 - $1 }
            XCTAssert(update.contains { $0 != 0 }, "\(name) moved")
            XCTAssertLessThan(relativeError(sharded, update), 1e-3, name)
        }
    }
}
