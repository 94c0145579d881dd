/// The integer program a quantized model becomes: uint8 NHWC activations, int8 weights, int32
/// accumulators. It is what `Quantize` builds, `QuantSim` runs, `Export` writes as `.wtm` and the
/// C runtime executes; every field maps one to one onto the runtime's records
/// (`Sources/Runtime/include/whittle_runtime.h`).
public struct IntegerModel: Equatable, Sendable {
    public var tensors: [IntegerTensor]
    public var ops: [IntegerOp]
    public var inputs: [Int]
    public var outputs: [Int]

    public init(tensors: [IntegerTensor], ops: [IntegerOp], inputs: [Int], outputs: [Int]) {
        self.tensors = tensors
        self.ops = ops
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// A uint8 activation: `real = scale · (q − zeroPoint)`, 4-D shapes NHWC; or a float island's
/// float32 value (`isFloat`, scale 1, zero point 0) in the float graph's layout, NCHW for 4-D.
public struct IntegerTensor: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    public var scale: Float
    public var zeroPoint: Int32
    public var isFloat: Bool

    public init(name: String, shape: [Int], scale: Float, zeroPoint: Int32, isFloat: Bool = false) {
        self.name = name
        self.shape = shape
        self.scale = scale
        self.zeroPoint = zeroPoint
        self.isFloat = isFloat
    }

    /// A float island's tensor.
    public static func float(name: String, shape: [Int]) -> IntegerTensor {
        IntegerTensor(name: name, shape: shape, scale: 1, zeroPoint: 0, isFloat: true)
    }

    public var count: Int { shape.reduce(1, *) }
    /// Bytes in the arena: one per uint8 element, four per float32 one.
    public var byteCount: Int { count * (isFloat ? 4 : 1) }

    /// Example: scale 0.5, zero point 10 maps 3.2 to round(6.4) + 10 = 16.
    public func quantize(_ value: Float) -> UInt8 {
        let q = (value / scale).rounded(.toNearestOrEven) + Float(zeroPoint)
        return UInt8(max(0, min(255, q.isNaN ? 0 : q)))
    }

    public func dequantize(_ value: UInt8) -> Float { scale * Float(Int32(value) - zeroPoint) }

    /// Quantizes float values in the float graph's layout (NCHW for 4-D) into this tensor's (NHWC).
    public func quantize(nchw values: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: values.count)
        for (i, j) in IntegerTensor.nhwcIndices(shape).enumerated() { out[j] = quantize(values[i]) }
        return out
    }

    /// Dequantizes this tensor's values (NHWC for 4-D) into the float graph's layout (NCHW).
    public func dequantize(nhwc values: [UInt8]) -> [Float] {
        var out = [Float](repeating: 0, count: values.count)
        for (i, j) in IntegerTensor.nhwcIndices(shape).enumerated() { out[i] = dequantize(values[j]) }
        return out
    }

    /// The real values `bytes` of this tensor hold, in the float graph's layout (NCHW for 4-D):
    /// dequantized, or a float island's float32 values as they are.
    public func realValues(_ bytes: [UInt8]) -> [Float] {
        isFloat ? IntegerTensor.floats(bytes) : dequantize(nhwc: bytes)
    }

    /// The float32 values stored in `bytes` (a float island's tensor as the arena holds it).
    public static func floats(_ bytes: [UInt8]) -> [Float] { bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } }

    /// For each NCHW element index, in order, its index in NHWC storage (the identity unless 4-D).
    /// `shape` is the NHWC shape.
    public static func nhwcIndices(_ shape: [Int]) -> [Int] {
        guard shape.count == 4 else { return Array(0..<shape.reduce(1, *)) }
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        var result: [Int] = []
        result.reserveCapacity(n * c * h * w)
        for b in 0..<n { for ch in 0..<c { for y in 0..<h { for x in 0..<w { result.append(((b * h + y) * w + x) * c + ch) } } } }
        return result
    }
}

