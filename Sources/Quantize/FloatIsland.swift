import Foundation
import Graph

/// QuantSim's float islands: the runtime's float-island kernels (`kernels/float/float_ops.c`)
/// repeated operation for operation — the same sums in the same order, the same C library
/// functions — so a float island's float32 bits match the runtime's too. Float tensors travel
/// through QuantSim as their bytes.
extension QuantSim {
    static let rank = 6


    static func bytes(_ floats: [Float]) -> [UInt8] {
        floats.withUnsafeBytes { Array($0) }
    }

    /// uint8 (NHWC for 4-D) → float32 (NCHW).
    static func dequantize(_ data: [UInt8], _ x: IntegerTensor) -> [Float] {
        let order = IntegerTensor.nhwcIndices(x.shape)
        return order.map { x.scale * Float(Int32(data[$0]) - x.zeroPoint) }
    }

    /// float32 (NCHW for 4-D) → uint8 (NHWC), clamped to `clamp`.
    static func quantize(_ values: [Float], _ y: IntegerTensor, clamp: ClosedRange<Int32>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: values.count)
        for (i, j) in IntegerTensor.nhwcIndices(y.shape).enumerated() {
            var q = rintf(values[i] / y.scale) + Float(y.zeroPoint)
            if q.isNaN { q = 0 }
            out[j] = UInt8(q < Float(clamp.lowerBound) ? clamp.lowerBound : (q > Float(clamp.upperBound) ? clamp.upperBound : Int32(q)))
        }
        return out
    }

    /// A float island op on its operands' values (float32, the graph's layout).
    static func float(_ op: FloatOp, _ operands: [(shape: [Int], values: [Float])], output: [Int]) -> [Float] {
        let x = operands[0].values, count = output.reduce(1, *)
        switch op {
        case .unary(let f):
            return x.map { unary(f, $0) }
        case .binary(let f, let constant):
            var a = operands[0]
            var b: (shape: [Int], values: [Float]) = operands.count > 1 ? operands[1] : (constant?.shape ?? [1], constant?.values ?? [])
            if let constant, constant.first { (a, b) = ((constant.shape, constant.values), operands[0]) }
            let sa = strides(aligned(a.shape)), sb = strides(aligned(b.shape)), dims = aligned(output)
            var index = [Int](repeating: 0, count: rank), out = [Float](repeating: 0, count: count)
            for i in 0..<count {
                out[i] = binary(f, a.values[offset(index, sa)], b.values[offset(index, sb)])
                next(&index, dims)
            }
            return out
        case .matMul(let constant, let bias):
            let b: (shape: [Int], values: [Float]) = operands.count > 1 ? operands[1] : (constant?.shape ?? [], constant?.values ?? [])
            let da = aligned(operands[0].shape), db = aligned(b.shape), dy = aligned(output)
            let (rows, columns, depth) = (dy[rank - 2], dy[rank - 1], da[rank - 1])
            let batch = dy.indices.map { $0 < rank - 2 ? dy[$0] : 1 }
            let sa = strides(da.indices.map { $0 < rank - 2 ? da[$0] : 1 }), sb = strides(db.indices.map { $0 < rank - 2 ? db[$0] : 1 })
            var index = [Int](repeating: 0, count: rank), out: [Float] = []
            out.reserveCapacity(count)
            for _ in 0..<count / (rows * columns) {
                let at = offset(index, sa) * rows * depth, bt = offset(index, sb) * depth * columns
                for m in 0..<rows {
                    for n in 0..<columns {
                        var acc: Float = 0
                        for k in 0..<depth { acc += x[at + m * depth + k] * b.values[bt + k * columns + n] }
                        out.append(bias.map { acc + $0[n] } ?? acc)
                    }
                }
                next(&index, batch)
            }
            return out
        case .reduceMean(let axes):
            let shape = operands[0].shape, dims = aligned(shape), shift = rank - shape.count
            let kept = dims.indices.map { axes.contains($0 - shift) ? 1 : dims[$0] }
            let reduced = axes.reduce(1) { $0 * shape[$1] }, stride = strides(kept)
            var index = [Int](repeating: 0, count: rank), out = [Float](repeating: 0, count: count)
            for value in x {
                out[offset(index, stride)] += value
                next(&index, dims)
            }
            return out.map { $0 / Float(reduced) }
        case .softmax(let axis):
            let (outer, along, inner) = split(output, at: axis)
            var out = [Float](repeating: 0, count: count)
            for o in 0..<outer {
                for i in 0..<inner {
                    let base = o * along * inner + i
                    var top = x[base]
                    for k in 1..<max(along, 1) where x[base + k * inner] > top { top = x[base + k * inner] }
                    var sum: Float = 0
                    for k in 0..<along {
                        out[base + k * inner] = expf(x[base + k * inner] - top)
                        sum += out[base + k * inner]
                    }
                    for k in 0..<along { out[base + k * inner] = out[base + k * inner] / sum }
                }
            }
            return out
        case .transpose(let perm):
            let shift = rank - perm.count, from = strides(aligned(operands[0].shape), broadcast: false)
            var stride = [Int](repeating: 0, count: rank)
            for (i, p) in perm.enumerated() { stride[shift + i] = from[shift + p] }
            return gather(x, stride: stride, start: 0, output: output)
        case .slice(let starts, let steps):
            let shape = operands[0].shape, shift = rank - shape.count, from = strides(aligned(shape), broadcast: false)
            var stride = [Int](repeating: 0, count: rank), start = 0
            for d in 0..<shape.count {
                start += starts[d] * from[shift + d]
                stride[shift + d] = steps[d] * from[shift + d]
            }
            return gather(x, stride: stride, start: start, output: output)
        case .concat(let axis):
            let (outer, along, inner) = split(output, at: axis)
            var out = [Float](repeating: 0, count: count), at = 0
            for operand in operands {
                let part = operand.shape[axis] * inner
                for o in 0..<outer { out.replaceSubrange(o * along * inner + at..<o * along * inner + at + part, with: operand.values[o * part..<(o + 1) * part]) }
                at += part
            }
            return out
        case .pool(let w, let kind):
            let shape = operands[0].shape, (height, width) = (shape[2], shape[3])
            var out: [Float] = []
            out.reserveCapacity(count)
            for plane in 0..<output[0] * output[1] {
                for oy in 0..<output[2] {
                    for ox in 0..<output[3] {
                        var acc: Float = kind == .max ? -.infinity : 0
                        var seen = 0, padded = 0
                        for ky in 0..<w.kernel.h {
                            let iy = oy * w.stride.h + ky * w.dilation.h - w.pads[0]
                            for kx in 0..<w.kernel.w {
                                let ix = ox * w.stride.w + kx * w.dilation.w - w.pads[1]
                                if iy < height + w.pads[2] && ix < width + w.pads[3] { padded += 1 }
                                guard iy >= 0, iy < height, ix >= 0, ix < width else { continue }
                                let v = x[(plane * height + iy) * width + ix]
                                acc = kind == .max ? (v > acc ? v : acc) : acc + v
                                seen += 1
                            }
                        }
                        out.append(kind == .max ? acc : acc / Float(kind == .average ? seen : padded))
                    }
                }
            }
            return out
        case .reshape:
            return x
        }
    }

    static func unary(_ f: FloatOp.Unary, _ x: Float) -> Float {
        switch f {
        case .relu: return x > 0 ? x : 0
        case .sigmoid: return 1 / (1 + expf(-x))
        case .sqrt: return sqrtf(x)
        case .erf: return erff(x)
        case .exp: return expf(x)
        case .tanh: return tanhf(x)
        case .clip(let low, let high): return x < low ? low : (x > high ? high : x)
        case .hardSigmoid(let alpha, let beta):
            let v = alpha * x + beta
            return v < 0 ? 0 : (v > 1 ? 1 : v)
        case .hardSwish:
            let v = x / 6 + 0.5
            return x * (v < 0 ? 0 : (v > 1 ? 1 : v))
        }
    }

    static func binary(_ f: FloatOp.Binary, _ a: Float, _ b: Float) -> Float {
        switch f {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        case .pow: return powf(a, b)
        }
    }

    /// A shape as `rank` dims aligned right, leading dims 1.
    static func aligned(_ shape: [Int]) -> [Int] { [Int](repeating: 1, count: rank - shape.count) + shape }

    /// Row-major strides; with `broadcast`, 0 along dims of 1.
    static func strides(_ dims: [Int], broadcast: Bool = true) -> [Int] {
        var stride = [Int](repeating: 0, count: dims.count), s = 1
        for d in dims.indices.reversed() {
            stride[d] = broadcast && dims[d] == 1 ? 0 : s
            s *= dims[d]
        }
        return stride
    }

    static func next(_ index: inout [Int], _ dims: [Int]) {
        var d = rank - 1
        while d > 0 {
            index[d] += 1
            if index[d] < dims[d] { return }
            index[d] = 0
            d -= 1
        }
        index[0] += 1
    }

    static func offset(_ index: [Int], _ stride: [Int]) -> Int { zip(index, stride).reduce(0) { $0 + $1.0 * $1.1 } }

    /// y[i] = x[start + Σ index · stride] over `output`'s elements in row-major order.
    static func gather(_ x: [Float], stride: [Int], start: Int, output: [Int]) -> [Float] {
        let dims = aligned(output), count = output.reduce(1, *)
        var index = [Int](repeating: 0, count: rank), out = [Float](repeating: 0, count: count)
        for i in 0..<count {
            out[i] = x[start + offset(index, stride)]
            next(&index, dims)
        }
        return out
    }

    /// Outer, axis and inner extents of `shape` split at `axis`.
    static func split(_ shape: [Int], at axis: Int) -> (Int, Int, Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }
}
