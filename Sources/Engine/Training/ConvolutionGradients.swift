import Graph

/// 2-D convolution for training: im2col + GEMM per image and group forward; backward gives the
/// weight gradient (dY · colsᵀ), the input gradient (Wᵀ · dY scattered back by col2im) and the
/// bias gradient (dY summed over images and positions). Columns are recomputed in backward
/// rather than kept; a 1×1 stride-1 unpadded convolution reads and writes the image directly.
/// ConvTranspose is the same pair with the roles of input and output exchanged.
enum ConvolutionGradients {
    /// Geometry of one convolution on one input shape. For ConvTranspose, "input" is its output.
    private struct Geometry {
        let channels: Int, height: Int, width: Int, outChannels: Int, outHeight: Int, outWidth: Int
        let group: Int, kernel: (Int, Int), stride: (Int, Int), pad: (Int, Int), dilation: (Int, Int)
        var groupIn: Int { channels / group }
        var groupOut: Int { outChannels / group }
        /// Rows of the column matrix: input channels of a group × taps.
        var depth: Int { groupIn * kernel.0 * kernel.1 }
        var positions: Int { outHeight * outWidth }
        var inputImage: Int { channels * height * width }
        var outputImage: Int { outChannels * positions }
        /// 1×1, stride 1, no padding: the column matrix of a group is its slice of the image.
        var isPointwise: Bool { kernel == (1, 1) && stride == (1, 1) && pad == (0, 0) && height == outHeight && width == outWidth }
        /// One input and one output channel per group: run directly, tap by tap, without GEMM.
        var isDepthwise: Bool { groupIn == 1 && groupOut == 1 }

        init(_ a: ConvAttributes, input: [Int], outChannels: Int, outHeight: Int, outWidth: Int) {
            (channels, height, width) = (input[1], input[2], input[3])
            (self.outChannels, self.outHeight, self.outWidth) = (outChannels, outHeight, outWidth)
            group = a.group
            kernel = (a.kernel[0], a.kernel[1])
            stride = (a.strides[0], a.strides[1])
            pad = (a.pads[0], a.pads[1])
            dilation = (a.dilations[0], a.dilations[1])
        }

        /// Output positions 0..<n whose input position o · stride + offset lies in 0..<size.
        /// Example: offset −1, stride 2, size 5, n 3 → 1..<3 (inputs 1 and 3).
        private func inside(_ offset: Int, stride: Int, size: Int, n: Int) -> Range<Int> {
            let low = offset >= 0 ? 0 : (-offset + stride - 1) / stride
            let high = size - 1 - offset < 0 ? 0 : min(n, (size - 1 - offset) / stride + 1)
            return low..<max(low, high)
        }

        /// For every column-matrix row and output row that reads the input (padding reads
        /// nothing): `body(column entry of output column 0, input entry of column 0, output
        /// columns inside)`; output column ox reads input entry + ox · stride.
        @inline(__always)
        func forEachSegment(channel0: Int, _ body: (Int, Int, Range<Int>) -> Void) {
            for c in 0..<groupIn {
                for i in 0..<kernel.0 { for j in 0..<kernel.1 {
                    let row = (c * kernel.0 + i) * kernel.1 + j
                    let first = j * dilation.1 - pad.1
                    let columns = inside(first, stride: stride.1, size: width, n: outWidth)
                    for oy in inside(i * dilation.0 - pad.0, stride: stride.0, size: height, n: outHeight) {
                        let iy = oy * stride.0 - pad.0 + i * dilation.0
                        body(row * positions + oy * outWidth, ((channel0 + c) * height + iy) * width + first, columns)
                    }
                } }
            }
        }

        /// The group's column matrix [depth, positions]: the image itself when pointwise, else
        /// im2col into `scratch`.
        func columns<T: TrainingScalar>(_ image: UnsafePointer<T>, group: Int, scratch: UnsafeMutablePointer<T>) -> UnsafePointer<T> {
            if isPointwise { return image + group * groupIn * height * width }
            scratch.update(repeating: 0, count: depth * positions)
            let step = stride.1
            forEachSegment(channel0: group * groupIn) { out, input, range in
                for ox in range { scratch[out + ox] = image[input + ox * step] }
            }
            return UnsafePointer(scratch)
        }

