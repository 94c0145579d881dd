import ArgumentParser
import Datasets
import Graph
import Pipeline
import Runner

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the C runtime against the Swift integer simulation (QuantSim), bit for bit.",
        discussion: "Runs both on the first --count images of --data and counts output elements that differ; any is an error (exit 1). --kernels checks one kernel set of the runtime.")

    @Argument(help: "The model (.wtm).") var model: String
    @Option(help: "A folder of JPEG/PNG images (labels.tsv or a subfolder per class also work; labels are not used).") var data: String
    @Option(help: "Image preprocessing: \(Preset.helpText). Default: the preset the .wtm records.") var prep: String?
    @Option(help: "How many images.") var count = 50
    @Option(help: ArgumentHelp(stringLiteral: KernelsOption.help)) var kernels = Runner.Kernels.auto.rawValue
    @Option(help: "Threads the runtime splits convolutions across, the calling one included (1 to 16).") var threads = 1
    @Flag(help: "Print one JSON object: images, elements, mismatches, max_difference (uint8 steps).") var json = false

    func run() throws {
        let integer = try IntegerInference(path: model, kernels: try KernelsOption.parse(kernels), threads: threads)
        guard let spec = prep ?? integer.metadata?.preprocessing?.preset else {
            throw CommandError("give --prep: \(model) records no preprocessing")
        }
        let preset = try InputLoader.parsePreset(spec)
        let samples = try LabeledData(folder: data)
        let result = try Verification.run(integer, data: samples, preset: preset, count: max(count, 1),
                                          progress: ProgressMeter.callback("verify", unit: "images", report: note))
        if json {
            try printJSON(["kernels": integer.runner.kernels, "images": result.images, "elements": result.elements, "mismatches": result.mismatches,
                           "max_difference": result.maxDifference])
        } else {
            print("\(result.mismatches) mismatches in \(result.elements) output values over \(result.images) images"
                  + (result.mismatches > 0 ? " (largest difference \(result.maxDifference))" : ""))
        }
        if result.mismatches > 0 { throw ExitCode(1) }
    }
}
