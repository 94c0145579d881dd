/// An op of a float island: what a model runs in float32, in the ONNX graph's own layout (NCHW
/// for 4-D), because it has no integer kernel — as ONNX Runtime leaves such ops in float. Each
/// case is one `WT_OP_F_*` kind of the runtime (`Sources/Runtime/kernels/float`), which defines
/// its arithmetic; `QuantSim` repeats it operation for operation.
public enum FloatOp: Equatable, Sendable {
    public enum Unary: Equatable, Sendable {
        case relu, sigmoid, sqrt, erf, exp, tanh
        case clip(min: Float, max: Float)
        case hardSigmoid(alpha: Float, beta: Float)
        case hardSwish
    }

    public enum Binary: Equatable, Sendable { case add, sub, mul, div, pow }

    /// A constant operand (row-major `values` of `shape`); `first` when it is the left operand.
    public struct Constant: Equatable, Sendable {
        public var shape: [Int]
        public var values: [Float]
        public var first: Bool

        public init(shape: [Int], values: [Float], first: Bool = false) {
            self.shape = shape.isEmpty ? [1] : shape
            self.values = values
            self.first = first
        }
    }

    public enum Pool: Equatable, Sendable {
        case max
        /// Divided by the inputs the window covers.
        case average
        /// Divided by the window positions inside the padded input (ONNX's count_include_pad).
        case averageWithPads
    }

    case unary(Unary)
    /// Numpy broadcasting; a constant stands for the input that is not a tensor.
    case binary(Binary, constant: Constant?)
    /// `a · b + bias`: b the second input, or a constant; batch dims broadcast.
    case matMul(constant: Constant?, bias: [Float]?)
    /// Mean over `axes` (each in 0..<rank).
    case reduceMean(axes: [Int])
    case softmax(axis: Int)
    case transpose(perm: [Int])
    /// A start and a step in every dim.
    case slice(starts: [Int], steps: [Int])
    case concat(axis: Int)
    /// 2-D pooling over NCHW.
    case pool(Window, Pool)
    /// The same values in another shape.
    case reshape

    /// The op's name in reports ("FloatMatMul", …).
    public var name: String {
        switch self {
        case .unary: return "FloatUnary"
        case .binary: return "FloatBinary"
        case .matMul: return "FloatMatMul"
        case .reduceMean: return "FloatReduceMean"
        case .softmax: return "FloatSoftmax"
        case .transpose: return "FloatTranspose"
        case .slice: return "FloatSlice"
        case .concat: return "FloatConcat"
        case .pool: return "FloatPool"
        case .reshape: return "FloatReshape"
        }
    }
}
