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
    /// Runs `graph` over `data` in batches and scores its first output (class scores on the last axis).
    /// `progress` hears (done, total) after every batch.
    public static func accuracy(of graph: Graph, on data: LabeledData, preset: Preset, size: Int? = nil, limit: Int? = nil,
                                batch: Int = 16, progress: (Int, Int) -> Void = { _, _ in }) throws -> Accuracy {
        guard graph.inputs.count == 1, graph.inputs[0].shape.count == 4 else {
            throw EngineError("eval takes models with one NCHW image input")
        }
        var graph = graph
        let channels = graph.inputs[0].shape[1]
        let side = size ?? graph.inputs[0].shape[2]
        if side != graph.inputs[0].shape[2] { graph.inputs[0].shape = [1, channels, side, side] }
        let engine = Engine(graph: graph)
        let total = min(limit ?? data.samples.count, data.samples.count)
        var top1 = 0, top5 = 0
        for start in stride(from: 0, to: total, by: batch) {
            let indices = Array(start..<min(start + batch, total))
            let pixels = try data.inputs(indices, preset: preset, size: side, channels: channels)
            let input = Tensor(shape: [indices.count, channels, side, side], floats: pixels)
            let scores = try engine.run([graph.inputs[0].name: input])[graph.outputs[0]]!.floats
            let classes = scores.count / indices.count
            for (row, index) in indices.enumerated() {
                let label = data.samples[index].label
                guard label >= 0, label < classes else {
                    throw EngineError("image \(index) has label \(label), outside the model's \(classes) classes")
                }
                let slice = scores[row * classes..<(row + 1) * classes]
                let target = slice[row * classes + label]
                let better = slice.filter { $0 > target }.count
                if better == 0 { top1 += 1 }
                if better < 5 { top5 += 1 }
            }
            progress(indices.last! + 1, total)
        }
        return Accuracy(top1: Double(top1) / Double(total), top5: Double(top5) / Double(total), count: total)
    }
}
