import Foundation
import Datasets
import Engine
import Export
import Graph
import Quantize
import Runner

/// Quantization by a plan: calibrate on images (or distilled inputs), lower each layer by its
/// scheme to an `IntegerModel`, write the `.wtm`, and measure how well the runtime agrees with the
/// float model on the calibration images.
public enum Compression {
    /// One integer op in the report.
    public struct Layer: Sendable {
        public var name: String
        public var kind: String
        public var outputShape: [Int]
        /// The real range the output's uint8 grid covers; nil for a float32 output.
        public var range: (low: Float, high: Float)?
        public var scale: Float
        public var zeroPoint: Int32
        /// The layer's weight scheme (conv and fully connected layers).
        public var weights: Scheme?
        /// Weights, biases, requantization and tables, as the `.wtm` stores them.
        public var bytes: Int
        /// The output's signal-to-quantization-noise ratio against float in dB, every op before
        /// it quantized too (`layerSQNR`); nil when it equals float exactly or has no float value.
        public var sqnr: Double?
    }

    /// The int8 model against the float one, on images kept apart from calibration when the data
    /// holds more than calibration took, else on the calibration inputs.
    public struct Agreement: Sendable {
        /// Images whose top-1 class is the same; nil when the output is no vector of class scores per image
        /// (a detector's map, say), where a top-1 means nothing.
        public var top1: Double?
        /// Mean over images of max |int8 − float| / max |float| on the output.
        public var relativeError: Double
        public var images: Int
        /// Whether the images were kept apart from calibration.
        public var heldOut = false
    }

    public struct Result: Sendable {
        public var integer: IntegerModel
        public var wtm: [UInt8]
        public var arena: ArenaPlan
        public var layers: [Layer]
        public var agreement: Agreement
        /// The float graph with the quantization on it, for `ONNXWriter` (QDQ ONNX).
        public var qdq: Graph
        /// The plan followed, resolved (every layer and field set), and what it costs.
        public var plan: Plan
        public var cost: Cost
        /// The nodes that run in float32 (float islands), and why.
        public var floatNodes: [QuantPlan.FloatNode]
    }

    /// Images the agreement is measured on (the reference kernels take about 0.35 s per
    /// EfficientNet-Lite0 image until the optimized kernels land).
    public static let agreementImages = 30
    /// Images per calibration batch.
    static let batchSize = 10

    /// Quantizes `graph` by `plan` (nil: int8 everywhere) calibrated on `limit` images of `data`
    /// spread evenly over it (all of them when it holds no more; a folder of class subfolders
    /// gives every class its share: 200 of CIFAR-10's 50,000 training images are 20 per class). `observer` chooses the ranges the plan leaves open. `progress` hears one line per stage.
    public static func quantize(_ graph: Graph, data: LabeledData, preset: Preset, limit: Int, plan: Plan? = nil, observer: Observer,
                                biasCorrection: Bool = true, progress: (String) -> Void = { _ in }) throws -> Result {
        let batches = try calibrationBatches(graph, data: data, preset: preset, limit: limit)
        progress("calibrating on \(batches.reduce(0) { $0 + $1.shape[0] }) images (\(observer.rawValue) ranges)")
        return try quantize(graph, batches: batches, plan: plan, observer: observer, biasCorrection: biasCorrection, progress: progress)
    }

    /// `limit` images of `data` spread evenly over it, prepared for `graph`'s input, in batches.
    public static func calibrationBatches(_ graph: Graph, data: LabeledData, preset: Preset, limit: Int) throws -> [Tensor] {
        guard min(limit, data.samples.count) > 0 else { throw EngineError("the calibration folder holds no images") }
        return try batches(graph, data: data, preset: preset, indices: spread(min(limit, data.samples.count), over: data))
    }

    /// Up to `agreementImages` images of `data` that `calibrationBatches` with `limit` leaves out,
    /// spread evenly over them, for measuring agreement on images calibration never saw; empty
    /// when calibration took every image. Example: 500 images, limit 200: calibration takes every
    /// 2.5th, and 30 of the other 300 are measured.
    public static func heldOutBatches(_ graph: Graph, data: LabeledData, preset: Preset, limit: Int) throws -> [Tensor] {
        let taken = Set(spread(min(limit, data.samples.count), over: data))
        let rest = data.samples.indices.filter { !taken.contains($0) }
        let count = min(agreementImages, rest.count)
        return try batches(graph, data: data, preset: preset, indices: (0..<count).map { rest[$0 * rest.count / count] })
    }

