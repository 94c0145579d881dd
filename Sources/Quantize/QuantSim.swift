import Graph

/// The integer simulation: runs an `IntegerModel` in Swift and computes exactly the integers
/// the C reference kernels compute (`Sources/Runtime/kernels/ref`). It is the oracle the
/// runtime is checked against by `compress verify`.
///
///     let scores = QuantSim(model).run(input)[model.outputs[0]]   // uint8, NHWC
public struct QuantSim {
    public let model: IntegerModel

    public init(_ model: IntegerModel) { self.model = model }

    /// Runs every op on `input` (uint8, the model input's NHWC layout) and returns every tensor
    /// (a float island's as the bytes of its float32 values).
    public func run(_ input: [UInt8]) -> [[UInt8]] {
        var values = model.tensors.map { [UInt8](repeating: 0, count: $0.byteCount) }
        values[model.inputs[0]] = input
        for op in model.ops {
            let operands = op.inputs.map { (tensor: model.tensors[$0], data: values[$0]) }
            values[op.output] = QuantSim.apply(op, operands, output: model.tensors[op.output])
        }
        return values
    }

    static func apply(_ op: IntegerOp, _ operands: [(tensor: IntegerTensor, data: [UInt8])], output y: IntegerTensor) -> [UInt8] {
        let x = operands[0].tensor, zx = x.zeroPoint, zy = Int64(y.zeroPoint)
        let low = op.clamp.lowerBound, high = op.clamp.upperBound
        @inline(__always) func clamp(_ v: Int64) -> UInt8 { UInt8(max(Int64(low), min(Int64(high), v))) }
        var out = [UInt8](repeating: 0, count: y.count)
        let input = operands[0].data
        switch op.kind {
        case .conv(let window, let group, let weights, let bias, let requant):
            let (height, width, channels) = (x.shape[1], x.shape[2], x.shape[3])
            let (outH, outW, outC) = (y.shape[1], y.shape[2], y.shape[3])
            let inPerGroup = channels / group, outPerGroup = outC / group
            let (kh, kw) = window.kernel
            input.withUnsafeBufferPointer { xs in weights.withUnsafeBufferPointer { ws in
                for n in 0..<x.shape[0] { for oy in 0..<outH { for ox in 0..<outW { for oc in 0..<outC {
                    let g = oc / outPerGroup
                    var acc = bias[oc]
                    for ky in 0..<kh {
                        let iy = oy * window.stride.h + ky * window.dilation.h - window.pads[0]
                        if iy < 0 || iy >= height { continue }
                        for kx in 0..<kw {
                            let ix = ox * window.stride.w + kx * window.dilation.w - window.pads[1]
                            if ix < 0 || ix >= width { continue }
                            let xBase = ((n * height + iy) * width + ix) * channels + g * inPerGroup
                            let wBase = ((oc * kh + ky) * kw + kx) * inPerGroup
                            for ic in 0..<inPerGroup { acc &+= (Int32(xs[xBase + ic]) - zx) * Int32(ws[wBase + ic]) }
                        }
                    }
                    out[((n * outH + oy) * outW + ox) * outC + oc] = clamp(zy + Int64(requant[oc].apply(acc)))
                } } } }
            } }
        case .fullyConnected(let weights, let bias, let requant):
            // Every dim of the output but the last is a row (the runtime's wt_fc_rows).
            let outputs = y.shape[y.shape.count - 1], batch = y.count / outputs, depth = x.count / batch
            input.withUnsafeBufferPointer { xs in weights.withUnsafeBufferPointer { ws in
                for n in 0..<batch { for m in 0..<outputs {
                    var acc = bias[m]
                    for k in 0..<depth { acc &+= (Int32(xs[n * depth + k]) - zx) * Int32(ws[m * depth + k]) }
                    out[n * outputs + m] = clamp(zy + Int64(requant[m].apply(acc)))
                } }
            } }
        case .add(let leftShift, let ra, let rb, let r):
            let b = operands[1], zb = b.tensor.zeroPoint
            for i in 0..<out.count {
                let a = ra.apply((Int32(input[i]) - zx) << leftShift)
                let bb = rb.apply((Int32(b.data[i]) - zb) << leftShift)
                out[i] = clamp(zy + Int64(r.apply(a &+ bb)))
            }
        case .mul(let r):
            let b = operands[1], zb = b.tensor.zeroPoint
            let channels = y.shape[y.shape.count - 1], plane = y.count / y.shape[0]
            let same = b.data.count == out.count
            for i in 0..<out.count {
                let j = same ? i : (i / plane) * channels + i % channels
                out[i] = clamp(zy + Int64(r.apply((Int32(input[i]) - zx) * (Int32(b.data[j]) - zb))))
            }
        case .lookup(let table):
            let channels = y.shape[y.shape.count - 1], tables = table.count / 256 == channels ? channels : 1
            for i in 0..<out.count { out[i] = clamp(Int64(table[(i % tables) * 256 + Int(input[i])])) }
        case .maxPool(let window):
            let (height, width, channels) = (x.shape[1], x.shape[2], x.shape[3])
            for n in 0..<y.shape[0] { for oy in 0..<y.shape[1] { for ox in 0..<y.shape[2] { for c in 0..<channels {
                var best: UInt8 = 0
                for ky in 0..<window.kernel.h {
                    let iy = oy * window.stride.h + ky * window.dilation.h - window.pads[0]
                    if iy < 0 || iy >= height { continue }
                    for kx in 0..<window.kernel.w {
                        let ix = ox * window.stride.w + kx * window.dilation.w - window.pads[1]
                        if ix < 0 || ix >= width { continue }
                        best = max(best, input[((n * height + iy) * width + ix) * channels + c])
                    }
                }
                out[((n * y.shape[1] + oy) * y.shape[2] + ox) * channels + c] = clamp(Int64(best))
            } } } }
        case .mean(let r):
            let plane = x.shape[1] * x.shape[2], channels = x.shape[3]
            for n in 0..<x.shape[0] { for c in 0..<channels {
                var acc: Int32 = 0
                for i in 0..<plane { acc &+= Int32(input[(n * plane + i) * channels + c]) - zx }
                out[n * channels + c] = clamp(zy + Int64(r.apply(acc)))
            } }
        case .concat:
            let outInner = y.shape[y.shape.count - 1], outer = y.count / outInner
            var at = 0
            for operand in operands {
                let inner = operand.tensor.shape[operand.tensor.shape.count - 1]
                for o in 0..<outer {
                    out.replaceSubrange(o * outInner + at..<o * outInner + at + inner,
                                        with: operand.data[o * inner..<(o + 1) * inner])
                }
                at += inner
            }
        case .reshape:
            out = input
        case .slice(let starts, let steps):
            let from = QuantSim.strides4(x.shape), dims = QuantSim.dims4(y.shape)
            var i = 0
            for a in 0..<dims[0] { for b in 0..<dims[1] { for c in 0..<dims[2] { for d in 0..<dims[3] {
                let index = zip([a, b, c, d], zip(starts, steps)).map { $1.0 + $0 * $1.1 }
                out[i] = input[zip(index, from).reduce(0) { $0 + $1.0 * $1.1 }]
                i += 1
            } } } }
        case .pad(let before, let value):
            let from = QuantSim.strides4(x.shape), dims = QuantSim.dims4(y.shape), inDims = QuantSim.dims4(x.shape)
            var i = 0
            for a in 0..<dims[0] { for b in 0..<dims[1] { for c in 0..<dims[2] { for d in 0..<dims[3] {
                let index = zip([a, b, c, d], before).map { $0 - $1 }
                let inside = zip(index, inDims).allSatisfy { $0 >= 0 && $0 < $1 }
                out[i] = inside ? input[zip(index, from).reduce(0) { $0 + $1.0 * $1.1 }] : value
                i += 1
            } } } }
        case .resize(let rows, let columns):
            let (height, width, channels) = (x.shape[1], x.shape[2], x.shape[3])
            var i = 0
            for n in 0..<y.shape[0] { for r in rows { for c in columns {
                let from = ((n * height + r) * width + c) * channels
                out.replaceSubrange(i..<i + channels, with: input[from..<from + channels])
                i += channels
            } } }
        case .convTranspose(let window, let group, let weights, let bias, let requant):
            let (height, width, channels) = (x.shape[1], x.shape[2], x.shape[3])
            let outputs = y.shape[3], inPerGroup = channels / group, outPerGroup = outputs / group
            var i = 0
            for n in 0..<y.shape[0] { for oy in 0..<y.shape[1] { for ox in 0..<y.shape[2] { for oc in 0..<outputs {
                let g = oc / outPerGroup
                var acc = bias[oc]
                for ky in 0..<window.kernel.h {
                    let ty = oy + window.pads[0] - ky * window.dilation.h
                    guard ty >= 0, ty % window.stride.h == 0, ty / window.stride.h < height else { continue }
                    for kx in 0..<window.kernel.w {
                        let tx = ox + window.pads[1] - kx * window.dilation.w
                        guard tx >= 0, tx % window.stride.w == 0, tx / window.stride.w < width else { continue }
                        let base = ((n * height + ty / window.stride.h) * width + tx / window.stride.w) * channels + g * inPerGroup
                        let w = ((oc * window.kernel.h + ky) * window.kernel.w + kx) * inPerGroup
                        for ic in 0..<inPerGroup { acc &+= (Int32(input[base + ic]) - zx) * Int32(weights[w + ic]) }
                    }
                }
                out[i] = clamp(zy + Int64(requant[oc].apply(acc)))
                i += 1
            } } } }
        case .dequantize:
            return bytes(dequantize(input, x))
        case .quantize:
            return quantize(IntegerTensor.floats(input), y, clamp: op.clamp)
        case .float(let f):
            return bytes(float(f, operands.map { ($0.tensor.shape, IntegerTensor.floats($0.data)) }, output: y.shape))
        case .softmax(let table):
            let inner = y.shape[y.shape.count - 1]
            for r in 0..<(y.count / inner) {
                let row = input[r * inner..<(r + 1) * inner]
                let top = row.max()!
                let sum = row.reduce(UInt64(0)) { $0 + UInt64(table[Int(top - $1)]) }
                for (i, v) in row.enumerated() {
                    let q = (UInt64(table[Int(top - v)]) * 256 + sum / 2) / sum
                    out[r * inner + i] = clamp(Int64(min(q, 255)))
                }
            }
        }
        return out
    }

    /// A shape as 4 dims, 1 past its rank (the runtime's records).
    static func dims4(_ shape: [Int]) -> [Int] { shape + [Int](repeating: 1, count: 4 - shape.count) }

    /// Row-major strides of the 4 dims.
    static func strides4(_ shape: [Int]) -> [Int] {
        let dims = dims4(shape)
        return [dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1]
    }
}
