import Datasets
import Foundation
import Graph
import Quantize
import Search

/// `compress evolve-proxy`: EMQ's proxy evolution (`ProxyEvolution`) fitted to measured
/// `PlanBenchmark`s, one or several models', each model's primitives measured on the first
/// `BitWidthSearch.proxyImages` of the images it was calibrated on, as `--method emq` measures
/// them. Two thirds of each benchmark's plans are fitted, every third is held out.
///
/// A better order of the benchmark's plans alone does not make a better search: the allocator
/// picks the plan a formula likes best, often unlike any benchmark plan (on Lite0 a formula with τ
/// 0.90 against HAWQ-V3's 0.86 on held-out plans chose a plan at 0.75× uniform int4's bytes with
/// 77.8 % top-1 where HAWQ-V3's had 82.6 %). So evolution runs in rounds: after each, the best
/// `finalists` (and, once, HAWQ-V3's formula) choose plans at the benchmark's smallest and largest
/// weight size for every model; each plan's `.wtm` is measured as the benchmark's plans were and
/// joins the fitted plans, so the next round learns where the formulas were wrong. The finalist
/// whose plans kept the float outputs closest (the mean of log(KL / HAWQ-V3's KL)) wins; the
/// result, saved as JSON, is what `--proxy` reads.
public enum ProxySearch {
    /// How a formula ranks one benchmark's plans, beside HAWQ-V3's.
    public struct Figures: Codable, Sendable {
        public var benchmark: String
        public var model: String
        public var plans: Int
        /// Kendall's τ on the fitted plans and on the held-out ones.
        public var tauFit: Double
        public var tauHeldOut: Double
        public var hawqFit: Double
        public var hawqHeldOut: Double
    }

    /// A finalist: its τ on the fitted plans and how its own plans fared.
    public struct Finalist: Codable, Sendable {
        public var proxy: String
        public var fitness: Double
        /// The mean over models and the two weight sizes of log(KL of its plan / KL of HAWQ-V3's),
        /// on the benchmark's images: below 0, its plans keep the float outputs closer.
        public var allocation: Double
    }

    /// The winning formula, how well it ranks each benchmark, and the finalists.
    public struct Result: Codable, Sendable {
        public var proxy: String
        /// What τ compares with: "top-1" where every plan has it, else "-KL".
        public var measured: [String]
        public var benchmarks: [Figures]
        /// Every finalist, HAWQ-V3's formula included, best allocation first.
        public var finalists: [Finalist]
        public var seconds: Double

        /// The JSON `--proxy` reads (snake-case keys).
        public func encoded() throws -> Data {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            return try encoder.encode(self)
        }
    }

    /// One benchmark's model as the search sees it.
    final class Subject {
        let path: String
        let benchmark: PlanBenchmark
        let search: BitWidthSearch
        let primitives: ProxyInputs
        /// Measures plans as the benchmark's were (its images and labels).
        let probe: PlanProbe
        /// The plans fitted: two thirds of the benchmark's, and those the finalists chose.
        var fit: [PlanBenchmark.Entry]
        let heldOut: [PlanBenchmark.Entry]

        init(path: String, progress: (String) -> Void) throws {
            let header = try PlanBenchmark.read(path: path, of: nil)
            guard let folder = header.calibration, let calibrationCount = header.calibrationCount, let presetName = header.preset,
                  let measure = header.measure, let count = header.measureCount else {
                throw ProxyError("'\(path)' does not say which images \(header.model) was calibrated and measured on: measure it again with compress sample-plans --output")
            }
            let graph = try ModelLoader.load(path: header.model, inputShape: header.inputShape).graph
            benchmark = try PlanBenchmark.read(path: path, of: graph, minimum: 6)
            let preset = try InputLoader.parsePreset(presetName)
            let batches = try Compression.calibrationBatches(graph, data: try LabeledData(folder: folder), preset: preset, limit: calibrationCount)
            progress("\(header.model): calibrating on \(batches.reduce(0) { $0 + $1.shape[0] }) images of \(folder), as its plans were")
            let int8 = try Plan.uniform(graph, scheme: .int8, everywhere: true).resolved(for: graph, observer: .mse)
            let calibrated = try Compression.calibrate(graph, batches: batches, plan: int8, observer: .mse)
            search = BitWidthSearch(graph: graph, batches: batches, calibrated: calibrated, model: try CostModel(calibrated.steps), latency: nil)
            primitives = try search.primitives(progress: progress)
            let data = try LabeledData(folder: measure)
            probe = try PlanProbe(calibrated, images: try Compression.calibrationBatches(graph, data: data, preset: preset, limit: count),
                                  labels: Compression.calibrationLabels(data, limit: count))
            let again = try probe.measure(benchmark.entries[0].plan).divergence, recorded = benchmark.entries[0].divergence
            guard abs(again - recorded) <= 1e-6 * max(recorded, 1e-9) else {
                throw ProxyError("'\(path)': its first plan measures KL \(again) here and \(recorded) in the file: the model, images or Whittle changed since; measure the plans again with compress sample-plans --output")
            }
            self.path = path
            let (fit, heldOut) = benchmark.split()
            (self.fit, self.heldOut) = (fit.entries, heldOut.entries)
        }