    /// The images of `data` at `indices`, prepared for `graph`'s NCHW input, in batches of `batchSize`.
    static func batches(_ graph: Graph, data: LabeledData, preset: Preset, indices: [Int]) throws -> [Tensor] {
        let input = graph.inputs[0]
        guard input.shape.count == 4 else { throw EngineError("calibration takes models with one NCHW image input") }
        let (channels, height, width) = (input.shape[1], input.shape[2], input.shape[3])
        return try stride(from: 0, to: indices.count, by: batchSize).map { start in
            let picked = Array(indices[start..<min(start + batchSize, indices.count)])
            let pixels = try data.inputs(picked, preset: preset, height: height, width: width, channels: channels)
            return Tensor(shape: [picked.count, channels, height, width], floats: pixels)
        }
    }

    /// The float model's statistics a plan is lowered with: the integer ops, every integer
    /// tensor's range, and the per-channel means bias correction reads. Weight schemes do not
    /// change them, so one calibration serves every plan a search tries.
    public struct Calibrated {
        public var steps: QuantPlan
        public var ranges: [String: (low: Float, high: Float)]
        /// nil without bias correction.
        public var means: [String: [Double]]?
        /// The second moments of layers' input patches (`LearnedRounding`); empty: every weight
        /// rounded to nearest.
        public var moments: [String: [[Float]]] = [:]

        /// `plan` lowered: integer ops with each layer's weights in its scheme.
        public func lower(_ plan: Plan) throws -> QuantPlan.Lowered {
            try steps.lower(ranges: ranges, inputMeans: means, plan: plan, moments: moments)
        }
    }

    /// Runs `graph` over `batches` (NCHW inputs) once and takes every integer tensor's range by
    /// `plan`'s observer per layer (`observer` elsewhere).
    public static func calibrate(_ graph: Graph, batches: [Tensor], plan: Plan, observer: Observer, biasCorrection: Bool = true,
                                 progress: (String) -> Void = { _ in }) throws -> Calibrated {
        let steps = try QuantPlan(graph)
        var observers: [String: Observer] = [:]
        for layer in plan.layers {
            if let output = steps.output(ofLayer: layer.name), let chosen = layer.observer { observers[output] = chosen }
        }
        let binned = observer != .minMax || observers.values.contains { $0 != .minMax }
        var meter = ProgressMeter("calibrating", total: batches.count, unit: "batches")
        let statistics = try Calibration.statistics(steps, batches: batches, binned: binned, means: biasCorrection) { done, _ in
            meter.line(done).map(progress)
        }
        let ranges = statistics.histograms.reduce(into: [String: (low: Float, high: Float)]()) { ranges, entry in
            ranges[entry.key] = entry.value.range(observers[entry.key] ?? observer)
        }
        if let overflow = ranges.keys.sorted().first(where: { !ranges[$0]!.low.isFinite || !ranges[$0]!.high.isFinite }) {
            throw EngineError("'\(overflow)' overflows float32 (infinity or NaN) on the calibration images, so it has no int8 range: the model's weights or inputs are out of scale")
        }
        return Calibrated(steps: steps, ranges: ranges, means: biasCorrection ? statistics.channelMeans : nil)
    }

    /// `calibrated` with the second moments of `layers`' inputs that it lacks, measured on the
    /// first `roundingImages` of `batches`: their weights below int8 are then rounded by
    /// `LearnedRounding` wherever it lowers a plan.
    public static func learningRounding(_ calibrated: Calibrated, layers: Set<String>, batches: [Tensor],
                                        progress: (String) -> Void = { _ in }) throws -> Calibrated {
        let missing = layers.subtracting(calibrated.moments.keys)
        guard !missing.isEmpty else { return calibrated }
        let images = leading(batches, images: roundingImages)
        progress("learning the rounding of \(missing.count) layers on \(images.reduce(0) { $0 + $1.shape[0] }) calibration images")
        var learning = calibrated
        learning.moments.merge(try LearnedRounding.inputMoments(calibrated.steps, batches: images, layers: missing)) { old, _ in old }
        return learning
    }

    /// The first batches of `batches` that hold at least `images` images (all, if fewer).
    static func leading(_ batches: [Tensor], images: Int) -> [Tensor] {
        var taken: [Tensor] = [], count = 0
        for batch in batches where count < images {
            taken.append(batch)
            count += batch.shape[0]
        }
        return taken
    }

    /// Calibration images learned rounding measures each layer's inputs on.
    static let roundingImages = 32

    /// The labels of the images `calibrationBatches` takes, in order; nil when any is unlabeled.
    public static func calibrationLabels(_ data: LabeledData, limit: Int) -> [Int]? {
        let labels = spread(min(limit, data.samples.count), over: data).map { data.samples[$0].label }
        return labels.contains(LabeledData.unlabeled) ? nil : labels
    }

