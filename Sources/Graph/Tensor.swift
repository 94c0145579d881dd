/// A dense tensor: a shape and contiguous row-major storage.
///
/// The float world stores `Float`; shape arithmetic (folded `Shape`/`Gather`/`Concat` chains)
/// stores `Int64`. Example: a 2×3 float tensor has `shape == [2, 3]` and six floats, the
/// element at (1, 2) at index 1·3 + 2 = 5.
public struct Tensor: Equatable, Sendable {
    public enum Storage: Equatable, Sendable {
        case float([Float])
        case int64([Int64])
    }

    public var shape: [Int]
    public var storage: Storage

    public init(shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count, "shape \(shape) does not hold \(floats.count) floats")
        self.shape = shape
        self.storage = .float(floats)
    }

    public init(shape: [Int], int64s: [Int64]) {
        precondition(shape.reduce(1, *) == int64s.count, "shape \(shape) does not hold \(int64s.count) integers")
        self.shape = shape
        self.storage = .int64(int64s)
    }

    public var count: Int { shape.reduce(1, *) }

    /// The elements as floats (integers converted).
    public var floats: [Float] {
        switch storage {
        case .float(let values): return values
        case .int64(let values): return values.map { Float($0) }
        }
    }

    /// The elements as integers (floats truncated toward zero).
    public var int64s: [Int64] {
        switch storage {
        case .float(let values): return values.map { Int64($0) }
        case .int64(let values): return values
        }
    }

    public var isFloat: Bool {
        if case .float = storage { return true }
        return false
    }

    /// The sum of each channel (dimension 1) over every other dimension, in Float per plane.
    /// Example: shape [2, 2, 1] holding [1, 2, 3, 4] → [4, 6].
    public func channelSums() -> [Double] {
        let channels = shape.count > 1 ? shape[1] : 1, inner = shape.dropFirst(2).reduce(1, *)
        var sums = [Double](repeating: 0, count: channels)
        floats.withUnsafeBufferPointer { values in
            for start in stride(from: 0, to: values.count, by: max(inner, 1)) {
                var s: Float = 0
                for v in values[start..<start + inner] { s += v }
                sums[(start / inner) % channels] += Double(s)
            }
        }
        return sums
    }

    /// Σ f(element) over every element, per index along `axis`: a weight's per-channel norms.
    /// Example: [[1, −2], [3, 4]] with |·| along axis 0 → [3, 7]; along axis 1 → [4, 6].
    public func sums(along axis: Int, of f: (Float) -> Double) -> [Double] {
        let inner = shape.dropFirst(axis + 1).reduce(1, *), dimension = shape[axis]
        var sums = [Double](repeating: 0, count: dimension)
        for (i, v) in floats.enumerated() { sums[(i / inner) % dimension] += f(v) }
        return sums
    }

    /// A tensor of the elements at `positions`, in that order.
    public func picking(_ positions: [Int], shape: [Int]) -> Tensor {
        switch storage {
        case .float(let values): return Tensor(shape: shape, floats: positions.map { values[$0] })
        case .int64(let values): return Tensor(shape: shape, int64s: positions.map { values[$0] })
        }
    }

    /// The slices at `indices` (each in 0..<shape[axis]) along `axis`, in that order: ONNX
    /// Gather, the index tensor's shape `indexShape` (nil: one dimension) in place of `axis`.
    /// Example: [[1, 2, 3], [4, 5, 6]] at [2, 0] along axis 1 → [[3, 1], [6, 4]].
    public func gathering(_ indices: [Int], axis: Int, indexShape: [Int]? = nil) -> Tensor {
        let outer = shape.prefix(axis).reduce(1, *), inner = shape.dropFirst(axis + 1).reduce(1, *)
        let dimension = shape[axis]
        let positions = (0..<outer).flatMap { o in indices.flatMap { p in (0..<inner).map { (o * dimension + p) * inner + $0 } } }
        return picking(positions, shape: Array(shape.prefix(axis)) + (indexShape ?? [indices.count]) + Array(shape.dropFirst(axis + 1)))
    }
}

/// How a value is quantized: `real = scale · (q − zeroPoint)` on a `bits`-wide integer grid,
/// one entry per tensor, or one per channel along `axis`. Kept from an already-quantized source
/// model (ONNX QLinear* ops), or set by int8 quantization for the QDQ ONNX export.
public struct QuantParams: Equatable, Sendable {
    public var scales: [Float]
    public var zeroPoints: [Int32]
    public var axis: Int?
    public var isSigned: Bool
    /// 8 for activations and weights, 32 for biases.
    public var bits: Int
    /// The levels of a weight scheme stored in 8 bits (int4: −8…7); nil: every integer of `bits`.
    public var levels: ClosedRange<Int64>?

    public init(scales: [Float], zeroPoints: [Int32], axis: Int? = nil, isSigned: Bool, bits: Int = 8, levels: ClosedRange<Int64>? = nil) {
        self.scales = scales
        self.zeroPoints = zeroPoints
        self.axis = axis
        self.isSigned = isSigned
        self.bits = bits
        self.levels = levels
    }

    /// The integers the grid holds. Example: signed 8 bits → −128…127; unsigned 8 bits → 0…255;
    /// int4 levels in signed 8 bits → −8…7.
    public var integerRange: ClosedRange<Int64> {
        levels ?? (isSigned ? -(Int64(1) << (bits - 1))...(Int64(1) << (bits - 1)) - 1 : 0...(Int64(1) << bits) - 1)
    }

    /// The real values a per-tensor quantizer can represent.
    /// Example: uint8 with scale 0.1 and zero point 10 holds −1.0 … 24.5.
    public var representableRange: (low: Float, high: Float) {
        let zero = Int64(zeroPoints.first ?? 0), scale = scales.first ?? 1
        return (Float(integerRange.lowerBound - zero) * scale, Float(integerRange.upperBound - zero) * scale)
    }

    /// The integers of `values` (a tensor of `shape`), as ONNX QuantizeLinear computes them:
    /// round half to even of value / scale, plus the zero point, saturated to the grid. 8-bit
    /// grids divide in Float (as the int8 weight quantizer does), wider ones in Double.
    /// Example: scales [0.5], zero point 10, value 3.25 → round(6.5) + 10 = 16.
    public func quantize(_ values: [Float], shape: [Int]) -> [Int64] {
        let channels = axis.map { shape[$0] } ?? 1
        let inner = axis.map { shape.dropFirst($0 + 1).reduce(1, *) } ?? values.count
        return values.indices.map { i in
            let c = (i / max(inner, 1)) % channels
            let scale = scales[scales.count == 1 ? 0 : c], zero = Int64(zeroPoints.count == 1 ? zeroPoints[0] : zeroPoints[c])
            let step = bits <= 8 ? Double((values[i] / scale).rounded(.toNearestOrEven))
                                 : (Double(values[i]) / Double(scale)).rounded(.toNearestOrEven)
            let q = step.isFinite ? Int64(max(-9e18, min(9e18, step))) + zero : zero
            return min(max(q, integerRange.lowerBound), integerRange.upperBound)
        }
    }
}

extension Tensor {
    /// Whether an output of `shape` is a vector of class scores per image: one dimension past the
    /// batch above 1, as [N, K] or [N, 1, 1, K] (a detector's map is not). Top-1 and softmax
    /// measures apply only to such outputs.
    public static func holdsClassScores(_ shape: [Int]) -> Bool {
        shape.dropFirst().filter { $0 > 1 }.count == 1
    }
}