        /// Adds a group's column matrix back onto the image positions it was read from (col2im).
        func scatter<T: TrainingScalar>(_ columns: UnsafePointer<T>, group: Int, onto image: UnsafeMutablePointer<T>) {
            let step = stride.1
            forEachSegment(channel0: group * groupIn) { out, input, range in
                for ox in range { image[input + ox * step] += columns[out + ox] }
            }
        }
    }

    /// Depthwise forward for one channel of one image: y += Σ taps w · x, segment by segment.
    /// (`forEachSegment` gives column-matrix entries; with one channel per group, entry
    /// tap · positions + p is output position p.)
    private static func depthwise<T: TrainingScalar>(_ g: Geometry, channel: Int, x: UnsafePointer<T>, w: UnsafePointer<T>,
                                                     y: UnsafeMutablePointer<T>) {
        let taps = g.kernel.0 * g.kernel.1, step = g.stride.1, out = y + channel * g.positions
        g.forEachSegment(channel0: channel) { entry, input, range in
            let weight = w[channel * taps + entry / g.positions], at = entry % g.positions
            if step == 1 { // contiguous: the loop vectorizes
                for ox in range { out[at + ox] += weight * x[input + ox] }
            } else {
                for ox in range { out[at + ox] += weight * x[input + ox * step] }
            }
        }
    }

    /// dx, and dw unless it is nil.
    private static func depthwiseBackward<T: TrainingScalar>(_ g: Geometry, channel: Int, x: UnsafePointer<T>, w: UnsafePointer<T>,
                                                             dy: UnsafePointer<T>, dx: UnsafeMutablePointer<T>, dw: UnsafeMutablePointer<T>?) {
        let taps = g.kernel.0 * g.kernel.1, step = g.stride.1
        g.forEachSegment(channel0: channel) { entry, input, range in
            let tap = channel * taps + entry / g.positions, at = entry % g.positions, weight = w[tap]
            if step == 1 { // contiguous: the loop vectorizes
                for ox in range { dx[input + ox] += weight * dy[at + ox] }
            } else {
                for ox in range { dx[input + ox * step] += weight * dy[at + ox] }
            }
            guard let dw, !range.isEmpty else { return }
            if step == 1 {
                dw[tap] += T.dot(dy + at + range.lowerBound, x + input + range.lowerBound, count: range.count)
            } else {
                var sum: T = 0
                for ox in range { sum += dy[at + ox] * x[input + ox * step] }
                dw[tap] += sum
            }
        }
    }

    /// Adds bias[m] to every position of channel m of one image.
    private static func addBias<T: TrainingScalar>(_ bias: Buffer<T>, to image: UnsafeMutablePointer<T>, plane: Int) {
        for (m, b) in bias.values.enumerated() { for p in 0..<plane { image[m * plane + p] += b } }
    }

    /// Adds each channel's sum over the image to `sums`.
    private static func addChannelSums<T: TrainingScalar>(_ image: UnsafePointer<T>, plane: Int, to sums: inout Buffer<T>) {
        for m in sums.values.indices {
            var sum: T = 0
            for p in 0..<plane { sum += image[m * plane + p] }
            sums.values[m] += sum
        }
    }

