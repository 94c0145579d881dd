import ArgumentParser
import Datasets
import Foundation
import Pipeline

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Top-1 and top-5 accuracy of a classifier on a labeled image folder.",
        discussion: "The folder holds labels.tsv (file, class_index, …), MNIST IDX files, or one subfolder per class.")

    @Argument(help: "The model (.onnx).") var model: String
    @Option(help: "The labeled folder.") var data: String
    @Option(help: "Image preprocessing: \(Preset.helpText).") var prep: String
    @Option(help: "Image side in pixels (default: the model's input size).") var size: Int?
    @Option(help: "Evaluate only the first N images.") var count: Int?
    @Option(help: "Images per Engine batch.") var batch = 16
    @Flag(help: "Print one JSON object: top1, top5 (fractions) and n.") var json = false

    func run() throws {
        let preset = try InputLoader.parsePreset(prep)
        let loaded = try ModelLoader.load(path: model)
        let samples = try LabeledData(folder: data)
        var lastReport = 0
        let accuracy = try Evaluation.accuracy(of: loaded.graph, on: samples, preset: preset, size: size, limit: count,
                                               batch: max(batch, 1)) { done, total in
            if done == total || done - lastReport >= total / 10 {
                note("eval: \(done)/\(total) images")
                lastReport = done
            }
        }
        if json {
            try printJSON(["top1": accuracy.top1, "top5": accuracy.top5, "n": accuracy.count])
        } else {
            print(String(format: "top-1 %.2f%%  top-5 %.2f%%  on %d images", accuracy.top1 * 100, accuracy.top5 * 100, accuracy.count))
        }
    }
}
