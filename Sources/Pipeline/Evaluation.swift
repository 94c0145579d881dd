import Datasets
import Engine
import Graph

/// Top-1 / top-5 of a classifier on labeled images.
public struct Accuracy: Sendable {
    public var top1: Double
    public var top5: Double
    public var count: Int
}

public enum Evaluation {
    /// Runs `graph` on the float Engine over `data` in batches and scores its first output
    /// (class scores on the last axis). `progress` hears (done, total) after every batch.
    public static func accuracy(of graph: Graph, on data: LabeledData, preset: Preset, size: Int? = nil, limit: Int? = nil,
                                batch: Int = 16, progress: (Int, Int) -> Void = { _, _ in }) throws -> Accuracy {
        guard graph.inputs.count == 1, graph.inputs[0].shape.count == 4 else {
            throw EngineError("eval takes models with one NCHW image input")
        }
        var graph = graph
        let channels = graph.inputs[0].shape[1]
        if let size, size != graph.inputs[0].shape[2] || size != graph.inputs[0].shape[3] { graph.inputs[0].shape = [1, channels, size, size] }
        let (height, width) = (graph.inputs[0].shape[2], graph.inputs[0].shape[3])
        let engine = Engine(graph: graph)
        return try score(data, preset: preset, input: [channels, height, width], limit: limit, batch: batch, progress: progress) {
            pixels, count in
            try engine.run([graph.inputs[0].name: Tensor(shape: [count, channels, height, width], floats: pixels)])[graph.outputs[0]]!.floats
        }
    }

    /// The same for a `.wtm` model on the C runtime, image by image.
    public static func accuracy(of model: IntegerInference, on data: LabeledData, preset: Preset, limit: Int? = nil,
                                progress: (Int, Int) -> Void = { _, _ in }) throws -> Accuracy {
        let input = model.input.shape
        guard input.count == 4 else { throw EngineError("eval takes models with one NCHW image input") }
        let each = input[1] * input[2] * input[3]
        return try score(data, preset: preset, input: Array(input[1...]), limit: limit, batch: 16, progress: progress) {
            pixels, count in
            try (0..<count).flatMap { try model.run(Array(pixels[$0 * each..<($0 + 1) * each])) }
        }
    }

    /// Top-1/top-5 of `scores` (batch pixels, image count → class scores of each image in turn)
    /// for images prepared as `input` (channels, height, width).
    private static func score(_ data: LabeledData, preset: Preset, input: [Int], limit: Int?, batch: Int,
                              progress: (Int, Int) -> Void, scores: ([Float], Int) throws -> [Float]) throws -> Accuracy {
        guard data.samples.first?.label != LabeledData.unlabeled else {
            throw EngineError("the images have no labels to score against: give a folder with labels.tsv or one subfolder per class")
        }
        let total = min(limit ?? data.samples.count, data.samples.count)
        var top1 = 0, top5 = 0
        for start in stride(from: 0, to: total, by: batch) {
            let indices = Array(start..<min(start + batch, total))
            let pixels = try data.inputs(indices, preset: preset, height: input[1], width: input[2], channels: input[0])
            let scores = try scores(pixels, indices.count)
            let classes = scores.count / indices.count
            for (row, index) in indices.enumerated() {
                let label = data.samples[index].label
                guard label >= 0, label < classes else {
                    throw EngineError("image \(index) has label \(label), outside the model's \(classes) classes")
                }
                let slice = scores[row * classes..<(row + 1) * classes]
                let target = slice[row * classes + label]
                // Rank in a stable descending sort (as numpy's argmax): a class with the same
                // score and a lower index comes first, so a tie is not a hit for free.
                let better = slice.indices.filter { slice[$0] > target || (slice[$0] == target && $0 < row * classes + label) }.count
                if better == 0 { top1 += 1 }
                if better < 5 { top5 += 1 }
            }
            progress(indices.last! + 1, total)
        }
        return Accuracy(top1: Double(top1) / Double(total), top5: Double(top5) / Double(total), count: total)
    }
}
