import Datasets
import Export
import Foundation
import Graph
import Quantize
import Rewrite
import Runner
import Search

/// The main job as data: what `compress MODEL.onnx …` was asked to do.
public struct Job: Sendable {
    /// Where calibration inputs come from.
    public enum Calibration: Sendable {
        /// The first `count` images of a folder, prepared by `preset`.
        case images(folder: String, preset: Preset, count: Int)
        /// Inputs distilled from the model's BatchNorm statistics (ZeroQ), or from a file of them
        /// for a model whose BatchNorm was folded.
        case distilled(bnStatistics: String?)
    }

    /// Where the plan comes from.
    public enum PlanSource: Sendable {
        /// One scheme (and scale rule; nil: the scheme's standard one) for every conv and fully
        /// connected layer; the first and last stay int8 unless `everywhere`.
        case uniform(Scheme, rule: WeightScale?, everywhere: Bool)
        /// A plan file (`Plan.read`).
        case file(String)
        /// A scheme per layer chosen by `method`'s sensitivity on the calibration inputs and the
        /// allocator under the budgets bit-widths change, every layer free (the classifier, which
        /// often holds a third of the weights and barely moves the output, included).
        case mixed(method: SearchMethod)
    }

    /// How `--bits mixed` measures each layer's sensitivity to its weight scheme.
    public enum SearchMethod: String, CaseIterable, Sendable {
        /// KL of the output with one layer quantized (`Sensitivity.zeroQ`), on 16 inputs.
        case zeroq
        /// Hessian trace × quantization error (`Sensitivity.hawq`), on 32 inputs.
        case hawq
        /// An evolved training-free proxy over the weights, their quantization errors, curvature
        /// and activations (`Proxy`, EMQ), measured on 32 inputs: the default, it chose best
        /// (README, `bench/bit_search.py`).
        case emq
        /// REINFORCE over per-layer choices, each sampled plan's `.wtm` measured on 32 inputs
        /// (`PolicySearch`).
        case fliqs
    }

    /// `--method emq`'s proxy: a file of `compress evolve-proxy`, or a formula; nil: `Proxy.evolved`.
    public var proxy: String?
    public var model: String
    /// The input's shape where the model leaves dimensions open, NCHW.
    public var inputShape: [Int]?
    public var budgets: [Budget] = []
    /// The table millisecond budgets are estimated from (`LatencyTable`).
    public var latencyTable: String?
    public var calibration: Calibration
    public var plan: PlanSource = .uniform(.int8, rule: nil, everywhere: false)
    public var observer: Observer = .mse
    public var biasCorrection = true
    /// Round the weights of layers below int8 to keep each layer's output on the calibration
    /// images (`LearnedRounding`), not to nearest.
    public var learnedRounding = true
    /// The `.wtm` to write.
    public var output: String
    /// A JSON report: summary, the plan used, per-layer cost and ranges.
    public var report: String?
    /// An SVG of the searched plans' quality against their cost, beside the uniform plans'
    /// (`--bits mixed` only).
    public var pareto: String?
    /// A folder for the model as C sources.
    public var emitC: String?
    /// The QDQ ONNX file to write.
    public var emitOnnx: String?
    /// How the model's images are prepared, recorded in the `.wtm` for `run` (the calibration
    /// preset unless told otherwise).
    public var preset: Preset?
    /// A file of class names (one per line) to record in the `.wtm`; without it, the names the
    /// calibration folder gives (labels.tsv's `name` column, or class subfolders).
    public var labels: String?
    /// How channels are removed to meet a MACs budget.
    public enum WidthMethod: String, CaseIterable, Sendable {
        /// `WidthSearch.search`: evolution from the layer-adaptive widths (the default).
        case evolution
        /// `WidthSearch.layerAdaptive`: each group's L1-pruning damage measured alone, channels
        /// taken where they cost least per MAC.
        case layerAdaptive = "layer-adaptive"
        /// `WidthSearch.uniform`: one width multiplier for every group.
        case uniform
    }

    public var widthMethod = WidthMethod.evolution
    /// Fine-tuning after channels were removed to meet a MACs budget: passes over the images
    /// of the calibration folder (0: none).
    public var epochs = 1
    /// Fine-tuning stops after the step that passes this many seconds.
    public var timeLimit: Double?

    public init(model: String, calibration: Calibration, output: String) {
        self.model = model
        self.calibration = calibration
        self.output = output
    }
}

/// What the main job made.
public struct Outcome {
    public var result: Compression.Result
    /// Parameters of the float model, as float32 bytes.
    public var floatWeightBytes: Int
    /// Images (or distilled inputs) calibration ran on.
    public var calibrationImages: Int
    public var notes: [String]
    public var seconds: Double
    /// The summary `--json` prints; the report adds "plan" and "layers" to it.
    public var summary: [String: Any]
}

