import COpenBLAS
import Foundation
import Graph

/// The number types the differentiable path runs in: Float to train, Double to check gradients
/// against finite differences. Each brings its BLAS GEMM and the functions the ops need.
public protocol TrainingScalar: BinaryFloatingPoint, Sendable {
    /// Row-major C = alpha · op(A) · op(B) + beta · C, with op(A) [m, k] and op(B) [k, n].
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
                     b: UnsafePointer<Self>, ldb: Int, beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// Σ a[i]·b[i] over `count` contiguous elements (BLAS dot: vectorized, unlike a loop the
    /// compiler may not reorder).
    static func dot(_ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, count: Int) -> Self
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func erf(_ x: Self) -> Self
    static func pow(_ x: Self, _ y: Self) -> Self
}

extension Float: TrainingScalar {
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        cblas_sdot(Int32(count), a, 1, b, 1)
    }
    public static func exp(_ x: Float) -> Float { Foundation.exp(x) }
    public static func log(_ x: Float) -> Float { Foundation.log(x) }
    public static func tanh(_ x: Float) -> Float { Foundation.tanh(x) }
    public static func erf(_ x: Float) -> Float { Foundation.erf(x) }
    public static func pow(_ x: Float, _ y: Float) -> Float { Foundation.pow(x, y) }
}

extension Double: TrainingScalar {
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
                            b: UnsafePointer<Double>, ldb: Int, beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    public static func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, count: Int) -> Double {
        cblas_ddot(Int32(count), a, 1, b, 1)
    }
    public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    public static func log(_ x: Double) -> Double { Foundation.log(x) }
    public static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
    public static func erf(_ x: Double) -> Double { Foundation.erf(x) }
    public static func pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
}

/// A dense array in the scalar type of a `Tape`: a shape and row-major values.
public struct Buffer<T: TrainingScalar>: Equatable, Sendable {
    public var shape: [Int]
    public var values: [T]

    public init(shape: [Int], values: [T]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        self.shape = shape
        self.values = values
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, values: [T](repeating: 0, count: shape.reduce(1, *)))
    }

    public init(_ tensor: Tensor) {
        self.init(shape: tensor.shape, values: tensor.floats.map { T($0) })
    }

    public var count: Int { values.count }
    public var tensor: Tensor { Tensor(shape: shape, floats: values.map { Float($0) }) }

    /// Per channel (dimension 1) mean and biased variance over every other dimension: the
    /// statistics BatchNorm normalizes by in training mode.
    /// Example: [[1, 3], [5, 7]] as [2, 2] (two channels of one value each, batch 2): channel 0
    /// holds 1 and 5 → mean 3, variance 4.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func channelStatistics() -> (mean: [T], variance: [T]) {
        let channels = shape[1], inner = shape.dropFirst(2).reduce(1, *), images = count / Swift.max(channels * inner, 1)
        let n = T(images * inner)
        var mean = [T](repeating: 0, count: channels), variance = [T](repeating: 0, count: channels)
        values.withUnsafeBufferPointer { v in
            for plane in 0..<images * channels {
                var sum: T = 0
                for p in plane * inner..<(plane + 1) * inner { sum += v[p] }
                mean[plane % channels] += sum
            }
            for c in mean.indices { mean[c] /= n }
            for plane in 0..<images * channels {
                let mu = mean[plane % channels]
                var sum: T = 0
                for p in plane * inner..<(plane + 1) * inner { sum += (v[p] - mu) * (v[p] - mu) }
                variance[plane % channels] += sum
            }
        }
        for c in variance.indices { variance[c] /= n }
        return (mean, variance)
    }

    /// Element by element (gradients of a value read by several nodes add up).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func + (a: Buffer, b: Buffer) -> Buffer {
        var result = a
        for i in result.values.indices { result.values[i] += b.values[i] }
        return result
    }
}
