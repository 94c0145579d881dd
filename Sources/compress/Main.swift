import ArgumentParser
import Datasets
import Export
import Foundation
import Graph
import Pipeline
import Quantize

/// The main job: `compress MODEL.onnx --budget B --data DIR --prep P`.
struct Main: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress",
        abstract: "Compress an ONNX model to an int8 .wtm under a budget (the default command).",
        discussion: """
        Budgets: a weight size (6MB, 500KB; decimal, counting int8 weights, int32 biases and \
        requantization parameters) or multiply-accumulates (300MFLOPs or 300MMACs: "FLOPs" means \
        MACs here, as in the MobileNet papers). A MACs budget the model already meets passes; width \
        search for one it misses comes later. Calibration reads images from --data (labels are not \
        used); activations are uint8 per tensor over the range of least squared error (--observer), \
        weights int8 per output channel, biases corrected for the weights' rounding. Without --data, \
        8 calibration inputs are distilled from the model's BatchNorm statistics (ZeroQ; minutes, not \
        seconds, on EfficientNet-Lite0), or from --bn-statistics for a model whose BatchNorm was folded. --emit-onnx \
        writes the same quantization as QDQ ONNX for ONNX Runtime.
        """)

    @Argument(help: "The model (.onnx).") var model: String
    @Option(help: "A budget the result must meet: 6MB (weights) or 300MFLOPs (MACs). Repeatable.") var budget: [String] = []
    @Option(help: "Calibration images: a folder of JPEG/PNG files (or one with labels.tsv or a subfolder per class; labels are not used). Without it, calibration data is distilled from the model's BatchNorm statistics (ZeroQ); that needs a model whose BatchNorm layers are not folded yet, or --bn-statistics.") var data: String?
    @Option(help: ArgumentHelp("Without --data: the statistics a folded model's BatchNorm layers had, for ZeroQ. An .npz with, for each Conv whose weight initializer is W, W.mean and W.variance: its output's per-channel mean and variance (BN's beta and gamma²·var/(var + eps)). models/efficientnet-lite0-bn-statistics.npz is the bundled model's.", valueName: "file.npz"))
    var bnStatistics: String?
    @Option(help: "Image preprocessing: \(Preset.helpText).") var prep: String?
    @Option(help: "Calibrate on the first N images of --data.") var calibrationCount = 100
    @Option(help: "How activation ranges are chosen: \(Observer.allCases.map { "\($0.rawValue) (\($0.help))" }.joined(separator: ", ")).")
    var observer: String = Observer.mse.rawValue
    @Option(help: "Weight precision: int8 (the only one so far).") var bits = "int8"
    @Flag(inversion: .prefixedNo, help: "Correct each conv and FC bias for the mean shift that rounding its weights causes, from the calibration images' channel means.")
    var biasCorrection = true
    @Option(name: [.short, .customLong("output")], help: "The .wtm to write (default: MODEL's name with .wtm, here).") var output: String?
    @Option(help: "Write a JSON report: per-layer ranges, scales, bytes, and int8-vs-float agreement.") var report: String?
    @Option(help: "Also write the model as C sources for firmware into this folder: model.h, model.c (the .wtm as a const array) and an example main.c.")
    var emitC: String?
    @Option(help: "Also write the int8 model as QDQ ONNX (QuantizeLinear/DequantizeLinear around float ops, opset 14), which ONNX Runtime runs: same scales, zero points and integer weights as the .wtm.")
    var emitOnnx: String?
    @Flag(help: "Print one JSON object with the summary instead of the table.") var json = false

    func run() throws {
        let started = Date()
        let budgets = try budget.map(Budget.init(parsing:))
        guard bits == "int8" else { throw CommandError("--bits \(bits) is not available yet; int8 is") }
        guard let observer = Observer(rawValue: observer) else {
            throw CommandError("unknown --observer '\(self.observer)'; choose one of \(Observer.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if data != nil, bnStatistics != nil { throw CommandError("--bn-statistics is for calibration without data; with --data the images are used") }
        if data != nil, prep == nil { throw CommandError("--data needs --prep to say how its images are prepared: \(Preset.helpText)") }
        let loaded = try ModelLoader.load(path: model)
        loaded.notes.forEach { note("note: \($0)") }
        let costs = try loaded.graph.withBatch(1).layerCosts()
        let macs = costs.reduce(0) { $0 + $1.macs }, floatBytes = costs.reduce(0) { $0 + $1.bytes }
        for case .macs(let limit) in budgets where macs > limit {
            throw CommandError("the model has \(humanCount(macs)) MACs, over the \(humanCount(limit)) budget; width search to meet it is not built yet")
        }
        let result: Compression.Result
        if let data, let prep {
            result = try Compression.int8(loaded.graph, data: try LabeledData(folder: data), preset: try InputLoader.parsePreset(prep),
                                          limit: max(calibrationCount, 1), observer: observer, biasCorrection: biasCorrection) { note($0) }
        } else {
            let source = bnStatistics == nil ? try ModelLoader.load(path: model, simplify: false).graph : loaded.graph
            let targets = try ZeroQ.targets(source, folded: try bnStatistics.map { try Npz.read(path: $0) })
            result = try Compression.dataFree(loaded.graph, source: source, targets: targets, observer: observer, biasCorrection: biasCorrection) { note($0) }
        }
        let calibration = data.map { "images from \($0)" }
            ?? "no real data used: \(result.agreement.images) inputs distilled from the BatchNorm statistics (ZeroQ)"
        let weightBytes = result.integer.constantBytes
        for case .weightBytes(let limit) in budgets where weightBytes > limit {
            throw CommandError("the int8 model carries \(humanCount(weightBytes))B of weights, over the \(humanCount(limit))B budget; \(humanCount(weightBytes))B is the smallest reachable until lower bit-widths land")
        }
        let path = output ?? URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent + ".wtm"
        try Data(result.wtm).write(to: URL(fileURLWithPath: path))
        if let emitC {
            try FileManager.default.createDirectory(atPath: emitC, withIntermediateDirectories: true)
            for (name, text) in try CSource.files(wtm: result.wtm, model: result.integer, source: URL(fileURLWithPath: model).lastPathComponent) {
                try Data(text.utf8).write(to: URL(fileURLWithPath: emitC).appendingPathComponent(name))
            }
        }
        if let emitOnnx {
            try Data(try ONNXWriter.write(result.qdq)).write(to: URL(fileURLWithPath: emitOnnx))
        }
        let seconds = Date().timeIntervalSince(started)
        let summary: [String: Any] = [
            "model": model, "output": path, "bits": bits, "macs": macs, "observer": observer.rawValue,
            "budgets": budgets.map(\.description),
            "float_weight_bytes": floatBytes,
            "weight_bytes": weightBytes, "file_bytes": result.wtm.count,
            "arena_bytes": result.arena.size, "peak_live_bytes": result.arena.peakLiveBytes,
            "calibration_images": result.agreement.images, "top1_agreement": result.agreement.top1,
            "calibration": data == nil ? "zeroq" : "images",
            "mean_relative_error": result.agreement.relativeError, "seconds": seconds,
        ]
        if let report {
            var full = summary
            full["layers"] = result.layers.map { layer -> [String: Any] in
                ["name": layer.name, "kind": layer.kind, "output_shape": layer.outputShape,
                 "range": [Double(layer.range.low), Double(layer.range.high)], "scale": Double(layer.scale),
                 "zero_point": Int(layer.zeroPoint), "bytes": layer.bytes]
            }
            let data = try JSONSerialization.data(withJSONObject: full, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: report))
        }
        if json { return try printJSON(summary) }
        print("wrote \(path): int8, \(humanCount(result.wtm.count))B file")
        print("  MACs            \(humanCount(macs))")
        print("  weights         \(humanCount(floatBytes))B float32 → \(humanCount(weightBytes))B int8")
        print("  arena           \(humanCount(result.arena.size))B planned, \(humanCount(result.arena.peakLiveBytes))B peak live")
        print("  calibration     \(calibration)")
        print(String(format: "  agreement       top-1 %.1f%%, mean max|Δ|/max|float| %.4f on %d calibration inputs",
                     result.agreement.top1 * 100, result.agreement.relativeError, result.agreement.images))
        for budget in budgets { print("  budget          \(budget): met") }
        print(String(format: "  time            %.1f s", seconds))
    }
}
