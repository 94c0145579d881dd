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
        abstract: "Compress an ONNX model to a .wtm under a budget (the default command).",
        discussion: """
        Budgets (repeatable): a weight size (6MB, 500KB; decimal, counting weights as the .wtm \
        packs them, int32 biases and requantization parameters), multiply-accumulates (300MFLOPs or \
        300MMACs: "FLOPs" means MACs here, as in the MobileNet papers) or bit operations (40GBOPs: \
        MACs x weight bits x activation bits). Budgets are checked against the plan's cost before \
        calibration; one no plan reaches fails at once, naming the smallest reachable value. A MACs \
        budget the model misses removes channels: a width per channel group searched by evolution on \
        32 --data images, then --epochs of fine-tuning on --data towards the full model. Calibration reads images from --data \
        (labels are not used; class names are recorded in the .wtm); activations are uint8 per tensor over the range of least squared \
        error (--observer), weights per output channel by --bits or --plan, biases corrected for \
        the weights' rounding. Without --data, 8 calibration inputs are distilled from the model's \
        BatchNorm statistics (ZeroQ; minutes, not seconds, on EfficientNet-Lite0), or from \
        --bn-statistics for a model whose BatchNorm was folded. --report writes the plan used; \
        --emit-onnx writes the same quantization as QDQ ONNX for ONNX Runtime.
        """)

    @Argument(help: "The model (.onnx).") var model: String
    @Option(help: "Fixes dynamic input dimensions, e.g. 1x3x224x224.") var inputShape: String?
    @Option(help: "A budget the result must meet: 6MB (weight bytes), 300MFLOPs (MACs), 40GBOPs (bit operations) or 5ms (latency, from --latency-table). Repeatable.") var budget: [String] = []
    @Option(help: ArgumentHelp("The latency table millisecond budgets are estimated from: per-op medians measured by compress profile MODEL.wtm --table FILE on the target.", valueName: "table.json"))
    var latencyTable: String?
    @Option(help: "Calibration images: a folder of JPEG/PNG files (or one with labels.tsv or a subfolder per class; labels are not used, class names are recorded in the .wtm). Without it, calibration data is distilled from the model's BatchNorm statistics (ZeroQ); that needs a model whose BatchNorm layers are not folded yet, or --bn-statistics.") var data: String?
    @Option(help: ArgumentHelp("Without --data: the statistics a folded model's BatchNorm layers had, for ZeroQ. An .npz with, for each Conv whose weight initializer is W, W.mean and W.variance: its output's per-channel mean and variance (BN's beta and gamma²·var/(var + eps)). models/efficientnet-lite0-bn-statistics.npz is the bundled model's.", valueName: "file.npz"))
    var bnStatistics: String?
    @Option(help: "Image preprocessing: \(Preset.helpText). Recorded in the .wtm, so `run` needs no --prep; needed with --data.") var prep: String?
    @Option(help: ArgumentHelp("Class names to record in the .wtm for `run` to print: one per line, line i naming class i. Without it, the names --data gives (labels.tsv's name column, or its class subfolders).", valueName: "labels.txt"))
    var labels: String?
    @Option(help: "Calibrate on N images of --data, spread evenly over it.") var calibrationCount = 100
    @Option(help: "When a MACs budget removes channels, how their number per channel group is chosen: evolution (the default: evolved from layer-adaptive's widths, each candidate scored by its output's KL to the full model's on 32 --data images; about 2 min on Lite0), layer-adaptive (each group's damage measured alone, channels taken where they cost least per MAC; about 1 min) or uniform (one width multiplier for every group). Each group keeps the channels its consumers would miss most (activation variance x squared weights on 128 other --data images), and 1x1 consumers are refitted by least squares to make up for the rest.")
    var widthMethod = Job.WidthMethod.evolution.rawValue
    @Option(help: "When a MACs budget removes channels: passes over the --data images to fine-tune the narrowed model towards the full one (distillation, no labels needed; 0: none).")
    var epochs = 1
    @Option(help: ArgumentHelp("Stop fine-tuning after this long: seconds, or with a unit, 90s, 30m, 1.5h.", valueName: "time"))
    var timeLimit: String?
    @Option(help: "How activation ranges are chosen: \(Observer.allCases.map { "\($0.rawValue) (\($0.help))" }.joined(separator: ", ")).")
    var observer: String = Observer.mse.rawValue
    @Option(help: "Weight scheme of every conv and fully connected layer: \(Scheme.allCases.map(\.rawValue).joined(separator: ", ")) (int4 and int2: per-channel scale of least squared error; ternary: {-1, 0, +1} times mean |w|), or mixed: a scheme per layer, the least output damage (sensitivity by --method) that fits every --budget in weight bytes, BOPs or milliseconds, the first and last layers included. Uniform schemes keep the first and last layers int8 unless --bits-everywhere.")
    var bits = Scheme.int8.rawValue
    @Option(help: "How --bits mixed chooses: emq (the default: a formula evolved by EMQ's method over each layer's weight errors, curvature, activations and bits, --proxy; 32 inputs, about 30 s on Lite0), hawq (each layer's mean loss curvature, a Gauss-Newton Hessian trace, times its squared weight error; 32 inputs, about 30 s), zeroq (KL of the output with that layer alone quantized; 16 inputs, about 1 min) or fliqs (a policy over each layer's schemes trained by REINFORCE, each of 200 sampled plans' .wtm run on 32 inputs; about 5 min). The plan is then measured against the uniform plans that fit, and the closer to float kept.")
    var method: String?
    @Option(help: ArgumentHelp("The formula --method emq ranks layers by: a file of compress evolve-proxy, or the formula itself, e.g. 'sum(mul(h, sq(e)))'. Default: the one evolved on EfficientNet-Lite0.", valueName: "proxy.json"))
    var proxy: String?
    @Flag(help: "Give the first and last layers the --bits scheme too.") var bitsEverywhere = false
    @Option(help: "How the --bits layers' per-channel scales are chosen: \(WeightScale.allCases.map { "\($0.rawValue) (\($0.help))" }.joined(separator: ", ")); absmean and absmedian are for ternary. Default: max for int8, mse for int4 and int2, absmean for ternary.")
    var weightScale: String?
    @Option(help: ArgumentHelp("A per-layer plan (JSON: {\"layers\": [{\"name\": \"conv1\", \"weights\": \"int4\"}, …]}, or a --report, which holds the plan it used) instead of --bits; layers it leaves out are int8.", valueName: "plan.json"))
    var plan: String?
    @Option(help: ArgumentHelp("With --bits mixed, draw the plans as an SVG: quality (top-1 agreement with float on 64 calibration inputs) against the first budget's unit, for the uniform plans, the method's plans at eight budgets, and the chosen one.", valueName: "chart.svg"))
    var pareto: String?
    @Flag(inversion: .prefixedNo, help: "Round the weights of layers below int8 up or down so that each layer's output on 32 calibration images moves least (AdaRound's objective) rather than to nearest: uniform int4 keeps 85.0 % instead of 78.8 % on Lite0. With --bits mixed the uniform plans and the searched one are compared with it too; the sensitivities assume nearest rounding.")
    var learnedRounding = true
    @Flag(help: "Print only the result: no progress lines or notes on stderr.") var quiet = false
    @Flag(inversion: .prefixedNo, help: "Correct each conv and FC bias for the mean shift that rounding its weights causes, from the calibration images' channel means.")
    var biasCorrection = true
    @Option(name: [.short, .customLong("output")], help: "The .wtm to write (default: MODEL's name with .wtm, here).") var output: String?
    @Option(help: "Write a JSON report: the summary, the plan used (a file --plan reads), per-layer schemes, ranges, scales and bytes.") var report: String?
    @Option(help: "Also write the model as C sources for firmware into this folder: model.h, model.c (the .wtm as a const array) and an example main.c.")
    var emitC: String?
    @Option(help: "Also write the int8 model as QDQ ONNX (QuantizeLinear/DequantizeLinear around float ops, opset 14), which ONNX Runtime runs: same scales, zero points and integer weights as the .wtm.")
    var emitOnnx: String?
    @Flag(help: "Print one JSON object with the summary instead of the table.") var json = false

    func run() throws {
        let mixed = bits == "mixed"
        guard let scheme = mixed ? .int8 : Scheme(rawValue: bits) else {
            throw CommandError("unknown --bits '\(bits)'; choose one of \(Scheme.allCases.map(\.rawValue).joined(separator: ", ")), mixed")
        }
        guard let searchMethod = Job.SearchMethod(rawValue: method ?? Job.SearchMethod.emq.rawValue) else {
            throw CommandError("unknown --method '\(method ?? "")'; choose one of \(Job.SearchMethod.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if !mixed, method != nil { throw CommandError("--method chooses how --bits mixed searches; add --bits mixed") }
        if proxy != nil, searchMethod != .emq { throw CommandError("--proxy is the formula of --method emq; add --bits mixed --method emq") }
        if !mixed, pareto != nil { throw CommandError("--pareto draws the plans a search weighs; add --bits mixed") }
        if mixed, bitsEverywhere { throw CommandError("--bits mixed chooses every layer's scheme, the first and last included; --bits-everywhere is for one scheme everywhere") }
        if mixed, weightScale != nil { throw CommandError("--bits mixed takes each scheme's standard scale rule; leave out --weight-scale") }
        if plan != nil, bits != Scheme.int8.rawValue || bitsEverywhere || weightScale != nil {
            throw CommandError("--plan gives every layer its scheme; leave out --bits, --bits-everywhere and --weight-scale")
        }
        let rule = try weightScale.map { name in
            guard let rule = WeightScale(rawValue: name) else {
                throw CommandError("unknown --weight-scale '\(name)'; choose one of \(WeightScale.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return rule
        }
        guard let observer = Observer(rawValue: observer) else {
            throw CommandError("unknown --observer '\(self.observer)'; choose one of \(Observer.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if data != nil, bnStatistics != nil { throw CommandError("--bn-statistics is for calibration without data; with --data the images are used") }
        if data != nil, prep == nil { throw CommandError("--data needs --prep to say how its images are prepared: \(Preset.helpText)") }
        let calibration: Job.Calibration
        if let data, let prep {
            calibration = .images(folder: data, preset: try InputLoader.parsePreset(prep), count: calibrationCount)
        } else {
            calibration = .distilled(bnStatistics: bnStatistics)
        }
        var job = Job(model: model, calibration: calibration,
                      output: output ?? URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent + ".wtm")
        job.inputShape = try inputShape.map(ModelLoader.parseShape)
        job.budgets = try budget.map(Budget.init(parsing:))
        job.latencyTable = latencyTable
        job.proxy = proxy
        job.plan = plan.map { .file($0) } ?? (mixed ? .mixed(method: searchMethod) : .uniform(scheme, rule: rule, everywhere: bitsEverywhere))
        job.observer = observer
        job.biasCorrection = biasCorrection
        job.learnedRounding = learnedRounding
        job.preset = try prep.map(InputLoader.parsePreset)
        job.labels = labels
        guard epochs >= 0 else { throw CommandError("--epochs \(epochs): give 0 or more passes") }
        job.epochs = epochs
        guard let widths = Job.WidthMethod(rawValue: widthMethod) else {
            throw CommandError("unknown --width-method '\(widthMethod)'; choose one of \(Job.WidthMethod.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        job.widthMethod = widths
        job.timeLimit = try timeLimit.map(parseDuration)
        (job.report, job.emitC, job.emitOnnx, job.pareto) = (report, emitC, emitOnnx, pareto)
        let outcome = try Pipeline.compress(job) { if !quiet { note($0) } }
        if !quiet { outcome.notes.forEach { note("note: \($0)") } }
        if json { return try printJSON(outcome.summary) }
        let result = outcome.result
        let calibrated = data.map { "images from \($0)" }
            ?? "no real data used: \(outcome.calibrationImages) inputs distilled from the BatchNorm statistics (ZeroQ)"
        print("wrote \(job.output): \(result.plan.schemes), \(humanCount(result.wtm.count))B file")
        if result.plan.schemes == "mixed" {
            let counts = Scheme.allCases.compactMap { scheme -> String? in
                let n = result.plan.layers.filter { $0.weights == scheme }.count
                return n > 0 ? "\(n) \(scheme.rawValue)" : nil
            }
            let letters: [Scheme: String] = [.int8: "8", .int4: "4", .int2: "2", .ternary: "t"]
            print("  plan            \(counts.joined(separator: ", ")); per layer in order \(result.plan.layers.map { letters[$0.weights]! }.joined())")
        }
        print("  MACs            \(humanCount(result.cost.macs))")
        print("  weights         \(humanCount(outcome.floatWeightBytes))B float32 → \(humanCount(result.cost.bytes))B \(result.plan.schemes)")
        print("  arena           \(humanCount(result.arena.size))B planned, \(humanCount(result.arena.peakLiveBytes))B peak live")
        print("  calibration     \(calibrated)")
        let top1 = result.agreement.top1.map { String(format: "top-1 %.1f%%, ", $0 * 100) } ?? ""
        print(String(format: "  agreement       %@mean max|Δ|/max|float| %.4f on %d %@", top1, result.agreement.relativeError,
                     result.agreement.images, result.agreement.heldOut ? "images kept apart from calibration" : "calibration inputs"))
        let weakest = result.layers.filter { $0.sqnr != nil }.sorted { $0.sqnr! < $1.sqnr! }.prefix(3)
        if !weakest.isEmpty {
            print("  weakest layers  " + weakest.map { String(format: "%@ %.1f dB", $0.name, $0.sqnr!) }.joined(separator: ", ")
                  + " (SQNR against float, every layer before quantized too, on \(min(Compression.sqnrImages, outcome.calibrationImages)) calibration inputs)")
        }
        if let first = result.floatNodes.first {
            let counts = Dictionary(grouping: result.floatNodes, by: \.op).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.count)" }
            print("  float32 ops     \(result.floatNodes.count) nodes without an int8 kernel run in float (\(counts.joined(separator: ", "))); "
                  + "the first, '\(first.name)': \(first.reason)")
        }
        for budget in job.budgets { print("  budget          \(budget): met") }
        print(String(format: "  time            %.1f s", outcome.seconds))
        let written = [job.report, job.emitOnnx, job.pareto, job.emitC.map { $0 + "/ (model.h, model.c, main.c)" }].compactMap { $0 }
        if !written.isEmpty { print("  also wrote      \(written.joined(separator: ", "))") }
    }
}
