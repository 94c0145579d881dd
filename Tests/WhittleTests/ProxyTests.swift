import Datasets
import Graph
@testable import Pipeline
@testable import Search
import XCTest

/// EMQ's proxies: formulas as text, their primitives, and the evolution that finds them.
final class ProxyTests: XCTestCase {
    func testFormulasReadAsWrittenAndBadOnesSayWhy() throws {
        let text = "norm(sub(abs(mul(g, e)), div(neg(abs(w)), a)))"
        XCTAssertEqual(try Proxy(parsing: text).description, text)
        XCTAssertEqual(try Proxy(parsing: " sum( mul(h,sq(e)) ) ").description, Proxy.hawq.description)
        for (bad, says) in [("sum(mul(h, x))", "'x' is no primitive"), ("mul(h, e)", "must begin with a reduction"),
                            ("sum(sq(e)", "expected ')'"), ("sum(e))", "unexpected ')'"), ("sum(add(e))", "expected ','")] {
            XCTAssertThrowsError(try Proxy(parsing: bad), bad) { error in
                XCTAssertTrue("\(error)".contains(says), "\(bad): \(error)")
            }
        }
    }

    /// A conv's weight index maps to the input channel it multiplies, grouped or not; a Gemm's to
    /// its input feature.
    func testEachWeightReadsTheRightInputChannel() {
        let conv = { (group: Int) in Op.conv(ConvAttributes(kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: group)) }
        let depthwise = ProxyInputs.inputChannel(of: [8, 1, 3, 3], op: conv(8))
        XCTAssertEqual([0, 9, 20, 71].map(depthwise), [0, 1, 2, 7])
        // 6 outputs, 4 inputs in 2 groups: outputs 0–2 read channels 0–1, outputs 3–5 channels 2–3.
        let grouped = ProxyInputs.inputChannel(of: [6, 2, 3, 3], op: conv(2))
        XCTAssertEqual([0, 9, 18, 27, 54, 63, 107].map(grouped), [0, 1, 0, 1, 2, 3, 3])
        XCTAssertEqual([0, 5, 6, 11].map(ProxyInputs.inputChannel(of: [2, 6], op: .gemm(alpha: 1, beta: 1, transA: false, transB: true))), [0, 5, 0, 5])
        XCTAssertEqual([0, 1, 2, 5].map(ProxyInputs.inputChannel(of: [3, 2], op: .matMul)), [0, 0, 1, 2])
    }

    /// With every weight sampled, HAWQ-V3's formula gives `Sensitivity.hawq`'s Ω; the first conv's
    /// `a` is the root mean square of the images' pixels.
    func testHawqFormulaOnAllWeightsIsHawq() throws {
        let graph = try ModelLoader.load(path: try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx")).graph
        let images = try Compression.calibrationBatches(graph, data: try LabeledData(folder: try Paths.shared("data/mnist")), preset: .mnist, limit: 8)[0]
        let primitives = try ProxyInputs.measure(graph, inputs: images, options: Scheme.allCases, sampled: .max)
        let hawq = try Sensitivity.hawq(graph, inputs: images, options: Scheme.allCases)
        let formula = try XCTUnwrap(Proxy.hawq.sensitivity(primitives))
        XCTAssertEqual(formula.layers, hawq.layers)
        for (expected, got) in zip(hawq.omega, formula.omega) {
            for scheme in Scheme.allCases { XCTAssertEqual(got[scheme]! / expected[scheme]!, 1, accuracy: 1e-9, "\(scheme)") }
        }
        let pixels = images.floats, rms = (pixels.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(pixels.count)).squareRoot()
        XCTAssertEqual(primitives.layers[0].a[0], rms, accuracy: 1e-6 * rms)
        XCTAssertNil(try Proxy(parsing: "sum(mul(h, g))").sensitivity(primitives), "a formula that reads neither e nor b cannot tell schemes apart")
    }

    /// On plans whose quality a hidden formula decides, evolution finds one that orders them
    /// (almost) as it does, and better than HAWQ-V3's.
    func testEvolutionFindsAHiddenFormula() throws {
        var random = SplitMix(seed: 7)
        func values(_ n: Int, _ scale: Double) -> [Double] { (0..<n).map { _ in scale * (2 * random.unit() - 1) } }
        let layers = (0..<8).map { l -> ProxyInputs.Layer in
            let n = 16 + 8 * l, w = values(n, 1)
            let errors = Dictionary(uniqueKeysWithValues: Scheme.allCases.map { scheme in
                (scheme, w.map { _ in (2 * random.unit() - 1) / Double(scheme.levels.count) })
            })
            return ProxyInputs.Layer(name: "layer\(l)", count: n, w: w, g: values(n, 1).map(abs), a: values(n, 3).map(abs), h: random.unit(), e: errors)
        }
        let inputs = ProxyInputs(layers: layers, options: Scheme.allCases)
        let hidden = try XCTUnwrap(try Proxy(parsing: "sum(mul(sq(a), sq(e)))").sensitivity(inputs))
        let samples = (0..<40).map { _ -> ProxyEvolution.Sample in
            let choices = layers.map { _ in Scheme.allCases[random.below(4)] }
            return .init(choices: choices, quality: -zip(hidden.omega, choices).reduce(0) { $0 + $1.0[$1.1]! })
        }
        var settings = ProxyEvolution.Settings()
        settings.iterations = 1500
        let best = try XCTUnwrap(ProxyEvolution.evolve([.init(inputs: inputs, samples: samples)], settings: settings).first)
        let hawq = try XCTUnwrap(ProxyEvolution.fitness(.hawq, inputs, samples))
        XCTAssertGreaterThanOrEqual(best.fitness, 0.95, best.proxy.description)
        XCTAssertGreaterThan(best.fitness, hawq + 0.05, "\(best.proxy) against HAWQ-V3's \(hawq)")
        XCTAssertEqual(ProxyEvolution.fitness(best.proxy, inputs, samples), best.fitness)
    }
}