/// The stages of the main job in order: load → simplify → plan → price against the budgets →
/// calibrate → lower per scheme → export.
public enum Pipeline {
    /// Runs `job`. Budgets are checked against the plan's cost before any calibration: an
    /// impossible one fails at once, naming the smallest value a plan reaches. `progress` hears
    /// one line per stage.
    public static func compress(_ job: Job, progress: (String) -> Void = { _ in }) throws -> Outcome {
        let started = Date()
        try checkPaths(job)
        // A plan file is read before the model, and a search checked for a budget it can search
        // under, so either fails at once.
        var file: Plan?
        if case .file(let path) = job.plan { file = try Plan.read(path: path) }
        if case .mixed = job.plan { _ = try BitWidthSearch.searched(job.budgets) }
        let loaded = try ModelLoader.load(path: job.model, inputShape: job.inputShape)
        var graph = loaded.graph
        var notes = loaded.notes
        var requested = file ?? Plan(layers: [])
        switch job.plan {
        case .uniform(let scheme, let rule, let everywhere): requested = Plan.uniform(graph, scheme: scheme, rule: rule, everywhere: everywhere)
        case .mixed: requested = Plan.uniform(graph, scheme: .int8) // calibration reads only its observers
        case .file: break
        }
        var plan = try requested.resolved(for: graph, observer: job.observer)
        graph = try Widths.apply(plan, to: graph)
        if let limit = job.budgets.compactMap({ if case .macs(let m) = $0 { return m } else { return nil } }).min(),
           case let macs = try Narrowing.macs(graph), macs > limit {
            try Narrowing.checkReachable(graph, limit: limit)
            guard case .images(let folder, let preset, _) = job.calibration else {
                throw Budget.Unmet(description: "the model has \(Budget.macs(limit).format(Double(macs))), over the \(Budget.macs(limit)) budget: removing channels needs images to choose them and fine-tune on; give --data DIR --prep P")
            }
            let deadline = job.timeLimit.map { Date().addingTimeInterval($0) }
            let narrowed = try Narrowing.narrow(graph, limit: limit, method: job.widthMethod, data: try LabeledData(folder: folder), preset: preset,
                                                epochs: job.epochs, deadline: deadline, progress: progress)
            graph = narrowed.graph
            notes += narrowed.notes
            plan = try Plan(layers: plan.layers.map { var layer = $0; layer.channels = nil; return layer }).resolved(for: graph, observer: job.observer)
        }
        let latency = try job.latencyTable.map(LatencyTable.read(path:))
        let model = try CostModel(try QuantPlan(graph))
        if case .mixed = job.plan {
            // The search may give each layer any scheme: each budget is checked against the plan
            // cheapest in its own measure (int2 is the smallest, but not the fastest on every kernel set).
            for budget in job.budgets {
                let cheapest = model.cheapest(by: budget.measure, latency: latency)
                try Budget.check([budget], cost: model.cost(cheapest, latency: latency), model: model, graph: graph, latency: latency)
            }
        } else {
            try Budget.check(job.budgets, cost: model.cost(plan, latency: latency), model: model, graph: graph, latency: latency)
        }

        let batches: [Tensor]
        var heldOut: [Tensor] = []
        var classNames = try job.labels.map(LabeledData.classNames(path:))
        var preset = job.preset
        switch job.calibration {
        case .images(let folder, let calibrationPreset, let count):
            let data = try LabeledData(folder: folder)
            preset = preset ?? calibrationPreset
            if classNames == nil, !data.classNames.isEmpty { classNames = data.classNames }
            batches = try Compression.calibrationBatches(graph, data: data, preset: calibrationPreset, limit: max(count, 1))
            heldOut = try Compression.heldOutBatches(graph, data: data, preset: calibrationPreset, limit: max(count, 1))
            progress("calibrating on \(batches.reduce(0) { $0 + $1.shape[0] }) images (\(job.observer.rawValue) ranges)")
        case .distilled(let bnStatistics):
            let source = bnStatistics == nil ? try ModelLoader.load(path: job.model, inputShape: job.inputShape, simplify: false).graph : graph
            let targets = try ZeroQ.targets(source, folded: try bnStatistics.map { try Npz.read(path: $0) })
            batches = [try Compression.distill(source, targets: targets, progress: progress)]
        }
        var calibrated = try Compression.calibrate(graph, batches: batches, plan: plan, observer: job.observer, biasCorrection: job.biasCorrection,
                                                   progress: progress)
        if case .mixed(let method) = job.plan {
            if job.learnedRounding {
                // The plans the search compares are measured as the file will be: with learned rounding.
                calibrated = try Compression.learningRounding(calibrated, layers: Set(graph.weightLayers().map(\.name)), batches: batches,
                                                              progress: progress)
            }
            let search = BitWidthSearch(graph: graph, batches: batches, calibrated: calibrated, model: model, latency: latency,
                                        proxy: try ProxySearch.resolve(job.proxy))
            let (chosen, sensitivity) = try search.plan(method: method, budgets: job.budgets, progress: progress)
            plan = try chosen.resolved(for: graph, observer: job.observer)
            try Budget.check(job.budgets, cost: model.cost(plan, latency: latency), model: model, graph: graph, latency: latency)
            if let pareto = job.pareto {
                let chart = try search.chart(title: URL(fileURLWithPath: job.model).lastPathComponent, chosen: plan, sensitivity: sensitivity,
                                             method: method, budgets: job.budgets, progress: progress)
                try OutputFile.write(Data(chart.svg().utf8), to: pareto)
            }
        }
        let metadata = WTMMetadata(input: .init(layout: "NCHW", shape: graph.inputs[0].shape), preprocessing: preset.map { .init(preset: $0.rawValue) },
                                   labels: classNames, source: try WTMMetadata.source(path: job.model), plan: plan, ops: nil,
                                   whittle: Runner.runtimeVersion)
        let result = try Compression.quantize(calibrated, plan: plan, batches: batches, heldOut: heldOut, learnedRounding: job.learnedRounding,
                                              metadata: metadata, progress: progress)
        try write(result, job: job)
        let floatBytes = try loaded.graph.withBatch(1).layerCosts().reduce(0) { $0 + $1.bytes }
        var outcome = Outcome(result: result, floatWeightBytes: floatBytes, calibrationImages: batches.reduce(0) { $0 + $1.shape[0] }, notes: notes,
                              seconds: Date().timeIntervalSince(started), summary: [:])
        outcome.summary = summary(outcome, job: job)
        if let ms = model.cost(plan, latency: latency).milliseconds { outcome.summary["milliseconds"] = ms }
        if let report = job.report { try writeReport(outcome, to: report) }
        return outcome
    }

