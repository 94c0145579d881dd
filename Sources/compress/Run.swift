import ArgumentParser
import Datasets
import Export
import Foundation
import Graph
import Pipeline

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model on one input and print its top classes.",
        discussion: "An .onnx model runs on the float Engine (after the simplify passes), a .wtm on the C runtime (int8).")

    @Argument(help: "The model (.onnx or .wtm).") var model: String
    @Option(help: "The input: a .npy/.npz tensor, or a .jpg/.png image prepared with --prep.") var input: String
    @Option(help: "Image preprocessing: \(Preset.helpText). Default: the preset a .wtm records; tf for an .onnx model.") var prep: String?
    @Option(help: "Fixes dynamic input dimensions, e.g. 1x3x224x224.") var inputShape: String?
    @Option(help: "Write the first output to this .npy file.") var output: String?
    @Option(help: "How many top classes to print.") var top = 5
    @Flag(help: "Print one JSON object: output shape, top classes and scores.") var json = false

    func run() throws {
        try OutputFile.checkDistinct(inputs: [model, input], outputs: output.map { [("--output", $0)] } ?? [])
        let result: Tensor
        let outputName: String
        var metadata: WTMMetadata?
        if model.lowercased().hasSuffix(".wtm") {
            let integer = try IntegerInference(path: model)
            metadata = integer.metadata
            let tensor = try InputLoader.tensor(path: input, for: integer.input, preset: prep ?? metadata?.preprocessing?.preset)
            guard tensor.shape == integer.input.shape else {
                throw CommandError("the input has shape \(tensor.shape); the model takes \(integer.input.shape)")
            }
            result = Tensor(shape: integer.outputShape, floats: try integer.run(tensor.floats))
            outputName = "output"
        } else {
            let loaded = try ModelLoader.load(path: model, inputShape: try inputShape.map(ModelLoader.parseShape))
            let graph = loaded.graph
            guard graph.inputs.count == 1, let info = graph.inputs.first else {
                throw CommandError("the model has \(graph.inputs.count) inputs; run takes models with one")
            }
            let tensor = try InputLoader.tensor(path: input, for: info, preset: prep ?? Preset.tf.rawValue)
            result = try Inference.float(graph, input: tensor)[graph.outputs[0]]!
            outputName = graph.outputs[0]
        }
        if let output { try Npy.write(result, path: output) }
        let scores = result.floats
        let ranked = scores.indices.sorted { scores[$0] > scores[$1] }.prefix(max(top, 0))
        if json {
            try printJSON(["output_shape": result.shape, "top": ranked.map { index -> [String: Any] in
                var entry: [String: Any] = ["class": index, "score": Double(scores[index])]
                if let name = metadata?.label(index) { entry["name"] = name }
                return entry
            }])
        } else {
            print("output \(outputName) \(result.shape)")
            for index in ranked { print(String(format: "%6d  %.5f", index, scores[index]) + (metadata?.label(index).map { "  " + $0 } ?? "")) }
        }
    }
}
