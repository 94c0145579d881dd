import Datasets
import Engine
import Graph
@testable import Pipeline
import Quantize
import Runner
@testable import Search
import XCTest

/// The bit-width search's parts on the MNIST model: sensitivities, the plan probe.
final class SearchTests: XCTestCase {
    private func mnist() throws -> (graph: Graph, images: Tensor, data: LabeledData) {
        let graph = try ModelLoader.load(path: try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx")).graph
        let data = try LabeledData(folder: try Paths.shared("data/mnist"))
        let batches = try Compression.calibrationBatches(graph, data: data, preset: .mnist, limit: 8)
        return (graph, batches[0], data)
    }

    /// The sampled trace estimate agrees with Tr(Jᵀ(diag p − ppᵀ)J) computed exactly from the
    /// Jacobian (one backward pass per class and image), layer by layer.
    func testHessianTracesMatchTheExactGaussNewtonTrace() throws {
        let (graph, images, _) = try mnist()
        let estimated = try Sensitivity.hessianTraces(graph, inputs: images, samples: 64)
        let tape = Tape<Float>(graph: graph), input = graph.inputs[0].name, output = graph.outputs[0]
        let layers = graph.weightLayers()
        var exact = [String: Double]()
        let n = images.shape[0], each = images.count / n
        for i in 0..<n {
            let scores = try tape.forward([input: Buffer(shape: [1] + images.shape.dropFirst(), values: Array(images.floats[i * each..<(i + 1) * each]))])[output]!
            let k = scores.count, p = Sensitivity.softmax(scores.values[...])
            let jacobian = try (0..<k).map { c in
                try tape.backward([output: Buffer(shape: scores.shape, values: (0..<k).map { $0 == c ? 1 : 0 })])
            }
            for layer in layers {
                let rows = jacobian.map { $0[layer.weight]!.values }
                var trace = 0.0
                for a in 0..<k { for b in 0..<k {
                    let h = (a == b ? p[a] : 0) - p[a] * p[b]
                    trace += h * zip(rows[a], rows[b]).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                } }
                exact[layer.name, default: 0] += trace / Double(n)
            }
        }
        for layer in layers.map(\.name) {
            XCTAssertGreaterThan(exact[layer]!, 0, layer)
            XCTAssertEqual(estimated[layer]! / exact[layer]!, 1, accuracy: 0.05, "\(layer): \(estimated[layer]!) against \(exact[layer]!)")
        }
    }

    /// HAWQ's Ω grows as schemes get coarser, for every layer.
    func testHawqOmegaGrowsWithCoarserSchemes() throws {
        let (graph, images, _) = try mnist()
        let sensitivity = try Sensitivity.hawq(graph, inputs: images, options: Scheme.allCases)
        for (layer, row) in zip(sensitivity.layers, sensitivity.omega) {
            XCTAssertLessThan(row[.int8]!, row[.int4]!, layer)
            XCTAssertLessThan(row[.int4]!, row[.int2]!, layer)
        }
    }

    /// The probe measures the `.wtm` itself: its outputs are those of the file the main job writes
    /// for the same plan, and int8 keeps more than uniform int2 does.
    func testPlanProbeMeasuresTheFileItself() throws {
        let (graph, images, data) = try mnist()
        let int2 = try Plan.uniform(graph, scheme: .int2, everywhere: true).resolved(for: graph, observer: .minMax)
        let calibrated = try Compression.calibrate(graph, batches: [images], plan: int2, observer: .minMax)
        let labels = Compression.calibrationLabels(data, limit: 8)
        XCTAssertNotNil(labels)
        let probe = try PlanProbe(calibrated, images: [images], labels: labels)
        let result = try Compression.quantize(calibrated, plan: int2, batches: [images])
        let runner = try Runner(bytes: result.wtm)
        let x = result.integer.tensors[result.integer.inputs[0]], y = result.integer.tensors[result.integer.outputs[0]]
        let measured = try probe.outputs(int2).floats, per = measured.count / 8
        for i in 0..<8 {
            let pixels = Array(images.floats[i * 784..<(i + 1) * 784])
            XCTAssertEqual(Array(measured[i * per..<(i + 1) * per]), y.dequantize(nhwc: try runner.run(x.quantize(nchw: pixels))), "image \(i)")
        }
        let int8 = try Plan.uniform(graph, scheme: .int8, everywhere: true).resolved(for: graph, observer: .minMax)
        let (high, low) = (try probe.measure(int8), try probe.measure(int2))
        XCTAssertLessThan(high.divergence, low.divergence)
        XCTAssertNotNil(high.top1)
        XCTAssertEqual(high.agreement!, 1, accuracy: 0.13)
    }

    func testKendallTau() {
        XCTAssertEqual(ProxyEvolution.kendallTau([1, 2, 3], [1, 3, 2]), 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(ProxyEvolution.kendallTau([1, 2, 3], [30, 20, 10]), -1, accuracy: 1e-12)
    }

    /// `sample-plans` measures distinct plans within the budget and ranks the methods on them;
    /// `--pareto` draws the uniform plans, the method's and the chosen one.
    func testSamplePlansAndParetoChart() throws {
        let data = try Paths.shared("data/mnist"), model = try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("whittle-search-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plans = folder + "/plans.json"
        let ranked = try runCompress(["sample-plans", model, "--data", data, "--prep", "mnist", "--measure-data", data, "--measure-count", "100",
                                      "--budget", "250KB", "--plans", "8", "-o", plans, "--json"])
        XCTAssertEqual(ranked.status, 0, ranked.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(ranked.stdout.utf8)) as? [String: Any] ?? [:]
        let methods = summary["methods"] as? [[String: Any]] ?? []
        XCTAssertEqual(methods.compactMap { $0["method"] as? String }, ["zeroq", "hawq", "emq"])
        for method in methods { XCTAssertLessThanOrEqual(abs(method["tau_top1"] as? Double ?? 2), 1) }
        let benchmark = try PlanBenchmark.read(path: plans)
        XCTAssertGreaterThanOrEqual(benchmark.entries.count, 6)
        XCTAssertEqual(Set(benchmark.entries.map { $0.plan.layers.map(\.weights) }).count, benchmark.entries.count)
        for entry in benchmark.entries {
            XCTAssertLessThanOrEqual(entry.bytes, 250_000)
            XCTAssertGreaterThanOrEqual(entry.bytes, 187_500)
            XCTAssertGreaterThan(entry.top1 ?? 0, 0.5)
        }
        try checkEvolvedProxy(model: model, data: data, plans: plans, folder: folder)
        let chart = folder + "/chart.svg"
        let compressed = try runCompress([model, "--data", data, "--prep", "mnist", "--bits", "mixed", "--method", "hawq", "--budget", "300KB",
                                          "-o", folder + "/m.wtm", "--pareto", chart])
        XCTAssertEqual(compressed.status, 0, compressed.stderr)
        let svg = try String(contentsOfFile: chart, encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertTrue(svg.contains("chosen: hawq"))
        for scheme in Scheme.allCases { XCTAssertTrue(svg.contains("uniform \(scheme.rawValue)"), scheme.rawValue) }
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 8 + 1 + 1) // 8 budgets, the chosen plan and its ring
    }

    /// `evolve-proxy` fits a formula to the measured plans; the main job searches with it, and
    /// `sample-plans` ranks it and a written formula on the same plans without measuring again.
    private func checkEvolvedProxy(model: String, data: String, plans: String, folder: String) throws {
        let proxy = folder + "/proxy.json"
        let evolved = try runCompress(["evolve-proxy", "--benchmark", plans, "--iterations", "300", "--rounds", "2", "--finalists", "2", "-o", proxy, "--json"])
        XCTAssertEqual(evolved.status, 0, evolved.stderr)
        let result = try JSONSerialization.jsonObject(with: Data(evolved.stdout.utf8)) as? [String: Any] ?? [:]
        let formula = try XCTUnwrap(result["proxy"] as? String)
        XCTAssertEqual(try ProxySearch.resolve(proxy), try Proxy(parsing: formula))
        let figures = try XCTUnwrap((result["benchmarks"] as? [[String: Any]])?.first)
        XCTAssertLessThanOrEqual(abs(figures["tau_held_out"] as? Double ?? 2), 1)
        let finalists = try XCTUnwrap(result["finalists"] as? [[String: Any]])
        XCTAssertEqual(finalists.first?["proxy"] as? String, formula, "the finalist whose plans kept closest to float wins")
        XCTAssertTrue(finalists.contains { $0["proxy"] as? String == Proxy.hawq.description && $0["allocation"] as? Double == 0 })
        XCTAssertGreaterThan(figures["plans"] as? Int ?? 0, try PlanBenchmark.read(path: plans).entries.count,
                             "the finalists' own plans were measured and joined the benchmark's")
        let compressed = try runCompress([model, "--data", data, "--prep", "mnist", "--bits", "mixed", "--method", "emq", "--proxy", proxy,
                                          "--budget", "250KB", "-o", folder + "/emq.wtm", "--json"])
        XCTAssertEqual(compressed.status, 0, compressed.stderr)
        let bytes = (try JSONSerialization.jsonObject(with: Data(compressed.stdout.utf8)) as? [String: Any])?["weight_bytes"] as? Int
        XCTAssertLessThanOrEqual(try XCTUnwrap(bytes), 250_000)
        let ranked = try runCompress(["sample-plans", model, "--data", data, "--prep", "mnist", "--benchmark", plans, "--methods", "emq",
                                      "--proxy", proxy, "--proxy", "sum(mul(h, sq(e)))"])
        XCTAssertEqual(ranked.status, 0, ranked.stderr)
        XCTAssertTrue(ranked.stdout.contains("emq \(formula)") && ranked.stdout.contains("emq sum(mul(h, sq(e)))"), ranked.stdout)
        let bad = try runCompress([model, "--data", data, "--prep", "mnist", "--bits", "mixed", "--method", "emq", "--proxy", "sum(mul(h, x))",
                                   "--budget", "250KB", "-o", folder + "/bad.wtm"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("'x' is no primitive"), bad.stderr)
    }
}