    static func forward<T: TrainingScalar>(_ a: ConvAttributes, x: Buffer<T>, w: Buffer<T>, bias: Buffer<T>?,
                                           outputShape: [Int]) -> Buffer<T> {
        let g = Geometry(a, input: x.shape, outChannels: outputShape[1], outHeight: outputShape[2], outWidth: outputShape[3])
        var y = Buffer<T>(zeros: outputShape)
        var scratch = [T](repeating: 0, count: g.isPointwise ? 1 : g.depth * g.positions)
        x.values.withUnsafeBufferPointer { xs in w.values.withUnsafeBufferPointer { ws in
            y.values.withUnsafeMutableBufferPointer { ys in scratch.withUnsafeMutableBufferPointer { s in
                for n in 0..<x.shape[0] {
                    let image = ys.baseAddress! + n * g.outputImage
                    for group in 0..<g.group {
                        if g.isDepthwise {
                            depthwise(g, channel: group, x: xs.baseAddress! + n * g.inputImage, w: ws.baseAddress!, y: image)
                            continue
                        }
                        let columns = g.columns(xs.baseAddress! + n * g.inputImage, group: group, scratch: s.baseAddress!)
                        T.gemm(transA: false, transB: false, m: g.groupOut, n: g.positions, k: g.depth, alpha: 1,
                               a: ws.baseAddress! + group * g.groupOut * g.depth, lda: g.depth, b: columns, ldb: g.positions,
                               beta: 0, c: image + group * g.groupOut * g.positions, ldc: g.positions)
                    }
                    if let bias { addBias(bias, to: image, plane: g.positions) }
                }
            } }
        } }
        return y
    }

    /// Gradients of x, w and (when the conv has one) the bias; of x alone when not `parameters`.
    static func backward<T: TrainingScalar>(_ a: ConvAttributes, x: Buffer<T>, w: Buffer<T>, hasBias: Bool, dy: Buffer<T>,
                                            parameters: Bool = true) -> [Buffer<T>?] {
        let g = Geometry(a, input: x.shape, outChannels: dy.shape[1], outHeight: dy.shape[2], outWidth: dy.shape[3])
        var dx = Buffer<T>(zeros: x.shape), dw = Buffer<T>(zeros: parameters ? w.shape : [0])
        var db = Buffer<T>(zeros: [parameters ? g.outChannels : 0])
        var scratch = [T](repeating: 0, count: g.isPointwise ? 1 : g.depth * g.positions)
        x.values.withUnsafeBufferPointer { xs in w.values.withUnsafeBufferPointer { ws in dy.values.withUnsafeBufferPointer { dys in
            dx.values.withUnsafeMutableBufferPointer { dxs in dw.values.withUnsafeMutableBufferPointer { dws in
                scratch.withUnsafeMutableBufferPointer { s in
                    for n in 0..<x.shape[0] {
                        let image = dxs.baseAddress! + n * g.inputImage
                        for group in 0..<g.group {
                            let dyGroup = dys.baseAddress! + n * g.outputImage + group * g.groupOut * g.positions
                            if g.isDepthwise {
                                depthwiseBackward(g, channel: group, x: xs.baseAddress! + n * g.inputImage, w: ws.baseAddress!,
                                                  dy: dyGroup, dx: image, dw: parameters ? dws.baseAddress! : nil)
                                continue
                            }
                            if parameters {
                                let columns = g.columns(xs.baseAddress! + n * g.inputImage, group: group, scratch: s.baseAddress!)
                                T.gemm(transA: false, transB: true, m: g.groupOut, n: g.depth, k: g.positions, alpha: 1, a: dyGroup,
                                       lda: g.positions, b: columns, ldb: g.positions, beta: 1,
                                       c: dws.baseAddress! + group * g.groupOut * g.depth, ldc: g.depth)
                            }
                            // Wᵀ · dY: straight into dx when pointwise, else into the scratch and scattered.
                            let target = g.isPointwise ? image + group * g.groupIn * g.positions : s.baseAddress!
                            T.gemm(transA: true, transB: false, m: g.depth, n: g.positions, k: g.groupOut, alpha: 1,
                                   a: ws.baseAddress! + group * g.groupOut * g.depth, lda: g.depth, b: dyGroup, ldb: g.positions,
                                   beta: 0, c: target, ldc: g.positions)
                            if !g.isPointwise { g.scatter(s.baseAddress!, group: group, onto: image) }
                        }
                        if hasBias, parameters { addChannelSums(dys.baseAddress! + n * g.outputImage, plane: g.positions, to: &db) }
                    }
                }
            } }
        } } }
        guard parameters else { return [dx] }
        return [dx, dw] + (hasBias ? [db] : [])
    }

