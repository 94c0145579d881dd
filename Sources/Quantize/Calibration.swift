import Engine
import Graph

/// Runs the float model over calibration batches and gathers, for every value a `QuantPlan`
/// turns into an integer tensor, in one pass: a `Histogram` (which grows its grid as values
/// arrive) and the mean of each channel (bias correction reads them).
public enum Calibration {
    public struct Statistics: Sendable {
        public var histograms: [String: Histogram]
        /// Per channel (dimension 1) over every other dimension: NCHW means per C, [N, K] per K.
        public var channelMeans: [String: [Double]]
    }

    /// `batches` are NCHW float inputs of the plan's graph; `progress` hears (done, total).
    /// With `binned` false the histograms track extents only: all the min/max observer reads.
    /// With `means` false `channelMeans` stays empty (nothing reads them without bias correction).
    public static func statistics(_ plan: QuantPlan, batches: [Tensor], binned: Bool = true, means: Bool = true,
                                  progress: (Int, Int) -> Void = { _, _ in }) throws -> Statistics {
        var watch = plan.graph
        watch.outputs = plan.observed.filter { $0 != plan.graph.inputs[0].name }
        let engine = Engine(graph: watch)
        let input = plan.graph.inputs[0].name
        var histograms: [String: Histogram] = [:], sums: [String: [Double]] = [:], counts: [String: Int] = [:]
        for (index, batch) in batches.enumerated() {
            let outputs = try engine.run([input: batch])
            for (name, tensor) in [(input, batch)] + outputs.map({ ($0.key, $0.value) }) {
                tensor.floats.withUnsafeBufferPointer { histograms[name, default: Histogram(binned: binned)].add($0) }
                guard means else { continue }
                let batchSums = tensor.channelSums()
                sums[name] = zip(sums[name] ?? batchSums.map { _ in 0 }, batchSums).map(+)
                counts[name, default: 0] += tensor.count / batchSums.count
            }
            progress(index + 1, batches.count)
        }
        var channelMeans: [String: [Double]] = [:]
        for (name, sum) in sums { channelMeans[name] = sum.map { $0 / Double(counts[name]!) } }
        return Statistics(histograms: histograms, channelMeans: channelMeans)
    }
}
