/// The operations of the IR, each with typed attributes. Inputs that ONNX passes as tensors but
/// that must be constant for a static graph (Reshape's shape, Slice's starts, Pad's pads, …)
/// are attributes here; weights and biases stay inputs that name initializers.
///
/// Shape inference lives in `ShapeInference.swift`, MAC counting in `Cost.swift`, float
/// execution in the Engine: one place each, switched over this enum.
public enum Op: Equatable, Sendable {
    /// Inputs: x [N,C,H,W], w [M, C/group, kH, kW], optional bias [M].
    case conv(ConvAttributes)
    /// Inputs: x [N,C,H,W], w [C, M/group, kH, kW], optional bias [M].
    case convTranspose(ConvAttributes, outputPadding: [Int])
    /// Y = alpha·op(A)·op(B) + beta·C. Inputs: a, b, optional c.
    case gemm(alpha: Float, beta: Float, transA: Bool, transB: Bool)
    /// Numpy matmul: batched over leading dimensions, which broadcast.
    case matMul
    case add, sub, mul, div, pow
    case relu, sigmoid, sqrt, erf, exp, tanh
    case clip(min: Float, max: Float)
    /// y = max(0, min(1, alpha·x + beta)).
    case hardSigmoid(alpha: Float, beta: Float)
    /// y = x · hardSigmoid(x) with alpha 1/6, beta 1/2.
    case hardSwish
    /// Opset-13 semantics: normalizes along one axis.
    case softmax(axis: Int)
    /// Inputs: x, scale, bias, mean, var (inference form).
    case batchNorm(epsilon: Float)
    case maxPool(PoolAttributes)
    case averagePool(PoolAttributes, countIncludePad: Bool)
    case globalAveragePool
    case reduceMean(axes: [Int], keepDims: Bool)
    /// ONNX Reshape semantics with allowzero = 0: 0 copies the input dimension, −1 is inferred.
    case reshape(shape: [Int])
    case flatten(axis: Int)
    case transpose(perm: [Int])
    case concat(axis: Int)
    /// Axes are non-negative; ends are clamped to the dimension at inference.
    case slice(starts: [Int], ends: [Int], axes: [Int], steps: [Int])
    /// `pads` as ONNX: all begins, then all ends, one per dimension.
    case pad(pads: [Int], value: Float, mode: PadMode)
    case squeeze(axes: [Int])
    case unsqueeze(axes: [Int])
    /// Spatial resize of an NCHW tensor to a fixed output size per dimension.
    case resize(ResizeAttributes)
}

public enum PadMode: String, Equatable, Sendable {
    case constant, reflect, edge
}

public struct ConvAttributes: Equatable, Sendable {
    public var kernel: [Int]
    public var strides: [Int]
    /// Begins then ends, as ONNX: [top, left, bottom, right] for 2-D.
    public var pads: [Int]
    public var dilations: [Int]
    public var group: Int

    public init(kernel: [Int], strides: [Int], pads: [Int], dilations: [Int], group: Int) {
        self.kernel = kernel
        self.strides = strides
        self.pads = pads
        self.dilations = dilations
        self.group = group
    }
}

public struct PoolAttributes: Equatable, Sendable {
    public var kernel: [Int]
    public var strides: [Int]
    public var pads: [Int]
    public var ceilMode: Bool

    public init(kernel: [Int], strides: [Int], pads: [Int], ceilMode: Bool) {
        self.kernel = kernel
        self.strides = strides
        self.pads = pads
        self.ceilMode = ceilMode
    }
}

public struct ResizeAttributes: Equatable, Sendable {
    public enum Mode: String, Equatable, Sendable { case nearest, linear }
    public enum CoordinateTransform: String, Equatable, Sendable {
        case halfPixel = "half_pixel", pytorchHalfPixel = "pytorch_half_pixel"
        case alignCorners = "align_corners", asymmetric
    }
    public enum NearestRounding: String, Equatable, Sendable {
        case roundPreferFloor = "round_prefer_floor", roundPreferCeil = "round_prefer_ceil", floor, ceil
    }

    public var mode: Mode
    public var coordinates: CoordinateTransform
    public var nearest: NearestRounding
    /// Scale per dimension (output = floor(input · scale)), used when `sizes` is nil.
    public var scales: [Float]
    public var sizes: [Int]?

    public init(mode: Mode, coordinates: CoordinateTransform, nearest: NearestRounding, scales: [Float], sizes: [Int]?) {
        self.mode = mode
        self.coordinates = coordinates
        self.nearest = nearest
        self.scales = scales
        self.sizes = sizes
    }
}

extension Op {
    /// The ONNX operator name this op corresponds to, for reports and errors.
    public var name: String {
        switch self {
        case .conv: return "Conv"
        case .convTranspose: return "ConvTranspose"
        case .gemm: return "Gemm"
        case .matMul: return "MatMul"
        case .add: return "Add"
        case .sub: return "Sub"
        case .mul: return "Mul"
        case .div: return "Div"
        case .pow: return "Pow"
        case .relu: return "Relu"
        case .sigmoid: return "Sigmoid"
        case .sqrt: return "Sqrt"
        case .erf: return "Erf"
        case .exp: return "Exp"
        case .tanh: return "Tanh"
        case .clip: return "Clip"
        case .hardSigmoid: return "HardSigmoid"
        case .hardSwish: return "HardSwish"
        case .softmax: return "Softmax"
        case .batchNorm: return "BatchNormalization"
        case .maxPool: return "MaxPool"
        case .averagePool: return "AveragePool"
        case .globalAveragePool: return "GlobalAveragePool"
        case .reduceMean: return "ReduceMean"
        case .reshape: return "Reshape"
        case .flatten: return "Flatten"
        case .transpose: return "Transpose"
        case .concat: return "Concat"
        case .slice: return "Slice"
        case .pad: return "Pad"
        case .squeeze: return "Squeeze"
        case .unsqueeze: return "Unsqueeze"
        case .resize: return "Resize"
        }
    }
}
