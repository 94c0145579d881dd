import CFloatKernels
import Foundation
import Graph

/// A histogram of one tensor's calibration values, filled in one pass.
///
/// It tracks the exact extent (`low`, `high`: what min/max reads) and bins values on a grid of
/// `binCount` bins that starts at `gridLow` and always contains 0. When a value falls outside the
/// grid, the grid grows: its bin width doubles (pairs of bins merge) until the value fits, so
/// old counts stay in bins that hold exactly the values they counted.
///
/// Example: values 1, 0 and 0.5 make the grid [0, 1] of 2048 bins, 0.5 in bin 1024; −1 makes
/// it [−1, 1] with bins twice as wide, and 0.5 moves to bin 1536. (The top value goes in the
/// last bin.)
public struct Histogram: Sendable {
    public static let binCount = 2048
    /// The smallest and largest value seen, widened to contain 0.
    public private(set) var low: Float = 0
    public private(set) var high: Float = 0
    /// Where bin 0 starts; bins are `width` wide.
    public private(set) var gridLow: Float = 0
    public private(set) var width: Float = 0
    public private(set) var counts: [Double]
    /// false: only the extent is tracked (all min/max needs).
    public let binned: Bool

    public init(binned: Bool = true) {
        self.binned = binned
        counts = binned ? Array(repeating: 0, count: Histogram.binCount) : []
    }

    public mutating func add(_ values: UnsafeBufferPointer<Float>) {
        var (lo, hi) = (low, high)
        wt_f32_min_max(values.baseAddress, values.count, &lo, &hi)
        (low, high) = (lo, hi)
        guard binned, hi > lo else { return }
        if width == 0 {
            gridLow = lo
            width = (hi - lo) / Float(Histogram.binCount)
        }
        while lo < gridLow || hi > gridLow + width * Float(Histogram.binCount) { grow(towardsLow: lo < gridLow) }
        // Four interleaved integer tallies: after a Relu most values land in one bin, and four
        // counters keep the increments from waiting on each other.
        let n = Histogram.binCount
        var tallies = [UInt32](repeating: 0, count: 4 * n)
        wt_f32_histogram(values.baseAddress, values.count, gridLow, 1 / width, n, &tallies)
        for bin in 0..<n { counts[bin] += Double(tallies[bin] + tallies[n + bin] + tallies[2 * n + bin] + tallies[3 * n + bin]) }
    }

    /// Doubles the bin width, merging pairs of bins; the grid keeps its high end when it has to
    /// reach lower values, else its low end. Bin boundaries stay on the old ones.
    private mutating func grow(towardsLow: Bool) {
        let n = Histogram.binCount
        var merged = [Double](repeating: 0, count: n)
        let shift = towardsLow ? n / 2 : 0
        for (bin, count) in counts.enumerated() where count > 0 { merged[shift + bin / 2] += count }
        if towardsLow { gridLow -= width * Float(n) }
        width *= 2
        counts = merged
    }
    /// The bin centres.
    private func centre(_ bin: Int) -> Float { gridLow + (Float(bin) + 0.5) * width }

    /// The range `observer` picks; it always contains 0.
    public func range(_ observer: Observer) -> (low: Float, high: Float) {
        guard binned, width > 0 else { return (low, high) }
        switch observer {
        case .minMax: return (low, high)
        case .percentile: return (quantile(0.0001), quantile(0.9999))
        case .mse: return mseRange()
        case .entropy: return entropyRange()
        }
    }

    private func quantile(_ q: Double) -> Float {
        let total = counts.reduce(0, +)
        var seen = 0.0
        for (bin, count) in counts.enumerated() {
            seen += count
            if seen >= q * total {
                let edge = gridLow + Float(q < 0.5 ? bin : bin + 1) * width
                return q < 0.5 ? max(min(edge, 0), low) : min(max(edge, 0), high)
            }
        }
        return q < 0.5 ? low : high
    }

    /// Expected squared error of quantizing the histogram to 256 levels over [a, b].
    private func error(low a: Float, high b: Float) -> Double {
        let scale = max(b - a, .leastNormalMagnitude) / 255
        let zero = (-a / scale).rounded()
        var sum = 0.0
        for (bin, count) in counts.enumerated() where count > 0 {
            let x = centre(bin)
            let q = min(max((x / scale).rounded() + zero, 0), 255)
            let d = Double(x - (q - zero) * scale)
            sum += count * d * d
        }
        return sum
    }

    /// Shrinks the range in 1 % steps (both ends together, then each end), keeping the best.
    private func mseRange() -> (low: Float, high: Float) {
        var best = (low: low, high: high), bestError = error(low: low, high: high)
        for step in 1..<100 {
            let f = 1 - Float(step) / 100
            for candidate in [(low * f, high * f), (low, high * f), (low * f, high)] {
                let e = error(low: candidate.0, high: candidate.1)
                if e < bestError { (best, bestError) = ((candidate.0, candidate.1), e) }
            }
        }
        return best
    }

    /// TensorRT-style KL calibration, on each side of zero: for each candidate clip bin, compare
    /// the clipped distribution with its 128-level version. The bin holding 0 is left out: after
    /// a Relu it is a spike that any grid represents exactly (real 0 is on the grid), and kept in
    /// it would push the search towards grids so fine that they clip most of the values.
    private func entropyRange() -> (low: Float, high: Float) {
        let zeroBin = min(max(Int((-gridLow / width).rounded(.down)), 0), Histogram.binCount - 1)
        let zeroEdge = gridLow + Float(zeroBin) * width
        let positive = Array(counts[(zeroBin + 1)...]), negative = Array(counts[..<zeroBin].reversed())
        let highEdge = positive.isEmpty ? 0 : zeroEdge + Float(Histogram.klClipBins(positive) + 1) * width
        let lowEdge = negative.isEmpty ? 0 : zeroEdge - Float(Histogram.klClipBins(negative)) * width
        return (max(min(lowEdge, 0), low), min(max(highEdge, 0), high))
    }

    /// The number of bins to keep, as TensorRT's entropy calibration: the reference P is the kept
    /// bins with the clipped tail folded into the last one; the candidate Q is the kept bins
    /// (without the tail) merged into 128 levels and spread back over their non-empty bins. The
    /// tail's mass is in P and not in Q, so clipping much costs divergence.
    /// Example: all mass in the first bin and none elsewhere keeps 128 bins, the fewest allowed.
    static func klClipBins(_ bins: [Double]) -> Int {
        let levels = 128
        guard bins.count > levels else { return bins.count }
        var best = bins.count, bestDivergence = Double.infinity
        for keep in stride(from: levels, through: bins.count, by: max(1, bins.count / 256)) {
            var p = Array(bins[..<keep])
            p[keep - 1] += bins[keep...].reduce(0, +)
            let pTotal = p.reduce(0, +)
            var q = [Double](repeating: 0, count: keep)
            for level in 0..<levels {
                let start = level * keep / levels, end = (level + 1) * keep / levels
                let mass = bins[start..<end].reduce(0, +)
                let nonzero = p[start..<end].filter { $0 > 0 }.count
                if nonzero > 0 { for i in start..<end where p[i] > 0 { q[i] = mass / Double(nonzero) } }
            }
            let qTotal = q.reduce(0, +)
            guard pTotal > 0, qTotal > 0 else { continue }
            var divergence = 0.0
            for i in 0..<keep where p[i] > 0 {
                divergence += p[i] / pTotal * log((p[i] / pTotal) / max(q[i] / qTotal, 1e-12))
            }
            if divergence < bestDivergence { (best, bestDivergence) = (keep, divergence) }
        }
        return best
    }
}