    /// `count` indices spread evenly over `data`.
    static func spread(_ count: Int, over data: LabeledData) -> [Int] {
        (0..<count).map { $0 * data.samples.count / count }
    }

    /// Quantizes `graph` by `plan` (nil: int8 everywhere) calibrated on `batches` (NCHW inputs):
    /// images, or data distilled by `ZeroQ`.
    public static func quantize(_ graph: Graph, batches: [Tensor], plan: Plan? = nil, observer: Observer, biasCorrection: Bool = true,
                                progress: (String) -> Void = { _ in }) throws -> Result {
        let plan = try (plan ?? Plan.uniform(graph, scheme: .int8)).resolved(for: graph, observer: observer)
        let calibrated = try calibrate(graph, batches: batches, plan: plan, observer: observer, biasCorrection: biasCorrection)
        return try quantize(calibrated, plan: plan, batches: batches, progress: progress)
    }

    /// Lowers a resolved `plan` with `calibrated`'s statistics, writes the `.wtm` (with `metadata`,
    /// its `ops` filled with the lowered ops' names) and measures it
    /// against float on the first `agreementImages` of `batches`. With `learnedRounding`, the
    /// weights of layers below int8 are rounded by `LearnedRounding` on the first
    /// `roundingImages` of `batches`.
    public static func quantize(_ calibrated: Calibrated, plan: Plan, batches: [Tensor], heldOut: [Tensor] = [], learnedRounding: Bool = false,
                                metadata: WTMMetadata? = nil, progress: (String) -> Void = { _ in }) throws -> Result {
        let steps = calibrated.steps
        let lowBit = Set(plan.layers.filter { $0.weights != .int8 }.map(\.name))
        var calibrated = calibrated
        if learnedRounding {
            calibrated = try learningRounding(calibrated, layers: lowBit, batches: batches, progress: progress)
        } else {
            calibrated.moments = [:]
        }
        let lowered = try calibrated.lower(plan)
        let integer = lowered.integer, cost = try CostModel(steps).cost(plan)
        let arena = ArenaPlan(integer)
        var metadata = metadata
        metadata?.ops = integer.ops.map(\.name)
        let wtm = try WTM.write(integer, arena: arena, metadata: metadata)
        let measured = heldOut.isEmpty ? leading(batches, images: agreementImages) : heldOut
        progress("measuring int8 against float on \(measured.reduce(0) { $0 + $1.shape[0] }) \(heldOut.isEmpty ? "calibration" : "held-out") images")
        var agreement = try measure(graph: steps.graph, integer: integer, wtm: wtm, batches: measured)
        agreement.heldOut = !heldOut.isEmpty
        let sqnr = try layerSQNR(graph: steps.graph, integer: integer, wtm: wtm, batch: batches[0])
        // A float island's dequantize and quantize ops are no step of the cost model: they hold no bytes.
        let priced = Dictionary(cost.layers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let layers = integer.ops.map { op -> Layer in
            let y = integer.tensors[op.output]
            return Layer(name: op.name, kind: op.kindName, outputShape: y.shape, range: y.isFloat ? nil : (y.dequantize(0), y.dequantize(255)),
                         scale: y.scale, zeroPoint: y.zeroPoint, weights: priced[op.name]?.weights, bytes: priced[op.name]?.bytes ?? 0,
                         sqnr: sqnr[y.name])
        }
        return Result(integer: integer, wtm: wtm, arena: arena, layers: layers, agreement: agreement, qdq: steps.qdqGraph(lowered),
                      plan: plan, cost: cost, floatNodes: steps.floatNodes)
    }

    /// Data-free quantization (ZeroQ): `count` inputs distilled on `source` towards `targets` (from
    /// `ZeroQ.targets`), then `quantize` on them for `graph`. `source` is the graph the targets name
    /// tensors of: the model as imported, before BN folding, for BatchNorm targets.
    public static func dataFree(_ graph: Graph, source: Graph, targets: [ZeroQ.Target], count: Int = 8, plan: Plan? = nil,
                                observer: Observer, biasCorrection: Bool = true, progress: (String) -> Void = { _ in }) throws -> Result {
        let distilled = try distill(source, targets: targets, count: count, progress: progress)
        return try quantize(graph, batches: [distilled], plan: plan, observer: observer, biasCorrection: biasCorrection, progress: progress)
    }

    /// `count` calibration inputs distilled on `source` towards `targets` (ZeroQ), with progress.
    public static func distill(_ source: Graph, targets: [ZeroQ.Target], count: Int = 8, progress: (String) -> Void = { _ in }) throws -> Tensor {
        progress("no calibration images: distilling \(count) towards the statistics of \(targets.count) layers (ZeroQ)")
        var meter = ProgressMeter("distilling", total: ZeroQ.iterations, unit: "iterations")
        return try ZeroQ.distill(source, targets: targets, count: count) { iteration, loss in
            meter.line(iteration, detail: String(format: "loss %.4f", loss)).map(progress)
        }
    }

    private static func measure(graph: Graph, integer: IntegerModel, wtm: [UInt8], batches: [Tensor]) throws -> Agreement {
        let engine = Engine(graph: graph)
        let runner = try Runner(bytes: wtm)
        let inputTensor = integer.tensors[integer.inputs[0]], outputTensor = integer.tensors[integer.outputs[0]]
        var same = 0, images = 0, errorSum = 0.0
        for batch in batches {
            let reference = try engine.run([graph.inputs[0].name: batch])[graph.outputs[0]]!.floats
            let n = batch.shape[0], each = batch.count / n, classes = reference.count / n
            let pixels = batch.floats
            for i in 0..<n {
                let q = inputTensor.quantize(nchw: Array(pixels[i * each..<(i + 1) * each]))
                let scores = outputTensor.dequantize(nhwc: try runner.run(q))
                let expected = Array(reference[i * classes..<(i + 1) * classes])
                if argmax(scores) == argmax(expected) { same += 1 }
                let scale = expected.map(abs).max() ?? 0
                let worst = zip(scores, expected).map { abs($0 - $1) }.max() ?? 0
                errorSum += Double(scale > 0 ? worst / scale : worst)
                images += 1
            }
        }
        return Agreement(top1: Tensor.holdsClassScores(outputTensor.shape) ? Double(same) / Double(images) : nil, relativeError: errorSum / Double(images), images: images)
    }

    /// Images `layerSQNR` measures on.
    public static let sqnrImages = 4

    /// Each op output's SQNR against float, 10·log10(Σ f² / Σ (f − q)²) in dB, on the first
    /// `sqnrImages` images of `batch`, with every op before it quantized (so the error as it
    /// builds up through the network). Example: a uniform grid of 256 steps over a value's range
    /// gives about 48 dB; 20 dB is an error a tenth of the signal. Keyed by tensor name; values
    /// equal to float (noise 0) and Reshape outputs (their input's error, in another order) are left out.
    static func layerSQNR(graph: Graph, integer: IntegerModel, wtm: [UInt8], batch: Tensor) throws -> [String: Double] {
        let known = try graph.inferShapes()
        let names = integer.ops.map { integer.tensors[$0.output].name }.filter { known[$0] != nil }
        var probed = graph
        probed.outputs = graph.outputs + names.filter { !graph.outputs.contains($0) }
        let images = min(batch.shape[0], sqnrImages), each = batch.count / batch.shape[0]
        let engine = Engine(graph: probed), runner = try Runner(bytes: wtm)
        let inputTensor = integer.tensors[integer.inputs[0]]
        var signal: [String: Double] = [:], noise: [String: Double] = [:]
        for image in 0..<images {
            // One image at a time: a transpose may move the batch axis away from the front.
            let pixels = Array(batch.floats[image * each..<(image + 1) * each])
            let float = try engine.run([graph.inputs[0].name: Tensor(shape: [1] + batch.shape.dropFirst(), floats: pixels)])
            try runner.setInput(inputTensor.quantize(nchw: pixels))
            for (index, op) in integer.ops.enumerated() {
                try runner.invoke(ops: index..<index + 1)
                let y = integer.tensors[op.output]
                // A Reshape out of 4-D keeps the runtime's NHWC order, not the float graph's NCHW one.
                if case .reshape = op.kind, !y.isFloat { continue }
                guard let reference = float[y.name] else { continue }
                let quantized = y.realValues(runner.output(ofOp: index))
                for (f, q) in zip(reference.floats, quantized) {
                    signal[y.name, default: 0] += Double(f) * Double(f)
                    noise[y.name, default: 0] += Double(f - q) * Double(f - q)
                }
            }
        }
        var sqnr: [String: Double] = [:]
        for (name, n) in noise where n > 0 { sqnr[name] = 10 * log10(max(signal[name] ?? 0, 1e-30) / n) }
        return sqnr
    }

    static func argmax(_ values: [Float]) -> Int { values.indices.max { values[$0] < values[$1] } ?? 0 }
}
