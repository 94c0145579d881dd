import Engine
import Graph

/// Runs the float model over calibration batches and histograms every value a `QuantPlan`
/// turns into an integer tensor: one pass finds each value's extent, a second fills a
/// `Histogram` over it.
public enum Calibration {
    /// `batches` are NCHW float inputs of the plan's graph; `progress` hears (pass, done, total).
    /// With `binned` false the second pass is skipped and the histograms hold their extents
    /// only: all the min/max observer reads, at half the cost.
    public static func histograms(_ plan: QuantPlan, batches: [Tensor], binned: Bool = true,
                                  progress: (Int, Int, Int) -> Void = { _, _, _ in }) throws -> [String: Histogram] {
        var watch = plan.graph
        watch.outputs = plan.observed.filter { $0 != plan.graph.inputs[0].name }
        let engine = Engine(graph: watch)
        let input = plan.graph.inputs[0].name

        func forEachValue(pass: Int, _ body: (String, UnsafeBufferPointer<Float>) -> Void) throws {
            for (index, batch) in batches.enumerated() {
                let outputs = try engine.run([input: batch])
                batch.floats.withUnsafeBufferPointer { body(input, $0) }
                for (name, tensor) in outputs {
                    tensor.floats.withUnsafeBufferPointer { body(name, $0) }
                }
                progress(pass, index + 1, batches.count)
            }
        }

        var extents: [String: (low: Float, high: Float)] = [:]
        try forEachValue(pass: 1) { name, values in
            var (low, high) = extents[name] ?? (0, 0)
            for v in values {
                low = min(low, v)
                high = max(high, v)
            }
            extents[name] = (low, high)
        }
        var histograms = extents.mapValues { Histogram(low: $0.low, high: $0.high) }
        if binned { try forEachValue(pass: 2) { name, values in histograms[name]!.add(values) } }
        return histograms
    }
}
