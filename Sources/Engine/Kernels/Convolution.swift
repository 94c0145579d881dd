import CFloatKernels
import COpenBLAS
import Graph

/// 2-D convolution: im2col + a matrix product per image and group (SGEMM, or `wt_f32_product`
/// up to `directDepth`), a direct kernel over phase planes for depthwise, and the product
/// straight on the input for 1×1 stride-1 unpadded convolutions.
enum Convolution {
    static func isPointwise(_ a: ConvAttributes) -> Bool {
        a.kernel == [1, 1] && a.strides == [1, 1] && a.pads.allSatisfy { $0 == 0 }
    }

    static func isDepthwise(_ a: ConvAttributes, weight: [Int]) -> Bool {
        a.group > 1 && weight[1] == 1
    }

    static func columnsSize(_ a: ConvAttributes, input: [Int], weight: [Int], output: [Int]) -> Int {
        if isDepthwise(a, weight: weight) { return depthwiseScratchSize(a, input: input) }
        if isPointwise(a) { return 0 }
        return weight[1] * a.kernel[0] * a.kernel[1] * output[2] * output[3]
    }

    static func transposedColumnsSize(_ a: ConvAttributes, input: [Int], weight: [Int]) -> Int {
        weight[1] * a.kernel[0] * a.kernel[1] * input[2] * input[3]
    }

    /// `addend` (a residual Add folded in, shaped like the output) is added before the clamp.
    static func conv(_ a: ConvAttributes, x: Operand, w: Operand, bias: Operand?, output: UnsafeMutablePointer<Float>,
                     outputShape: [Int], activation: Activation?, addend: UnsafePointer<Float>?,
                     columns: UnsafeMutablePointer<Float>) {
        let (batch, inChannels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (outChannels, outHeight, outWidth) = (outputShape[1], outputShape[2], outputShape[3])
        let groupIn = inChannels / a.group, groupOut = outChannels / a.group
        let kernelSize = groupIn * a.kernel[0] * a.kernel[1]
        let outPlane = outHeight * outWidth, inPlane = height * width
        let (low, high) = activation.map { ($0.low, $0.high) } ?? (-.infinity, .infinity)
        if x.channelMajor {
            // [C, H, W, N]: a pointwise convolution is one product over every image's pixels, as
            // if the images were one tall image; a depthwise one takes each tap on a vector of
            // images (`ChannelMajor.supports` admits no other convolution).
            if !isDepthwise(a, weight: w.shape) {
                conv(a, x: Operand(pointer: x.pointer, shape: [1, inChannels, batch * height, width]), w: w, bias: bias,
                     output: output, outputShape: [1, outChannels, batch * outHeight, outWidth], activation: activation,
                     addend: addend, columns: columns)
                return
            }
            let clamp = addend == nil ? (low, high) : (-.infinity, .infinity)
            let (kh, kw) = (a.kernel[0], a.kernel[1])
            let pads = a.pads.map { Int($0) }
            for oc in 0..<outChannels {
                let ic = oc / (outChannels / a.group)
                wt_f32_dwconv_interleaved(x.pointer + ic * inPlane * batch, height, width, batch, w.pointer + oc * kh * kw,
                                          kh, kw, a.strides[0], a.strides[1], a.dilations[0], a.dilations[1], pads,
                                          bias?.pointer[oc] ?? 0, clamp.0, clamp.1, outHeight, outWidth, columns,
                                          output + oc * outPlane * batch)
            }
            if let addend {
                wt_f32_bias_clamp(output, outChannels, batch * outPlane, batch * outPlane, nil, addend, low, high)
            }
            return
        }
        for n in 0..<batch {
            let image = x.pointer + n * inChannels * inPlane
            let result = output + n * outChannels * outPlane
            let imageAddend = addend.map { $0 + n * outChannels * outPlane }
            if isDepthwise(a, weight: w.shape) {
                // With an addend the clamp waits for the epilogue pass that adds it.
                depthwise(a, image: image, inputShape: x.shape, w: w, bias: bias?.pointer,
                          clamp: imageAddend == nil ? (low, high) : (-.infinity, .infinity),
                          output: result, outputShape: outputShape, phases: columns)
                if let imageAddend {
                    wt_f32_bias_clamp(result, outChannels, outPlane, outPlane, nil, imageAddend, low, high)
                }
                continue
            }
            for g in 0..<a.group {
                let source: UnsafePointer<Float>
                if isPointwise(a) {
                    source = image + g * groupIn * inPlane
                } else {
                    im2col(a, image: image + g * groupIn * inPlane, channels: groupIn, height: height, width: width,
                           outHeight: outHeight, outWidth: outWidth, columns: columns)
                    source = UnsafePointer(columns)
                }
                let groupResult = result + g * groupOut * outPlane
                let groupBias = bias.map { $0.pointer + g * groupOut }
                let groupAddend = imageAddend.map { $0 + g * groupOut * outPlane }
                if kernelSize <= Convolution.directDepth {
                    product(w.pointer + g * groupOut * kernelSize, rows: groupOut, depth: kernelSize, input: source,
                            columns: outPlane, bias: groupBias, addend: groupAddend, clamp: (low, high), output: groupResult)
                    continue
                }
                let block = columnBlock(rows: groupOut, depth: kernelSize, columns: outPlane)
                for start in stride(from: 0, to: outPlane, by: block) {
                    let count = min(block, outPlane - start)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(groupOut), Int32(count), Int32(kernelSize),
                                1, w.pointer + g * groupOut * kernelSize, Int32(kernelSize), source + start, Int32(outPlane),
                                0, groupResult + start, Int32(outPlane))
                    if groupBias != nil || activation != nil || groupAddend != nil {
                        wt_f32_bias_clamp(groupResult + start, groupOut, count, outPlane, groupBias,
                                          groupAddend.map { $0 + start }, low, high)
                    }
                }
            }
        }
    }

