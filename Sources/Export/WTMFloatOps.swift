import Graph
import WhittleRuntime

/// The records of float-island ops (`WT_OP_DEQUANTIZE` … `WT_OP_F_POOL` in whittle_runtime.h):
/// a `FloatOp` as kind, params and constant blobs, and back.
enum WTMFloatOps {
    private static let unaryCodes: [(FloatOp.Unary, wt_float_function)] = [
        (.relu, WT_F_RELU), (.sigmoid, WT_F_SIGMOID), (.sqrt, WT_F_SQRT), (.erf, WT_F_ERF), (.exp, WT_F_EXP), (.tanh, WT_F_TANH),
        (.hardSwish, WT_F_HARD_SWISH),
    ]
    private static let binaryCodes: [(FloatOp.Binary, wt_float_binary)] = [
        (.add, WT_F_ADD), (.sub, WT_F_SUB), (.mul, WT_F_MUL), (.div, WT_F_DIV), (.pow, WT_F_POW),
    ]
    private static let poolCodes: [(FloatOp.Pool, wt_pool_kind)] = [
        (.max, WT_POOL_MAX), (.average, WT_POOL_AVERAGE), (.averageWithPads, WT_POOL_AVERAGE_WITH_PADS),
    ]
    private static let rank = Int(WT_MAX_RANK)

    /// The op's kind; fills `params` and stores constants by `blob`.
    static func record(_ op: FloatOp, params: inout [Int32], blobs: inout [wt_blob], blob: ([Float]) -> wt_blob) -> wt_op_kind {
        func dims(_ shape: [Int], at index: Int) {
            for d in 0..<rank { params[index + d] = Int32(d < shape.count ? shape[d] : 1) }
        }
        switch op {
        case .unary(let f):
            switch f {
            case .clip(let low, let high): (params[WT_P_F_FUNCTION], params[WT_P_F_A], params[WT_P_F_B]) = (Int32(WT_F_CLIP.rawValue), bits(low), bits(high))
            case .hardSigmoid(let alpha, let beta):
                (params[WT_P_F_FUNCTION], params[WT_P_F_A], params[WT_P_F_B]) = (Int32(WT_F_HARD_SIGMOID.rawValue), bits(alpha), bits(beta))
            default: params[WT_P_F_FUNCTION] = Int32(unaryCodes.first { $0.0 == f }!.1.rawValue)
            }
            return WT_OP_F_UNARY
        case .binary(let f, let constant):
            params[WT_P_F_FUNCTION] = Int32(binaryCodes.first { $0.0 == f }!.1.rawValue)
            if let constant {
                (params[WT_P_F_CONSTANT_FIRST], params[WT_P_F_RANK]) = (constant.first ? 1 : 0, Int32(constant.shape.count))
                dims(constant.shape, at: WT_P_F_DIMS)
                blobs[WT_B_CONSTANT] = blob(constant.values)
            }
            return WT_OP_F_BINARY
        case .matMul(let constant, let bias):
            if let constant {
                params[WT_P_F_MATMUL_RANK] = Int32(constant.shape.count)
                dims(constant.shape, at: WT_P_F_MATMUL_DIMS)
                blobs[WT_B_CONSTANT] = blob(constant.values)
            }
            if let bias { blobs[WT_B_BIAS] = blob(bias) }
            return WT_OP_F_MATMUL
        case .reduceMean(let axes):
            params[0] = Int32(axes.reduce(0) { $0 | 1 << $1 })
            return WT_OP_F_REDUCE_MEAN
        case .softmax(let axis):
            params[0] = Int32(axis)
            return WT_OP_F_SOFTMAX
        case .transpose(let perm):
            for (i, p) in perm.enumerated() { params[i] = Int32(p) }
            return WT_OP_F_TRANSPOSE
        case .slice(let starts, let steps):
            for d in starts.indices { (params[d], params[rank + d]) = (Int32(starts[d]), Int32(steps[d])) }
            return WT_OP_F_SLICE
        case .concat(let axis):
            params[0] = Int32(axis)
            return WT_OP_F_CONCAT
        case .pool(let w, let kind):
            WTM.geometry(w, into: &params)
            params[WT_P_POOL_KIND] = Int32(poolCodes.first { $0.0 == kind }!.1.rawValue)
            return WT_OP_F_POOL
        case .reshape:
            return WT_OP_RESHAPE
        }
    }

    /// The float op of a record the loader validated; `rank` is its first input's, `constant` reads a blob slot.
    static func op(kind: wt_op_kind, params p: [Int32], rank inputRank: Int, window: () -> Window,
                   constant: (Int) -> [Float]?) -> FloatOp {
        func shape(rankAt: Int, dimsAt: Int) -> [Int] { (0..<Int(p[rankAt])).map { Int(p[dimsAt + $0]) } }
        switch kind {
        case WT_OP_F_UNARY:
            let code = UInt32(p[WT_P_F_FUNCTION])
            if code == WT_F_CLIP.rawValue { return .unary(.clip(min: float(p[WT_P_F_A]), max: float(p[WT_P_F_B]))) }
            if code == WT_F_HARD_SIGMOID.rawValue { return .unary(.hardSigmoid(alpha: float(p[WT_P_F_A]), beta: float(p[WT_P_F_B]))) }
            return .unary(unaryCodes.first { $0.1.rawValue == code }!.0)
        case WT_OP_F_BINARY:
            let f = binaryCodes.first { $0.1.rawValue == UInt32(p[WT_P_F_FUNCTION]) }!.0
            return .binary(f, constant: constant(WT_B_CONSTANT).map {
                FloatOp.Constant(shape: shape(rankAt: WT_P_F_RANK, dimsAt: WT_P_F_DIMS), values: $0, first: p[WT_P_F_CONSTANT_FIRST] == 1)
            })
        case WT_OP_F_MATMUL:
            return .matMul(constant: constant(WT_B_CONSTANT).map {
                FloatOp.Constant(shape: shape(rankAt: WT_P_F_MATMUL_RANK, dimsAt: WT_P_F_MATMUL_DIMS), values: $0)
            }, bias: constant(WT_B_BIAS))
        case WT_OP_F_REDUCE_MEAN: return .reduceMean(axes: (0..<inputRank).filter { p[0] >> $0 & 1 == 1 })
        case WT_OP_F_SOFTMAX: return .softmax(axis: Int(p[0]))
        case WT_OP_F_TRANSPOSE: return .transpose(perm: (0..<inputRank).map { Int(p[$0]) })
        case WT_OP_F_SLICE: return .slice(starts: (0..<inputRank).map { Int(p[$0]) }, steps: (0..<inputRank).map { Int(p[rank + $0]) })
        case WT_OP_F_CONCAT: return .concat(axis: Int(p[0]))
        case WT_OP_F_POOL: return .pool(window(), poolCodes.first { $0.1.rawValue == UInt32(p[WT_P_POOL_KIND]) }!.0)
        default: return .reshape
        }
    }

    private static func bits(_ f: Float) -> Int32 { Int32(bitPattern: f.bitPattern) }
    private static func float(_ i: Int32) -> Float { Float(bitPattern: UInt32(bitPattern: i)) }
}