/// A real multiplier as an int32 mantissa in [2^30, 2^31) and a power-of-two exponent, as TFLite's
/// QuantizeMultiplier: `real ≈ multiplier / 2^31 · 2^shift`.
/// Example: 0.3 → multiplier 1288490189 (0.6 · 2^31), shift −1.
public struct Requantization: Equatable, Sendable {
    public var multiplier: Int32
    public var shift: Int32

    public init(multiplier: Int32, shift: Int32) {
        self.multiplier = multiplier
        self.shift = shift
    }

    public init(_ real: Double) {
        guard real > 0, real.isFinite else {
            self.init(multiplier: 0, shift: 0)
            return
        }
        var exponent = Int32(real.exponent) + 1 // real = fraction · 2^exponent, fraction in [0.5, 1)
        var mantissa = (real / Double(sign: .plus, exponent: Int(exponent), significand: 1) * 2147483648).rounded()
        if mantissa == 2147483648 {
            mantissa /= 2
            exponent += 1
        }
        if exponent < -31 {
            self.init(multiplier: 0, shift: 0)
        } else {
            self.init(multiplier: Int32(mantissa), shift: min(exponent, 30))
        }
    }

    /// The runtime's `wt_requantize`: SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT.
    @inline(__always)
    public func apply(_ x: Int32) -> Int32 {
        let left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift
        let a = Int32(clamping: Int64(x) << Int64(left))
        let high: Int32
        if a == .min && multiplier == .min {
            high = .max
        } else {
            let product = Int64(a) * Int64(multiplier)
            let nudge: Int64 = product >= 0 ? 1 << 30 : 1 - (1 << 30)
            high = Int32(truncatingIfNeeded: (product + nudge) / (1 << 31))
        }
        guard right > 0 else { return high }
        let mask = Int32(truncatingIfNeeded: (Int64(1) << Int64(right)) - 1)
        let remainder = high & mask
        let threshold = (mask >> 1) + (high < 0 ? 1 : 0)
        return (high >> right) + (remainder > threshold ? 1 : 0)
    }
}

/// Window geometry of a convolution or pool, NHWC.
public struct Window: Equatable, Sendable {
    public var kernel: (h: Int, w: Int)
    public var stride: (h: Int, w: Int)
    /// top, left, bottom, right
    public var pads: [Int]
    public var dilation: (h: Int, w: Int)

    public init(kernel: (Int, Int), stride: (Int, Int), pads: [Int], dilation: (Int, Int)) {
        self.kernel = kernel
        self.stride = stride
        self.pads = pads
        self.dilation = dilation
    }

    public static func == (a: Window, b: Window) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.pads == b.pads && a.dilation == b.dilation
    }
}