    /// The largest depth (input channels × kernel taps) whose products skip SGEMM for
    /// `wt_f32_product`, which keeps a tile's sums in registers through the bias, addend and
    /// clamp. Time against SGEMM and its epilogue (rows × depth × columns, best of 20, both
    /// built by clang -O3): 96 × 16 × 12,544 0.45–0.51, 144 × 24 × 3,136 0.53–0.57,
    /// 384 × 64 × 3,136 0.79, 672 × 112 × 3,136 0.93, 24 × 144 × 3,136 0.80–0.85;
    /// 1,152 × 192 × 784 1.06, 112 × 672 × 3,136 1.27.
    static let directDepth = 160

    /// `wt_f32_product` over as many threads as OpenBLAS may use (its thread count is the
    /// Engine's), each taking a band of rows, multiples of six, once the product reaches 2²⁰
    /// multiply-adds. Example: 96 rows on two threads go as rows 0..<48 and 48..<96.
    private static func product(_ weights: UnsafePointer<Float>, rows: Int, depth: Int, input: UnsafePointer<Float>,
                                columns: Int, bias: UnsafePointer<Float>?, addend: UnsafePointer<Float>?,
                                clamp: (Float, Float), output: UnsafeMutablePointer<Float>) {
        let threads = rows * depth * columns < 1 << 20 ? 1 : min(Int(openblas_get_num_threads()), (rows + 5) / 6)
        guard threads > 1 else {
            wt_f32_product(weights, rows, depth, input, columns, bias, addend, clamp.0, clamp.1, output)
            return
        }
        let band = ((rows + threads - 1) / threads + 5) / 6 * 6
        _ = try? concurrentMap(threads) { part in
            let first = part * band, count = min(band, rows - first)
            guard count > 0 else { return }
            wt_f32_product(weights + first * depth, count, depth, input, columns, bias.map { $0 + first },
                           addend.map { $0 + first * columns }, clamp.0, clamp.1, output + first * columns)
        }
    }

