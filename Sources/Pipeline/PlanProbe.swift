import Engine
import Export
import Graph
import Quantize
import Runner
import Search

/// How well a plan keeps the float model's answers, measured fast enough for a search to ask
/// hundreds of times: the plan is lowered with one calibration's statistics (`Compression.Calibrated`)
/// and its `.wtm` runs on the C runtime's fastest kernels over a fixed set of images. What it
/// measures is the file the main job would write, not an estimate of it: no fake-quantized
/// float graph stands in for the integers.
///
///     let probe = try PlanProbe(calibrated, images: batches, labels: labels)
///     let quality = try probe.measure(plan)   // top-1 against the labels, agreement and KL with float
public final class PlanProbe {
    /// One plan's quality on the probe's images.
    public struct Quality: Sendable {
        /// Images whose top-1 class is their label; nil without labels or for outputs that are no
        /// vector of class scores.
        public var top1: Double?
        /// Images whose top-1 class is the float model's; nil for outputs that are no class scores.
        public var agreement: Double?
        /// Mean KL(float ‖ quantized) of the softmax outputs (`Sensitivity.divergence`): 0 when the
        /// plan changes nothing, growing as it distorts more.
        public var divergence: Double
    }

    public let calibrated: Compression.Calibrated
    /// Images per measurement.
    public let count: Int
    private let images: [[Float]], reference: Tensor, labels: [Int]?
    private let threads: Int
    /// Qualities measured so far, by resolved plan.
    private var known: [Plan: Quality] = [:]

    /// `images` are NCHW batches of the calibrated graph's input; `labels` (one per image, or nil)
    /// give `Quality.top1`. The float model runs on them once, here. `threads` run the runtime's
    /// convolutions.
    public init(_ calibrated: Compression.Calibrated, images batches: [Tensor], labels: [Int]? = nil, threads: Int = 2) throws {
        self.calibrated = calibrated
        let graph = calibrated.steps.graph
        var images: [[Float]] = [], outputs: [Float] = [], outputShape: [Int] = []
        let engine = Engine(graph: graph)
        for batch in batches {
            let each = batch.count / batch.shape[0], pixels = batch.floats
            images += (0..<batch.shape[0]).map { Array(pixels[$0 * each..<($0 + 1) * each]) }
            let output = try engine.run([graph.inputs[0].name: batch])[graph.outputs[0]]!
            outputs += output.floats
            outputShape = output.shape
        }
        guard !images.isEmpty else { throw EngineError("the plan probe needs at least one image") }
        if let labels, labels.count != images.count {
            throw EngineError("the plan probe has \(images.count) images and \(labels.count) labels")
        }
        self.images = images
        self.labels = labels
        self.threads = threads
        count = images.count
        reference = Tensor(shape: [images.count] + outputShape.dropFirst(), floats: outputs)
    }

    /// The outputs of `plan`'s `.wtm` on every image, dequantized, batch-major as the float
    /// model's (NCHW for 4-D outputs).
    public func outputs(_ plan: Plan) throws -> Tensor { try run(try resolved(plan)) }

    /// `plan`'s quality: top-1 against the labels, agreement with float, and KL to float. A plan
    /// measured before is not run again.
    public func measure(_ plan: Plan) throws -> Quality {
        let plan = try resolved(plan)
        if let quality = known[plan] { return quality }
        let measured = try run(plan)
        var quality = Quality(divergence: Sensitivity.divergence(reference, measured))
        defer { known[plan] = quality }
        guard Tensor.holdsClassScores(reference.shape) else { return quality }
        let classes = reference.count / count, expected = reference.floats, got = measured.floats
        var agree = 0, correct = 0
        for i in 0..<count {
            let top = Compression.argmax(Array(got[i * classes..<(i + 1) * classes]))
            if top == Compression.argmax(Array(expected[i * classes..<(i + 1) * classes])) { agree += 1 }
            if let labels, top == labels[i] { correct += 1 }
        }
        quality.agreement = Double(agree) / Double(count)
        if labels != nil { quality.top1 = Double(correct) / Double(count) }
        return quality
    }

    /// `plan` with every layer's scale rule filled in; the observer it names is not read again,
    /// the ranges being calibrated already.
    private func resolved(_ plan: Plan) throws -> Plan { try plan.resolved(for: calibrated.steps.graph, observer: .minMax) }

    private func run(_ resolved: Plan) throws -> Tensor {
        let integer = try calibrated.lower(resolved).integer
        let runner = try Runner(bytes: try WTM.write(integer, arena: ArenaPlan(integer)), threads: threads)
        let input = integer.tensors[integer.inputs[0]], output = integer.tensors[integer.outputs[0]]
        var values: [Float] = []
        values.reserveCapacity(reference.count)
        for image in images { values += output.dequantize(nhwc: try runner.run(input.quantize(nchw: image))) }
        return Tensor(shape: reference.shape, floats: values)
    }
}
