import ArgumentParser
import Datasets
import Graph
import Pipeline

struct SamplePlans: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample-plans",
        abstract: "Measure mixed-precision plans sampled near a weight-size budget, and rank the search methods' predictions against them.",
        discussion: """
        EMQ's MQ benchmark: --plans plans whose weights take (0.75 to 1) × --budget bytes, each \
        chosen by the allocator for random layer sensitivities (no method's own), each measured by \
        running its .wtm on --measure-count labeled images of --measure-data (keep them apart from the \
        images you evaluate on). Then Kendall's tau between each method's predicted order (the sum of \
        its per-layer sensitivities) and the measured top-1 and KL to float: 1 is a perfect ranking, \
        0 chance. --output keeps the measured plans (JSON); --benchmark reads them back instead of \
        measuring again (then --budget and --measure-data are not needed).
        """)

    @Argument(help: "The model (.onnx).") var model: String
    @Option(help: "Calibration images (a folder, as for the main job).") var data: String
    @Option(help: "Image preprocessing: \(Preset.helpText).") var prep: String
    @Option(help: "Calibrate on N images of --data.") var calibrationCount = 100
    @Option(help: "Labeled images each plan is measured on (labels.tsv or a subfolder per class), kept apart from evaluation.")
    var measureData: String?
    @Option(help: "Measure each plan on N images of --measure-data.") var measureCount = 200
    @Option(help: "The weight size plans are sampled under, e.g. 3.22MB: each plan takes 0.75 to 1 times it.") var budget: String?
    @Option(help: ArgumentHelp("Rank the methods on plans measured before (an --output of this command) instead of sampling new ones.", valueName: "plans.json"))
    var benchmark: String?
    @Option(help: ArgumentHelp("EMQ's formula: a file of compress evolve-proxy, or the formula itself; repeat to rank several. Default: the one evolved on EfficientNet-Lite0.", valueName: "proxy.json"))
    var proxy: [String] = []
    @Option(help: "The methods ranked, comma-separated: zeroq, hawq, emq.") var methods = "zeroq,hawq,emq"

    @Option(help: "How many plans.") var plans = 50
    @Option(help: ArgumentHelp("The input's shape where the model leaves dimensions open, NCHW.", valueName: "1x3x224x224")) var inputShape: String?
    @Option(name: [.short, .customLong("output")], help: "Write the measured plans here (JSON).") var output: String?
    @Flag(help: "Print one JSON object instead of the table.") var json = false

    func run() throws {
        try OutputFile.checkDistinct(inputs: [model] + [benchmark].compactMap { $0 } + proxy, outputs: output.map { [("-o", $0)] } ?? [])
        var bytes = 0
        if benchmark == nil {
            guard let budget, let measureData else { throw CommandError("give --budget and --measure-data to sample plans, or --benchmark to read measured ones") }
            guard case .weightBytes(let size) = try Budget(parsing: budget) else { throw CommandError("--budget is a weight size here, like 3.22MB") }
            bytes = size
        }
        var request = MethodRanking.Request(model: model, calibration: data, preset: try InputLoader.parsePreset(prep), measure: measureData ?? "", bytes: bytes)
        (request.reuse, request.proxies) = (benchmark, proxy)
        request.methods = try methods.split(separator: ",").map { name in
            guard let method = Job.SearchMethod(rawValue: String(name)), method != .fliqs else {
                throw CommandError("unknown --methods entry '\(name)'; rank zeroq, hawq or emq (fliqs searches plans, it predicts none)")
            }
            return method
        }
        request.inputShape = try inputShape.map(ModelLoader.parseShape)
        (request.calibrationCount, request.measureCount, request.plans) = (calibrationCount, measureCount, plans)
        let (benchmark, ranks) = try MethodRanking.run(request, output: output) { note($0) }
        if json {
            return try printJSON(["plans": benchmark.entries.count, "images": benchmark.images, "methods": ranks.map { rank -> [String: Any] in
                var entry: [String: Any] = ["method": rank.method, "tau_kl": rank.tauDivergence, "seconds": rank.seconds]
                if let tau = rank.tauTop1 { entry["tau_top1"] = tau }
                return entry
            }])
        }
        print("\(benchmark.entries.count) plans measured on \(benchmark.images) images")
        print("tau(top-1)  tau(-KL)   time  method")
        for rank in ranks {
            let top1 = rank.tauTop1.map { String(format: "%10.3f", $0) } ?? "         -"
            print(top1 + String(format: "  %8.3f  %4.0f s  ", rank.tauDivergence, rank.seconds) + rank.method)
        }
    }
}
