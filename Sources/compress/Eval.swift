import ArgumentParser
import Datasets
import Foundation
import Graph
import Pipeline

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Top-1 and top-5 accuracy of a classifier on a labeled image folder.",
        discussion: """
        The folder holds labels.tsv (file, class_index, …), MNIST IDX files, or one subfolder per class. \
        An .onnx model runs on the float Engine, a .wtm on the C runtime (int8).
        """)

    @Argument(help: "The model (.onnx or .wtm).") var model: String
    @Option(help: "The labeled folder.") var data: String
    @Option(help: "Image preprocessing: \(Preset.helpText). Default for a .wtm: the preset it records.") var prep: String?
    @Option(help: "Image side in pixels (default: the model's input size).") var size: Int?
    @Option(help: "Fixes dynamic input dimensions, e.g. 1x3x48x192.") var inputShape: String?
    @Option(help: "Evaluate only the first N images.") var count: Int?
    @Option(help: "Images per Engine batch.") var batch = 16
    @Flag(help: "Print one JSON object: top1, top5 (fractions) and n.") var json = false

    func run() throws {
        if let count, count < 1 { throw CommandError("--count must be at least 1") }
        let samples = try LabeledData(folder: data)
        let progress = ProgressMeter.callback("eval", unit: "images", report: note)
        let accuracy: Accuracy
        if model.lowercased().hasSuffix(".wtm") {
            guard size == nil, inputShape == nil else { throw CommandError("--size and --input-shape do not apply to a .wtm: its input size is fixed") }
            let integer = try IntegerInference(path: model)
            guard let spec = prep ?? integer.metadata?.preprocessing?.preset else {
                throw CommandError("give --prep: \(model) records no preprocessing")
            }
            accuracy = try Evaluation.accuracy(of: integer, on: samples, preset: try InputLoader.parsePreset(spec), limit: count, progress: progress)
        } else {
            guard let prep else { throw CommandError("give --prep: how images become the model's inputs") }
            let preset = try InputLoader.parsePreset(prep)
            let shape = try inputShape.map(ModelLoader.parseShape)
            accuracy = try Evaluation.accuracy(of: ModelLoader.load(path: model, inputShape: shape).graph, on: samples, preset: preset, size: size,
                                               limit: count, batch: max(batch, 1), progress: progress)
        }
        if json {
            try printJSON(["top1": accuracy.top1, "top5": accuracy.top5, "n": accuracy.count])
        } else {
            print(String(format: "top-1 %.2f%%  top-5 %.2f%%  on %d images", accuracy.top1 * 100, accuracy.top5 * 100, accuracy.count))
        }
    }
}
