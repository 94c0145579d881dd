import Graph

/// Max and average pooling over 2-D windows, global average pooling and ReduceMean.
enum Pooling {
    /// Average pooling divides by the window clipped to input plus pads with `countIncludePad`,
    /// else by the window clipped to the input (ONNX Runtime's rule).
    static func pool(_ a: PoolAttributes, max isMax: Bool, countIncludePad: Bool, x: Operand,
                     output: UnsafeMutablePointer<Float>, outputShape: [Int]) {
        let (height, width) = (x.shape[2], x.shape[3])
        let (outHeight, outWidth) = (outputShape[2], outputShape[3])
        let (kh, kw) = (a.kernel[0], a.kernel[1])
        let (sh, sw) = (a.strides[0], a.strides[1])
        let (top, left, bottom, right) = (a.pads[0], a.pads[1], a.pads[2], a.pads[3])
        for plane in 0..<x.shape[0] * x.shape[1] {
            let input = x.pointer + plane * height * width
            let out = output + plane * outHeight * outWidth
            for oy in 0..<outHeight {
                let y0 = oy * sh - top, y1 = min(y0 + kh, height + bottom)
                let ys = max(y0, 0)..<min(y1, height)
                for ox in 0..<outWidth {
                    let x0 = ox * sw - left, x1 = min(x0 + kw, width + right)
                    let xs = max(x0, 0)..<min(x1, width)
                    if isMax {
                        var best = -Float.infinity
                        for iy in ys { for ix in xs { best = Swift.max(best, input[iy * width + ix]) } }
                        out[oy * outWidth + ox] = best
                    } else {
                        var total: Float = 0
                        for iy in ys { for ix in xs { total += input[iy * width + ix] } }
                        let divisor = countIncludePad ? (y1 - y0) * (x1 - x0) : ys.count * xs.count
                        out[oy * outWidth + ox] = total / Float(Swift.max(divisor, 1))
                    }
                }
            }
        }
    }

    /// The mean of every plane, written [N, C] whether `x` is stored NCHW or [C, H, W, N].
    static func globalAverage(_ x: Operand, output: UnsafeMutablePointer<Float>) {
        let (images, channels) = (x.shape[0], x.shape[1])
        let plane = x.shape.dropFirst(2).reduce(1, *)
        if x.channelMajor {
            for c in 0..<channels {
                let input = x.pointer + c * plane * images
                for n in 0..<images {
                    var total: Float = 0
                    for i in 0..<plane { total += input[i * images + n] }
                    output[n * channels + c] = total / Float(plane)
                }
            }
            return
        }
        for p in 0..<images * channels {
            var total: Float = 0
            let input = x.pointer + p * plane
            for i in 0..<plane { total += input[i] }
            output[p] = total / Float(plane)
        }
    }

    /// Mean over `axes` (all when empty); the output is laid out as the kept dimensions.
    static func reduceMean(_ x: Operand, axes: [Int], output: UnsafeMutablePointer<Float>) {
        let reduced = Set(axes.isEmpty ? Array(x.shape.indices) : axes)
        if x.channelMajor {
            // `ChannelMajor.supports` admits the spatial mean only.
            globalAverage(x, output: output)
            return
        }
        if let first = reduced.min(), reduced == Set(first..<x.shape.count) {
            // Trailing axes: the mean of each contiguous block (EfficientNet's spatial mean).
            let block = x.shape.dropFirst(first).reduce(1, *)
            for o in 0..<x.count / max(block, 1) {
                var total: Float = 0
                for i in 0..<block { total += x.pointer[o * block + i] }
                output[o] = total / Float(block)
            }
            return
        }
        let kept = x.shape.indices.map { reduced.contains($0) ? 1 : x.shape[$0] }
        let strides = broadcastStrides(kept, to: x.shape)
        let outputCount = kept.reduce(1, *)
        output.update(repeating: 0, count: outputCount)
        var index = Array(repeating: 0, count: x.shape.count)
        for i in 0..<x.count {
            var position = 0
            for d in index.indices { position += index[d] * strides[d] }
            output[position] += x.pointer[i]
            advance(&index, shape: x.shape)
        }
        let divisor = Float(x.count / Swift.max(outputCount, 1))
        for i in 0..<outputCount { output[i] /= divisor }
    }
}
