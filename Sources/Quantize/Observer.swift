import Foundation

/// How a tensor's quantization range is chosen from its calibration values.
public enum Observer: String, CaseIterable, Sendable {
    /// The smallest and largest value seen.
    case minMax = "minmax"
    /// The 0.01 % and 99.99 % quantiles: one value in ten thousand may clip at each end.
    case percentile
    /// The range whose uint8 grid gives the least mean squared error over the values seen,
    /// clipping included (searched over shrinking ranges).
    case mse
    /// TensorRT's entropy calibration: the range whose 128-level quantized histogram is closest
    /// in KL divergence to the seen one.
    case entropy

    public var help: String {
        switch self {
        case .minMax: return "min and max of the calibration values"
        case .percentile: return "0.01 % / 99.99 % quantiles"
        case .mse: return "least mean squared error of the uint8 grid, clipping included"
        case .entropy: return "least KL divergence between the seen and quantized histograms"
        }
    }
}

/// A histogram of one tensor's calibration values over a fixed range (found by a first pass).
///
/// Example: range [−1, 3] with 2048 bins puts 0.5 in bin ⌊(0.5 + 1) / 4 · 2048⌋ = 768.
public struct Histogram: Sendable {
    public static let binCount = 2048
    public let low: Float
    public let high: Float
    public private(set) var counts: [Double]

    public init(low: Float, high: Float) {
        self.low = min(low, 0)
        self.high = max(high, 0)
        counts = Array(repeating: 0, count: Histogram.binCount)
    }

    public var width: Float { max(high - low, .leastNormalMagnitude) / Float(Histogram.binCount) }

    public mutating func add(_ values: UnsafeBufferPointer<Float>) {
        let inverse = 1 / width, last = Histogram.binCount - 1
        counts.withUnsafeMutableBufferPointer { bins in
            for v in values {
                let bin = Int(((v - low) * inverse).rounded(.down))
                bins[min(max(bin, 0), last)] += 1
            }
        }
    }

    /// The bin centres.
    private func centre(_ bin: Int) -> Float { low + (Float(bin) + 0.5) * width }

    /// The range `observer` picks; it always contains 0.
    public func range(_ observer: Observer) -> (low: Float, high: Float) {
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
                let edge = q < 0.5 ? low + Float(bin) * width : low + Float(bin + 1) * width
                return q < 0.5 ? min(edge, 0) : max(edge, 0)
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

    /// TensorRT-style KL calibration on the side of the histogram that holds most of the mass:
    /// for each candidate clip bin, compare the clipped distribution with its 128-level version.
    private func entropyRange() -> (low: Float, high: Float) {
        let zeroBin = min(max(Int((-low / width).rounded()), 0), Histogram.binCount)
        let positive = Array(counts[zeroBin...]), negative = Array(counts[..<zeroBin].reversed())
        let highEdge = positive.isEmpty ? 0 : Float(Histogram.klClipBins(positive)) * width
        let lowEdge = negative.isEmpty ? 0 : -Float(Histogram.klClipBins(negative)) * width
        return (max(lowEdge, low), min(highEdge, high))
    }

    /// The number of bins to keep so that the kept histogram, with the tail folded into its last
    /// bin, quantized to 128 levels, has the least KL divergence from the original.
    static func klClipBins(_ bins: [Double]) -> Int {
        let levels = 128
        guard bins.count > levels else { return bins.count }
        var best = bins.count, bestDivergence = Double.infinity
        for keep in stride(from: levels, through: bins.count, by: max(1, bins.count / 256)) {
            var p = Array(bins[..<keep])
            p[keep - 1] += bins[keep...].reduce(0, +)
            let total = p.reduce(0, +)
            guard total > 0 else { continue }
            var q = [Double](repeating: 0, count: keep)
            for level in 0..<levels {
                let start = level * keep / levels, end = (level + 1) * keep / levels
                let mass = p[start..<end].reduce(0, +)
                let nonzero = p[start..<end].filter { $0 > 0 }.count
                if nonzero > 0 { for i in start..<end where p[i] > 0 { q[i] = mass / Double(nonzero) } }
            }
            var divergence = 0.0
            for i in 0..<keep where p[i] > 0 { divergence += p[i] / total * log((p[i] / total) / max(q[i] / total, 1e-12)) }
            if divergence < bestDivergence { (best, bestDivergence) = (keep, divergence) }
        }
        return best
    }
}