    /// Output columns per SGEMM call. Where at least 64 columns fit in a product of at most 10⁶
    /// multiply-adds, that many (a multiple of 16): OpenBLAS (0.3.21, SkylakeX) runs such
    /// products with its small-matrix kernel, which neither packs the operands nor zeroes the
    /// output first. Example: 32 rows of depth 27 (the first convolution of EfficientNet-Lite0,
    /// before `directDepth`) go in blocks of 1,152 columns; they took 257 µs against 707 µs in
    /// blocks of 2,048. Otherwise blocks of about 256 KB of output, so the bias and clamp that follow
    /// find each block in cache, but at least 1,024 columns: each call packs the whole weight
    /// matrix again. Example: Lite0's 1152 × 192 layer over 16 images at 7×7 (784 columns) is
    /// one call, not 13; the batch tail's pointwise layers took 0.85–0.93 of the time they took
    /// in blocks of 64 columns or more.
    static func columnBlock(rows: Int, depth: Int, columns: Int) -> Int {
        let small = 1_000_000 / max(rows * depth, 1) / 16 * 16
        return min(columns, small >= 64 ? small : max(1_024, 65_536 / max(rows, 1)))
    }

    /// Unfolds receptive fields: row (c·kH + ky)·kW + kx, column oy·outWidth + ox.
    private static func im2col(_ a: ConvAttributes, image: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                               outHeight: Int, outWidth: Int, columns: UnsafeMutablePointer<Float>) {
        let (kh, kw) = (a.kernel[0], a.kernel[1])
        let (sh, sw) = (a.strides[0], a.strides[1])
        let (dh, dw) = (a.dilations[0], a.dilations[1])
        let (top, left) = (a.pads[0], a.pads[1])
        var row = columns
        for c in 0..<channels {
            let plane = image + c * height * width
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let (first, last) = validRange(offset: kx * dw - left, stride: sw, input: width, outputs: outWidth)
                    for oy in 0..<outHeight {
                        let iy = oy * sh + ky * dh - top
                        let out = row + oy * outWidth
                        guard iy >= 0 && iy < height else {
                            out.update(repeating: 0, count: outWidth)
                            continue
                        }
                        let line = plane + iy * width + kx * dw - left
                        if first > 0 { out.update(repeating: 0, count: first) }
                        if sw == 1 {
                            if last > first { (out + first).update(from: line + first, count: last - first) }
                        } else {
                            var ox = first
                            while ox < last { out[ox] = line[ox * sw]; ox += 1 }
                        }
                        if last < outWidth { (out + max(last, first)).update(repeating: 0, count: outWidth - max(last, first)) }
                    }
                    row += outHeight * outWidth
                }
            }
        }
    }

    /// Output positions o in [first, last) whose input o·stride + offset lies inside [0, input).
    /// Example: offset −1, stride 2, input 5, outputs 3 → [1, 3) (inputs 1 and 3).
    static func validRange(offset: Int, stride: Int, input: Int, outputs: Int) -> (Int, Int) {
        let first = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let last = input - offset <= 0 ? 0 : (input - 1 - offset) / stride + 1
        return (min(first, outputs), max(min(last, outputs), min(first, outputs)))
    }

    /// Row stride of the phase planes a depthwise convolution reads: one phase per column stride,
    /// padded so sixteen-wide loads past the last output never leave the row.
    private static func phaseLayout(_ a: ConvAttributes, height: Int, width: Int) -> (rows: Int, stride: Int) {
        let paddedWidth = width + a.pads[1] + a.pads[3]
        let phaseWidth = (paddedWidth + a.strides[1] - 1) / a.strides[1]
        return (height + a.pads[0] + a.pads[2], (phaseWidth + 15) / 16 * 16 + 16)
    }

    /// Phase planes for one image, or the zero-padded planes of every image stored [C, H, W, N].
    static func depthwiseScratchSize(_ a: ConvAttributes, input: [Int]) -> Int {
        let layout = phaseLayout(a, height: input[2], width: input[3])
        let padded = (input[2] + a.pads[0] + a.pads[2]) * (input[3] + a.pads[1] + a.pads[3]) * input[0]
        return max(a.strides[1] * layout.rows * layout.stride, padded)
    }

    /// Group convolution with one input channel per group (depthwise, with any multiplier).
    ///
    /// Each input plane is copied once into zero-padded phase planes: phase r holds padded
    /// columns r, r + s, r + 2s, … for column stride s. Tap (ky, kx) of output column ox then
    /// reads phase (kx·d) mod s at column ox + (kx·d) / s, so every tap is a contiguous
    /// eight-wide load and no tap needs a bounds check; `wt_f32_dwconv_rows` does the sums.
    private static func depthwise(_ a: ConvAttributes, image: UnsafePointer<Float>, inputShape: [Int], w: Operand,
                                  bias: UnsafePointer<Float>?, clamp: (Float, Float), output: UnsafeMutablePointer<Float>,
                                  outputShape: [Int], phases: UnsafeMutablePointer<Float>) {
        let (inChannels, height, width) = (inputShape[1], inputShape[2], inputShape[3])
        let (outChannels, outHeight, outWidth) = (outputShape[1], outputShape[2], outputShape[3])
        let (kh, kw) = (a.kernel[0], a.kernel[1])
        let (sh, sw) = (a.strides[0], a.strides[1])
        let (dh, dw) = (a.dilations[0], a.dilations[1])
        let (top, left) = (a.pads[0], a.pads[1])
        let multiplier = outChannels / a.group
        let (rows, rowStride) = phaseLayout(a, height: height, width: width)
        let phaseSize = rows * rowStride
        withUnsafeTemporaryAllocation(of: Int.self, capacity: kh * kw) { offsets in
            // Where tap (ky, kx) of output (0, 0) reads, relative to the phase planes.
            for ky in 0..<kh {
                for kx in 0..<kw { offsets[ky * kw + kx] = (kx * dw) % sw * phaseSize + ky * dh * rowStride + (kx * dw) / sw }
            }
            phases.update(repeating: 0, count: sw * phaseSize)
            for ic in 0..<inChannels {
                wt_f32_fill_phases(image + ic * height * width, height, width, top, left, sw, rowStride, phaseSize, phases)
                for oc in ic * multiplier..<(ic + 1) * multiplier {
                    wt_f32_dwconv_rows(phases, sh * rowStride, offsets.baseAddress, w.pointer + oc * kh * kw, kh * kw,
                                       bias?[oc] ?? 0, clamp.0, clamp.1, outHeight, outWidth, output + oc * outHeight * outWidth)
                }
            }
        }
    }

    static func convTranspose(_ a: ConvAttributes, x: Operand, w: Operand, bias: Operand?, output: UnsafeMutablePointer<Float>,
                              outputShape: [Int], columns: UnsafeMutablePointer<Float>) {
        let (batch, inChannels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (outChannels, outHeight, outWidth) = (outputShape[1], outputShape[2], outputShape[3])
        let groupIn = inChannels / a.group, groupOut = outChannels / a.group
        let (kh, kw) = (a.kernel[0], a.kernel[1])
        let rows = groupOut * kh * kw, plane = height * width
        output.update(repeating: 0, count: outputShape.reduce(1, *))
        for n in 0..<batch {
            for g in 0..<a.group {
                // columns[(m·kH + ky)·kW + kx, pixel] = Σ_c w[c, m, ky, kx] · x[c, pixel]
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(rows), Int32(plane), Int32(groupIn),
                            1, w.pointer + g * groupIn * rows, Int32(rows), x.pointer + (n * inChannels + g * groupIn) * plane,
                            Int32(plane), 0, columns, Int32(plane))
                let result = output + (n * outChannels + g * groupOut) * outHeight * outWidth
                for m in 0..<groupOut {
                    for ky in 0..<kh {
                        for kx in 0..<kw {
                            let column = columns + ((m * kh + ky) * kw + kx) * plane
                            for iy in 0..<height {
                                let oy = iy * a.strides[0] + ky * a.dilations[0] - a.pads[0]
                                guard oy >= 0 && oy < outHeight else { continue }
                                let out = result + (m * outHeight + oy) * outWidth
                                for ix in 0..<width {
                                    let ox = ix * a.strides[1] + kx * a.dilations[1] - a.pads[1]
                                    if ox >= 0 && ox < outWidth { out[ox] += column[iy * width + ix] }
                                }
                            }
                        }
                    }
                }
            }
        }
        if let bias {
            for n in 0..<batch {
                let plane = outHeight * outWidth
                wt_f32_bias_clamp(output + n * outChannels * plane, outChannels, plane, plane, bias.pointer, nil, -.infinity, .infinity)
            }
        }
    }
}
