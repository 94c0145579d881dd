import Datasets
import Foundation
import Graph
import Quantize
import Search

/// How well each search method's sensitivity predicts the measured quality of plans: a
/// `PlanBenchmark` sampled near a weight-size budget and measured on labeled images kept apart
/// from calibration, then Kendall's τ between each method's predicted order (−ΣΩ over the plan's
/// layers) and the measured one. `compress sample-plans` runs it.
public enum MethodRanking {
    public struct Request: Sendable {
        public var model: String
        public var inputShape: [Int]?
        /// Calibration images (as the main job's `--data`), and how many.
        public var calibration: String
        public var preset: Preset
        public var calibrationCount = 100
        /// Labeled images each plan is measured on, and how many.
        public var measure: String
        public var measureCount = 200
        /// Plans are sampled with weight bytes in [0.75, 1] × this.
        public var bytes: Int
        public var plans = 50
        /// A benchmark measured before (`--output` of an earlier run), used instead of sampling.
        public var reuse: String?
        /// The methods ranked.
        public var methods: [Job.SearchMethod] = [.zeroq, .hawq, .emq]
        /// EMQ's proxies (each as `Job.proxy`), each ranked; none: `Proxy.evolved`.
        public var proxies: [String] = []

        public init(model: String, calibration: String, preset: Preset, measure: String, bytes: Int) {
            self.model = model
            self.calibration = calibration
            self.preset = preset
            self.measure = measure
            self.bytes = bytes
        }
    }

    public struct Rank: Sendable {
        public var method: String
        /// τ against top-1 (nil without labels) and against −KL.
        public var tauTop1: Double?
        public var tauDivergence: Double
        /// The time the method's sensitivity took.
        public var seconds: Double
    }

    /// Builds the benchmark (written to `output` when given), or reads `reuse`, and ranks ZeroQ's,
    /// HAWQ's and EMQ's Ω on it.
    public static func run(_ request: Request, output: String?, progress: (String) -> Void) throws -> (PlanBenchmark, [Rank]) {
        let graph = try ModelLoader.load(path: request.model, inputShape: request.inputShape).graph
        let calibration = try Compression.calibrationBatches(graph, data: try LabeledData(folder: request.calibration), preset: request.preset,
                                                             limit: request.calibrationCount)
        let plan = try Plan.uniform(graph, scheme: .int8, everywhere: true).resolved(for: graph, observer: .mse)
        progress("calibrating on \(calibration.reduce(0) { $0 + $1.shape[0] }) images")
        let calibrated = try Compression.calibrate(graph, batches: calibration, plan: plan, observer: .mse)
        let costs = try CostModel(calibrated.steps)
        var benchmark: PlanBenchmark
        if let reuse = request.reuse {
            benchmark = try PlanBenchmark.read(path: reuse, of: graph)
            progress("\(benchmark.entries.count) plans read from \(reuse)")
        } else {
            let data = try LabeledData(folder: request.measure)
            let images = try Compression.calibrationBatches(graph, data: data, preset: request.preset, limit: request.measureCount)
            let probe = try PlanProbe(calibrated, images: images, labels: Compression.calibrationLabels(data, limit: request.measureCount))
            progress("sampling \(request.plans) plans of \(Int(Double(request.bytes) * 0.75))…\(request.bytes) weight bytes, each measured on \(probe.count) images")
            benchmark = try PlanBenchmark.build(model: request.model, graph: graph, probe: probe, costs: costs, low: Double(request.bytes) * 0.75,
                                                high: Double(request.bytes), count: request.plans, progress: progress)
            (benchmark.calibration, benchmark.preset, benchmark.inputShape) = (request.calibration, request.preset.rawValue, request.inputShape)
            (benchmark.calibrationCount, benchmark.measure, benchmark.measureCount) = (request.calibrationCount, request.measure, request.measureCount)
        }
        if let output { try benchmark.write(path: output) }
        let search = BitWidthSearch(graph: graph, batches: calibration, calibrated: calibrated, model: costs, latency: nil)
        let proxies = try request.proxies.isEmpty ? [Proxy.evolved] : request.proxies.map(ProxySearch.resolve)
        var ranks: [Rank] = []
        func rank(_ name: String, _ sensitivity: () throws -> Sensitivity) rethrows {
            let started = Date(), omega = try sensitivity().omega, seconds = Date().timeIntervalSince(started)
            func predicted(_ plan: Plan) -> Double { -zip(omega, plan.layers).reduce(0) { $0 + $1.0[$1.1.weights]! } }
            ranks.append(Rank(method: name, tauTop1: benchmark.kendallTau(by: .top1, predicted),
                              tauDivergence: benchmark.kendallTau(by: .divergence, predicted)!, seconds: seconds))
        }
        for method in request.methods where method != .fliqs {
            guard method == .emq else {
                try rank(method.rawValue) { try search.sensitivity(method, progress: progress)! }
                continue
            }
            for proxy in proxies {
                try rank(proxies.count > 1 ? "emq \(proxy)" : "emq") { try search.sensitivity(proxy, progress: progress) }
            }
        }
        return (benchmark, ranks)
    }
}
