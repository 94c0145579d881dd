import Engine
import Export
import Foundation
import Graph
import Runner

/// Per-op latency of a `.wtm` on the C runtime: every op timed on its own in each of `runs`
/// runs after `warmup` untimed ones; medians per op and of the per-run totals.
public struct Profile: Sendable {
    public struct Layer: Sendable {
        public var index: Int
        /// The ONNX node the op comes from ("op3" for a .wtm without metadata).
        public var name: String
        public var kind: String
        public var inputShape: [Int]
        public var outputShape: [Int]
        public var macs: Int
        /// The weight scheme of a conv, transposed conv or FC; nil for other ops.
        public var weights: Scheme?
        /// The op's key in a `LatencyTable`.
        public var key: String
        public var medianMs: Double
        /// 2 · MACs per second, in 10^9 (0 for ops without MACs).
        public var gops: Double { medianMs > 0 ? 2 * Double(macs) / (medianMs * 1e6) : 0 }
    }

    public var layers: [Layer]
    public var medianMs: Double
    public var runs: Int
    public var kernels: String
    public var threads: Int
    public var macs: Int { layers.reduce(0) { $0 + $1.macs } }

    /// The ops' medians as a latency table (ops of the same key: the last one measured).
    public var table: LatencyTable {
        LatencyTable(kernels: kernels, threads: threads,
                     milliseconds: Dictionary(layers.map { ($0.key, $0.medianMs) }, uniquingKeysWith: { $1 }))
    }

    /// Profiles the model at `path`. The input is a fixed pseudo-random image: latency does not
    /// depend on the values.
    public static func measure(path: String, runs: Int, warmup: Int = 5, kernels: Runner.Kernels = .auto, threads: Int = 1) throws -> Profile {
        Engine.stopIdleBLASThreads()
        let inference = try IntegerInference(path: path, kernels: kernels, threads: threads)
        let model = inference.model, runner = inference.runner
        var state: UInt32 = 12345
        try runner.setInput((0..<runner.input.count).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        })
        for _ in 0..<warmup { try runner.invoke(ops: 0..<runner.opCount) }
        var times = [[Double]](repeating: [], count: runner.opCount)
        var totals: [Double] = []
        for _ in 0..<max(runs, 1) {
            var total = 0.0
            for i in 0..<runner.opCount {
                let start = DispatchTime.now().uptimeNanoseconds
                try runner.invoke(ops: i..<i + 1)
                let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                times[i].append(ms)
                total += ms
            }
            totals.append(total)
        }
        let layers = model.ops.enumerated().map { i, op in
            let output = model.tensors[op.output], input = model.tensors[op.inputs[0]]
            return Layer(index: i, name: op.name, kind: op.kindName, inputShape: input.shape, outputShape: output.shape,
                         macs: op.macs(outputCount: output.count), weights: op.weightCount > 0 ? op.scheme : nil,
                         key: LatencyTable.key(kind: op.kindName, input: input.shape, output: output.shape, weights: op.weightCount,
                                               scheme: op.scheme),
                         medianMs: median(times[i]))
        }
        return Profile(layers: layers, medianMs: median(totals), runs: max(runs, 1), kernels: runner.kernels, threads: runner.threads)
    }

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
