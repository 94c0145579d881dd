// Times the float Engine's forward pass on one model at several batch sizes and prints one
// JSON object (median and minimum milliseconds per batch, median per image). `make bench`
// runs it next to ONNX Runtime on the same machine in the same run: bench/engine_vs_ort.py.
// With --train it times a training step instead (`Trainer.step`: forward in training mode,
// cross-entropy on fixed labels, backward, an SGD step; the batch split over --threads tapes,
// 1 by default) on the model as imported, and reports images per second.
import Dispatch
import Engine
import Foundation
import Graph
import Pipeline
import Training

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: engine-bench MODEL.onnx [--batches 1,32] [--runs N] [--train [--threads N]]\n".utf8))
    exit(2)
}

func option(_ name: String) -> String? {
    arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}

/// Milliseconds of each of `repeats` calls of `body`, after one call to warm up.
func time(_ repeats: Int, _ body: () throws -> Void) rethrows -> [Double] {
    try body()
    return try (0..<repeats).map { _ in
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    }.sorted()
}

do {
    let training = arguments.contains("--train")
    let graph = try ModelLoader.load(path: arguments[1], simplify: !training).graph
    let batches = (option("--batches") ?? "1,32").split(separator: ",").compactMap { Int($0) }
    let runs = Int(option("--runs") ?? "") ?? 10
    let threads = Int(option("--threads") ?? "") ?? 1
    var results: [[String: Any]] = []
    for batch in batches where training {
        let shape = [batch] + graph.inputs[0].shape.dropFirst()
        let input = Buffer<Float>(shape: shape, values: (0..<shape.reduce(1, *)).map { Float($0 % 255) / 127.5 - 1 })
        let trainer = Trainer(graph: graph, optimizer: SGD(learningRate: 1e-4), threads: threads)
        trainer.isTraining = true
        let trainable = Set(trainer.tape.parameters.keys).subtracting(trainer.tape.batchNormStatistics)
        let classes = try graph.withBatch(1).inferShapes()[graph.outputs[0]]?.last ?? 1
        let step = Trainer.Batch(inputs: input, labels: (0..<batch).map { $0 % classes })
        let objective = Trainer.crossEntropy(output: graph.outputs[0])
        let sorted = try time(max(runs, 2)) { try trainer.step(step, trainable: trainable, objective: objective) }
        let median = sorted[sorted.count / 2]
        results.append(["batch": batch, "median_ms": median, "min_ms": sorted[0], "images_per_second": Double(batch) * 1000 / median,
                        "runs": sorted.count])
    }
    for batch in batches where !training {
        let shape = [batch] + graph.inputs[0].shape.dropFirst()
        let input = Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { Float($0 % 255) / 127.5 - 1 })
        let engine = Engine(graph: graph)
        let feed = [graph.inputs[0].name: input]
        let sorted = try time(max(batch == 1 ? runs * 3 : runs, 3)) { _ = try engine.run(feed) }
        let median = sorted[sorted.count / 2]
        results.append(["batch": batch, "median_ms": median, "min_ms": sorted[0], "ms_per_image": median / Double(batch),
                        "runs": sorted.count])
    }
    let data = try JSONSerialization.data(withJSONObject: ["model": arguments[1], "results": results], options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
} catch {
    FileHandle.standardError.write(Data("engine-bench: \(error)\n".utf8))
    exit(1)
}
