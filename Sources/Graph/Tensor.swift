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
}

/// Quantization parameters a value carried in an already-quantized model (ONNX QLinear* ops).
/// `real = scale · (q − zeroPoint)`; one entry per tensor, or one per channel along `axis`.
public struct QuantParams: Equatable, Sendable {
    public var scales: [Float]
    public var zeroPoints: [Int32]
    public var axis: Int?
    public var isSigned: Bool

    public init(scales: [Float], zeroPoints: [Int32], axis: Int? = nil, isSigned: Bool) {
        self.scales = scales
        self.zeroPoints = zeroPoints
        self.axis = axis
        self.isSigned = isSigned
    }

    /// The real values a per-tensor 8-bit quantizer can represent.
    /// Example: uint8 with scale 0.1 and zero point 10 holds −1.0 … 24.5.
    public var representableRange: (low: Float, high: Float) {
        let (qmin, qmax): (Int32, Int32) = isSigned ? (-128, 127) : (0, 255)
        let zero = zeroPoints.first ?? 0, scale = scales.first ?? 1
        return (Float(qmin - zero) * scale, Float(qmax - zero) * scale)
    }
}
