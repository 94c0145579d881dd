/// How a conv or fully connected layer stores its weights: a signed level per weight times a
/// scale per output channel. Mirrors `wt_schemes` in `whittle_runtime.h` (`SchemeTests` checks
/// that the two agree).
///
/// | scheme  | bits | levels     | bytes for 64 weights |
/// |---------|------|------------|----------------------|
/// | int8    | 8    | −127 … 127 | 64                   |
/// | int4    | 4    | −8 … 7     | 32                   |
/// | int2    | 2    | −2 … 1     | 16                   |
/// | ternary | 2    | −1 … 1     | 16                   |
///
/// int8 leaves out −128, so that a pair of products fits int16 in the AVX2 kernels; int4 and
/// int2 use every code; ternary is BitNet b1.58's {−1, 0, +1} stored as 2-bit codes.
public enum Scheme: String, CaseIterable, Codable, Sendable {
    case int8, int4, int2, ternary

    /// The runtime's `wt_scheme_id`.
    public var id: Int {
        switch self {
        case .int8: return 0
        case .int4: return 1
        case .int2: return 2
        case .ternary: return 3
        }
    }

    /// Stored bits per weight.
    public var bits: Int {
        switch self {
        case .int8: return 8
        case .int4: return 4
        case .int2, .ternary: return 2
        }
    }

    /// The levels a weight takes.
    public var levels: ClosedRange<Int> {
        switch self {
        case .int8: return -127...127
        case .int4: return -8...7
        case .int2: return -2...1
        case .ternary: return -1...1
        }
    }

    /// Bytes `count` weights take, the last byte partly used. Example: 100 int4 weights → 50.
    public func bytes(_ count: Int) -> Int { (count * bits + 7) / 8 }
}

/// How a layer's per-channel weight scale is chosen. Every rule maps a weight w of a channel
/// with scale s to the level clamp(round(w / s)) in the scheme's levels.
public enum WeightScale: String, CaseIterable, Codable, Sendable {
    /// s = max |w| / the top level: nothing clips (int8's rule: max |w| 0.7 → s = 0.7 / 127).
    case maxAbs = "max"
    /// The s of least squared error Σ (s · level − w)², clipping included, searched over
    /// s = α · max |w| / the top level for α in 0.01 … 1 (int4's and int2's default).
    case leastSquares = "mse"
    /// BitNet b1.58: s = mean |w|. For ternary weights [0.1, −0.5, 0.9, 0.02]: s = 0.38,
    /// levels round([0.26, −1.32, 2.37, 0.05]) clamped → [0, −1, 1, 0] (ternary's default).
    case absMean = "absmean"
    /// "BitNet b1.58 Reloaded": s = median |w| (the upper median of an even count), less moved by
    /// a few large weights. For the weights above: s = 0.5, levels [0, −1, 1, 0].
    case absMedian = "absmedian"

    /// The rule a scheme uses unless a plan says otherwise.
    public static func standard(for scheme: Scheme) -> WeightScale {
        switch scheme {
        case .int8: return .maxAbs
        case .int4, .int2: return .leastSquares
        case .ternary: return .absMean
        }
    }

    public var help: String {
        switch self {
        case .maxAbs: return "max |w| over the top level, nothing clips"
        case .leastSquares: return "the clipping range of least squared error"
        case .absMean: return "mean |w| (BitNet b1.58)"
        case .absMedian: return "median |w| (BitNet b1.58 Reloaded)"
        }
    }
}


/// How a tensor's quantization range is chosen from its calibration values.
public enum Observer: String, CaseIterable, Codable, Sendable {
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