public struct IntegerOp: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// Weights [M][kh][kw][C/group] (levels of the op's scheme); one bias and requantization per output channel.
        case conv(Window, group: Int, weights: [Int8], bias: [Int32], requant: [Requantization])
        /// Weights [M][K] (levels of the op's scheme).
        case fullyConnected(weights: [Int8], bias: [Int32], requant: [Requantization])
        /// TFLite's add: both inputs shifted left, rescaled to a common scale, summed, requantized.
        case add(leftShift: Int32, a: Requantization, b: Requantization, output: Requantization)
        /// The second input is the same shape or [N,1,1,C].
        case mul(Requantization)
        /// y = table[x]: any function of one uint8 value; or, with 256 × C entries, table[c · 256 + x]
        /// for channel c (the last dim).
        case lookup([UInt8])
        case maxPool(Window)
        /// Mean over H and W.
        case mean(Requantization)
        case concat
        case reshape
        /// Along the last axis; `table[d]` ∝ exp(−d · input scale); output scale 1/256, zero point 0.
        case softmax([UInt32])
        /// y[i] = x[start + i · step] in each of 4 dims (NHWC for 4-D; dims past the rank: start 0, step 1).
        case slice(starts: [Int], steps: [Int])
        /// x placed at offset `before` in each of 4 dims, the rest `value` (a constant pad, quantized).
        case pad(before: [Int], value: UInt8)
        /// Nearest-neighbour resize of H and W: the source row of each output row, the source column of each output column.
        case resize(rows: [Int], columns: [Int])
        /// Transposed conv; weights [M][kh][kw][C/group] (levels of the op's scheme); bias without the zero point.
        case convTranspose(Window, group: Int, weights: [Int8], bias: [Int32], requant: [Requantization])
        /// uint8 → float32 (NHWC → NCHW for 4-D): a float island starts.
        case dequantize
        /// float32 → uint8 (NCHW → NHWC for 4-D), rounded half to even: a float island ends.
        case quantize
        /// A float island's op, float32 in and out.
        case float(FloatOp)
    }

    public var name: String
    public var kind: Kind
    public var inputs: [Int]
    public var output: Int
    /// The quantized output clamp (a folded Relu/Clip); 0…255 when there is none.
    public var clamp: ClosedRange<Int32>
    /// How a conv or fully connected op's weights are stored; its weights are levels of it
    /// (int4: −8…7), held as `Int8`. int8 for every other op.
    public var scheme: Scheme

    public init(name: String, kind: Kind, inputs: [Int], output: Int, clamp: ClosedRange<Int32> = 0...255, scheme: Scheme = .int8) {
        self.name = name
        self.kind = kind
        self.inputs = inputs
        self.output = output
        self.clamp = clamp
        self.scheme = scheme
    }

    /// Multiply-accumulates per run: for a conv, output values × weights per output channel
    /// (a 3×3 conv from 16 to 32 channels on a 56×56 output: 56·56·32 · 3·3·16 = 14,450,688);
    /// for an FC, batch × weights; for a transposed conv, as a conv over the taps an output sees
    /// (kh·kw / stride², exact when the stride divides the kernel); for a float matmul by a
    /// constant, outputs × depth; 0 for every other op (a matmul of two tensors included).
    public func macs(outputCount: Int) -> Int {
        switch kind {
        case .conv(_, _, let weights, let bias, _): return outputCount * (weights.count / max(bias.count, 1))
        case .fullyConnected(let weights, let bias, _): return outputCount / max(bias.count, 1) * weights.count
        case .float(.matMul(let constant?, _)) where constant.shape.count >= 2: return outputCount * constant.shape[constant.shape.count - 2]
        case .convTranspose(let window, _, let weights, let bias, _):
            return outputCount * (weights.count / max(bias.count, 1)) / max(window.stride.h * window.stride.w, 1)
        default: return 0
        }
    }

    /// Weights a conv or fully connected op holds; 0 for other ops.
    public var weightCount: Int {
        switch kind {
        case .conv(_, _, let weights, _, _), .fullyConnected(let weights, _, _), .convTranspose(_, _, let weights, _, _): return weights.count
        default: return 0
        }
    }

    /// The op's family name, for reports ("Conv", "GroupConv", "FullyConnected", …).
    public var kindName: String {
        switch kind {
        case .conv(_, let group, _, _, _): return group > 1 ? "GroupConv" : "Conv"
        case .fullyConnected: return "FullyConnected"
        case .add: return "Add"
        case .mul: return "Mul"
        case .lookup: return "Lookup"
        case .maxPool: return "MaxPool"
        case .mean: return "Mean"
        case .concat: return "Concat"
        case .reshape: return "Reshape"
        case .softmax: return "Softmax"
        case .slice: return "Slice"
        case .pad: return "Pad"
        case .resize: return "Resize"
        case .convTranspose: return "ConvTranspose"
        case .dequantize: return "Dequantize"
        case .quantize: return "Quantize"
        case .float(let op): return op.name
        }
    }
}