    /// ConvTranspose: x [N, C, H, W], w [C, M/group, kh, kw]. Each input pixel spreads W_gᵀ · x
    /// over its window of the output: the col2im of a convolution whose input is this output.
    static func transposedForward<T: TrainingScalar>(_ a: ConvAttributes, x: Buffer<T>, w: Buffer<T>, bias: Buffer<T>?,
                                                     outputShape: [Int]) -> Buffer<T> {
        let g = Geometry(a, input: outputShape, outChannels: x.shape[1], outHeight: x.shape[2], outWidth: x.shape[3])
        var y = Buffer<T>(zeros: outputShape)
        var scratch = [T](repeating: 0, count: g.depth * g.positions)
        x.values.withUnsafeBufferPointer { xs in w.values.withUnsafeBufferPointer { ws in
            y.values.withUnsafeMutableBufferPointer { ys in scratch.withUnsafeMutableBufferPointer { s in
                for n in 0..<x.shape[0] {
                    let image = ys.baseAddress! + n * g.inputImage
                    for group in 0..<g.group {
                        T.gemm(transA: true, transB: false, m: g.depth, n: g.positions, k: g.groupOut, alpha: 1,
                               a: ws.baseAddress! + group * g.groupOut * g.depth, lda: g.depth,
                               b: xs.baseAddress! + n * g.outputImage + group * g.groupOut * g.positions, ldb: g.positions,
                               beta: 0, c: s.baseAddress!, ldc: g.positions)
                        g.scatter(s.baseAddress!, group: group, onto: image)
                    }
                    if let bias { addBias(bias, to: image, plane: g.height * g.width) }
                }
            } }
        } }
        return y
    }

    static func transposedBackward<T: TrainingScalar>(_ a: ConvAttributes, x: Buffer<T>, w: Buffer<T>, hasBias: Bool,
                                                      dy: Buffer<T>) -> [Buffer<T>?] {
        let g = Geometry(a, input: dy.shape, outChannels: x.shape[1], outHeight: x.shape[2], outWidth: x.shape[3])
        var dx = Buffer<T>(zeros: x.shape), dw = Buffer<T>(zeros: w.shape), db = Buffer<T>(zeros: [g.channels])
        var scratch = [T](repeating: 0, count: g.depth * g.positions)
        x.values.withUnsafeBufferPointer { xs in w.values.withUnsafeBufferPointer { ws in dy.values.withUnsafeBufferPointer { dys in
            dx.values.withUnsafeMutableBufferPointer { dxs in dw.values.withUnsafeMutableBufferPointer { dws in
                scratch.withUnsafeMutableBufferPointer { s in
                    for n in 0..<x.shape[0] {
                        for group in 0..<g.group {
                            let columns = g.columns(dys.baseAddress! + n * g.inputImage, group: group, scratch: s.baseAddress!)
                            let xGroup = n * g.outputImage + group * g.groupOut * g.positions
                            T.gemm(transA: false, transB: false, m: g.groupOut, n: g.positions, k: g.depth, alpha: 1,
                                   a: ws.baseAddress! + group * g.groupOut * g.depth, lda: g.depth, b: columns,
                                   ldb: g.positions, beta: 0, c: dxs.baseAddress! + xGroup, ldc: g.positions)
                            T.gemm(transA: false, transB: true, m: g.groupOut, n: g.depth, k: g.positions, alpha: 1,
                                   a: xs.baseAddress! + xGroup, lda: g.positions, b: columns, ldb: g.positions, beta: 1,
                                   c: dws.baseAddress! + group * g.groupOut * g.depth, ldc: g.depth)
                        }
                        if hasBias { addChannelSums(dys.baseAddress! + n * g.inputImage, plane: g.height * g.width, to: &db) }
                    }
                }
            } }
        } } }
        return [dx, dw] + (hasBias ? [db] : [])
    }
}