    /// Refuses, before any work, outputs that would overwrite an input or each other.
    static func checkPaths(_ job: Job) throws {
        var inputs = [job.model] + [job.latencyTable, job.proxy, job.labels].compactMap { $0 }
        if case .file(let path) = job.plan { inputs.append(path) }
        if case .distilled(let statistics?) = job.calibration { inputs.append(statistics) }
        let outputs = [("-o", job.output), ("--report", job.report), ("--emit-onnx", job.emitOnnx), ("--pareto", job.pareto), ("--emit-c", job.emitC)]
        try OutputFile.checkDistinct(inputs: inputs, outputs: outputs.compactMap { option, path in path.map { (option, $0) } })
    }

    private static func write(_ result: Compression.Result, job: Job) throws {
        try OutputFile.write(Data(result.wtm), to: job.output)
        if let folder = job.emitC {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (name, text) in try CSource.files(wtm: result.wtm, model: result.integer, source: URL(fileURLWithPath: job.model).lastPathComponent) {
                try OutputFile.write(Data(text.utf8), to: URL(fileURLWithPath: folder).appendingPathComponent(name).path)
            }
        }
        if let path = job.emitOnnx {
            try OutputFile.write(Data(try ONNXWriter.write(result.qdq)), to: path)
        }
    }

    private static func summary(_ outcome: Outcome, job: Job) -> [String: Any] {
        let r = outcome.result
        var calibration = "images"
        if case .distilled = job.calibration { calibration = "zeroq" }
        var summary: [String: Any] = [
            "model": job.model, "output": job.output, "bits": r.plan.schemes, "macs": r.cost.macs, "bops": r.cost.bops,
            "observer": job.observer.rawValue, "budgets": job.budgets.map(\.description),
            "float_weight_bytes": outcome.floatWeightBytes, "weight_bytes": r.cost.bytes, "file_bytes": r.wtm.count,
            "arena_bytes": r.arena.size, "peak_live_bytes": r.arena.peakLiveBytes,
            "calibration_images": outcome.calibrationImages, "calibration": calibration,
            "mean_relative_error": r.agreement.relativeError, "agreement_images": r.agreement.images,
            "agreement_held_out": r.agreement.heldOut, "seconds": outcome.seconds,
        ]
        if let top1 = r.agreement.top1 { summary["top1_agreement"] = top1 }
        summary["float_ops"] = r.floatNodes.map { ["name": $0.name, "op": $0.op, "reason": $0.reason] }
        return summary
    }

    private static func writeReport(_ outcome: Outcome, to path: String) throws {
        var full = outcome.summary
        full["plan"] = try JSONSerialization.jsonObject(with: try outcome.result.plan.json())
        full["layers"] = outcome.result.layers.map { layer -> [String: Any] in
            var entry: [String: Any] = ["name": layer.name, "kind": layer.kind, "output_shape": layer.outputShape, "bytes": layer.bytes]
            if let range = layer.range {
                (entry["range"], entry["scale"], entry["zero_point"]) = ([Double(range.low), Double(range.high)], Double(layer.scale), Int(layer.zeroPoint))
            }
            if let weights = layer.weights { entry["weights"] = weights.rawValue }
            if let sqnr = layer.sqnr { entry["sqnr_db"] = sqnr }
            return entry
        }
        let data = try JSONSerialization.data(withJSONObject: full, options: [.prettyPrinted, .sortedKeys])
        try OutputFile.write(data, to: path)
    }
}
