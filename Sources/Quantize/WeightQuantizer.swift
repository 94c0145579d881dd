import Graph

/// Per-channel symmetric weight quantization for every `Scheme`.
public enum WeightQuantizer {
    /// Levels and one scale per channel for `weights`, rows of equal length, one per output channel.
    /// A channel of zeros gets scale 1.
    public static func quantize(_ weights: [Float], channels: Int, scheme: Scheme, rule: WeightScale)
        -> (levels: [Int8], scales: [Float]) {
        let per = weights.count / max(channels, 1)
        var levels = [Int8](repeating: 0, count: weights.count), scales: [Float] = []
        scales.reserveCapacity(channels)
        for c in 0..<channels {
            let row = weights[c * per..<(c + 1) * per]
            let scale = self.scale(row, scheme: scheme, rule: rule)
            scales.append(scale)
            for i in row.indices { levels[i] = level(row[i], scale: scale, scheme: scheme) }
        }
        return (levels, scales)
    }

    /// clamp(round-half-even(w / s)) into the scheme's levels.
    @inline(__always)
    static func level(_ w: Float, scale: Float, scheme: Scheme) -> Int8 {
        let r = (w / scale).rounded(.toNearestOrEven)
        return Int8(max(Float(scheme.levels.lowerBound), min(Float(scheme.levels.upperBound), r)))
    }

    /// One channel's scale under `rule`.
    static func scale(_ row: ArraySlice<Float>, scheme: Scheme, rule: WeightScale) -> Float {
        let maxAbs = row.reduce(Float(0)) { max($0, abs($1)) }
        guard maxAbs > 0, !row.isEmpty else { return 1 }
        let top = Float(scheme.levels.upperBound)
        switch rule {
        case .maxAbs:
            return maxAbs / top
        case .absMean:
            return max(row.reduce(Float(0)) { $0 + abs($1) } / Float(row.count), Float.leastNormalMagnitude)
        case .absMedian:
            let sorted = row.map(abs).sorted()
            return max(sorted[sorted.count / 2], Float.leastNormalMagnitude)
        case .leastSquares:
            var best = maxAbs / top, bestError = Float.infinity
            for step in 1...100 {
                let s = Float(step) / 100 * maxAbs / top
                var error: Float = 0
                for w in row {
                    let d = Float(level(w, scale: s, scheme: scheme)) * s - w
                    error += d * d
                }
                if error < bestError { (best, bestError) = (s, error) }
            }
            return best
        }
    }
}