        func problem(_ entries: [PlanBenchmark.Entry]) -> ProxyEvolution.Problem {
            var part = benchmark
            part.entries = entries
            return .init(inputs: primitives, samples: part.samples)
        }

        /// The plans `proxy` chooses at the benchmark's smallest and largest weight size, measured
        /// and added to the fitted plans where new; their KL to float.
        func choose(_ proxy: Proxy) throws -> [Double]? {
            guard let sensitivity = proxy.sensitivity(primitives) else { return nil }
            let bytes = benchmark.entries.map { Double($0.bytes) }
            return try [bytes.min()!, bytes.max()!].map { limit in
                let plan = try Allocator.choose(sensitivity, allowed: sensitivity.layers.map { _ in Scheme.allCases }, model: search.model,
                                                constraints: [.init(measure: { Double($0.bytes) }, limit: limit)], tied: search.graph.tiedWeightLayers())
                let quality = try probe.measure(plan), cost = search.model.cost(plan)
                if !(fit + heldOut).contains(where: { $0.plan == plan }) {
                    fit.append(.init(plan: plan, bytes: cost.bytes, bops: cost.bops, top1: quality.top1, divergence: quality.divergence))
                }
                return quality.divergence
            }
        }
    }

    /// `rounds` times: evolves `population` formulas over `iterations` children
    /// (`ProxyEvolution.Settings`) on the fitted plans, then the best `finalists` and HAWQ-V3's
    /// formula choose plans, which are measured and join the fitted plans. The finalist of any
    /// round whose plans kept the float outputs closest wins.
    public static func run(benchmarks paths: [String], population: Int, iterations: Int, rounds: Int = 3, seed: UInt64, finalists: Int = 8,
                           progress: (String) -> Void) throws -> Result {
        let started = Date()
        let subjects = try paths.map { try Subject(path: $0, progress: progress) }
        var settings = ProxyEvolution.Settings()
        (settings.population, settings.iterations) = (population, iterations)
        var scored: [String: (fitness: Double, divergences: [Double])] = [:]
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(values.count, 1)) }
        for round in 1...max(rounds, 1) {
            settings.seed = seed &+ UInt64(round - 1)
            let plans = subjects.reduce(0) { $0 + $1.fit.count }
            progress("round \(round)/\(rounds): evolving \(population) formulas over \(iterations) children on \(plans) plans")
            let evolved = ProxyEvolution.evolve(subjects.map { $0.problem($0.fit) }, settings: settings, progress: progress)
            let contenders = evolved.prefix(max(finalists, 1)).map(\.proxy).filter { scored[$0.description] == nil } + (round == 1 ? [Proxy.hawq] : [])
            for proxy in contenders {
                let fitness = mean(subjects.map { ProxyEvolution.fitness(proxy, $0.primitives, $0.problem($0.fit).samples) ?? 0 })
                var divergences: [Double] = []
                for subject in subjects {
                    guard let measured = try subject.choose(proxy) else { break }
                    divergences += measured
                }
                if divergences.count == 2 * subjects.count { scored[proxy.description] = (fitness, divergences) }
            }
            progress("round \(round)/\(rounds): \(contenders.count) finalists chose plans; \(subjects.reduce(0) { $0 + $1.fit.count } - plans) new ones measured")
        }
        guard let reference = scored[Proxy.hawq.description]?.divergences else { throw ProxyError("HAWQ-V3's formula gives no finite value here") }
        let ranked = scored.map { formula, score in
            Finalist(proxy: formula, fitness: score.fitness,
                     allocation: mean(zip(score.divergences, reference).map { log(max($0, 1e-12) / max($1, 1e-12)) }))
        }.sorted { ($0.allocation, $0.proxy) < ($1.allocation, $1.proxy) }
        let best = try Proxy(parsing: ranked[0].proxy)
        func tau(_ subject: Subject, _ proxy: Proxy, _ entries: [PlanBenchmark.Entry]) -> Double {
            ProxyEvolution.fitness(proxy, subject.primitives, subject.problem(entries).samples) ?? 0
        }
        let figures = subjects.map { subject in
            Figures(benchmark: subject.path, model: subject.benchmark.model, plans: subject.fit.count + subject.heldOut.count,
                    tauFit: tau(subject, best, subject.fit), tauHeldOut: tau(subject, best, subject.heldOut),
                    hawqFit: tau(subject, .hawq, subject.fit), hawqHeldOut: tau(subject, .hawq, subject.heldOut))
        }
        return Result(proxy: best.description, measured: subjects.map { $0.benchmark.samplesMeasure },
                      benchmarks: figures, finalists: ranked, seconds: Date().timeIntervalSince(started))
    }

    /// The proxy `--proxy` names: a file `compress evolve-proxy` wrote, or a formula; nil: the
    /// one evolved for Whittle (`Proxy.evolved`).
    public static func resolve(_ text: String?) throws -> Proxy {
        guard let text else { return .evolved }
        guard FileManager.default.fileExists(atPath: text) else { return try Proxy(parsing: text) }
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try Proxy(parsing: try decoder.decode(Result.self, from: Data(contentsOf: URL(fileURLWithPath: text))).proxy)
        } catch let error as ProxyError {
            throw error
        } catch {
            throw ProxyError("'\(text)' is no proxy file of compress evolve-proxy: \(error)")
        }
    }
}
