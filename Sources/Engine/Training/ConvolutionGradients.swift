import Graph

/// 2-D convolution for training: im2col + GEMM per image and group forward; backward gives the
/// weight gradient (dY · colsᵀ), the input gradient (Wᵀ · dY scattered back by col2im) and the
/// bias gradient (dY summed over images and positions). Columns are recomputed in backward
/// rather than kept.
enum ConvolutionGradients {
    /// Geometry of one convolution on one input shape.
    private struct Geometry {
        let channels: Int, height: Int, width: Int, outChannels: Int, outHeight: Int, outWidth: Int
        let group: Int, kernel: (Int, Int), stride: (Int, Int), pad: (Int, Int), dilation: (Int, Int)
        var groupIn: Int { channels / group }
        var groupOut: Int { outChannels / group }
        /// Rows of the column matrix: input channels of a group × taps.
        var depth: Int { groupIn * kernel.0 * kernel.1 }
        var positions: Int { outHeight * outWidth }

        init(_ a: ConvAttributes, input: [Int], outChannels: Int, outHeight: Int, outWidth: Int) {
            (channels, height, width) = (input[1], input[2], input[3])
            (self.outChannels, self.outHeight, self.outWidth) = (outChannels, outHeight, outWidth)
            group = a.group
            kernel = (a.kernel[0], a.kernel[1])
            stride = (a.strides[0], a.strides[1])
            pad = (a.pads[0], a.pads[1])
            dilation = (a.dilations[0], a.dilations[1])
        }

        /// Calls `body(row, column, input offset)` for every column entry that reads the input
        /// (padded taps read nothing), for the group's channels starting at `channel0`.
        @inline(__always)
        func forEachTap(channel0: Int, _ body: (Int, Int, Int) -> Void) {
            for c in 0..<groupIn {
                for i in 0..<kernel.0 { for j in 0..<kernel.1 {
                    let row = (c * kernel.0 + i) * kernel.1 + j
                    for oy in 0..<outHeight {
                        let iy = oy * stride.0 - pad.0 + i * dilation.0
                        guard iy >= 0, iy < height else { continue }
                        for ox in 0..<outWidth {
                            let ix = ox * stride.1 - pad.1 + j * dilation.1
                            guard ix >= 0, ix < width else { continue }
                            body(row, oy * outWidth + ox, ((channel0 + c) * height + iy) * width + ix)
                        }
                    }
                } }
            }
        }
    }

    private static func im2col<T: TrainingScalar>(_ g: Geometry, image: UnsafePointer<T>, channel0: Int, columns: UnsafeMutablePointer<T>) {
        columns.update(repeating: 0, count: g.depth * g.positions)
        let p = g.positions
        g.forEachTap(channel0: channel0) { row, column, offset in columns[row * p + column] = image[offset] }
    }

    static func forward<T: TrainingScalar>(_ a: ConvAttributes, x: Buffer<T>, w: Buffer<T>, bias: Buffer<T>?,
                                           outputShape: [Int]) -> Buffer<T> {
        let g = Geometry(a, input: x.shape, outChannels: outputShape[1], outHeight: outputShape[2], outWidth: outputShape[3])
        var y = Buffer<T>(zeros: outputShape)
        var columns = [T](repeating: 0, count: g.depth * g.positions)
        let inImage = g.channels * g.height * g.width, outImage = g.outChannels * g.positions
        x.values.withUnsafeBufferPointer { xs in w.values.withUnsafeBufferPointer { ws in
            y.values.withUnsafeMutableBufferPointer { ys in columns.withUnsafeMutableBufferPointer { cols in
                for n in 0..<x.shape[0] {
                    for group in 0..<g.group {
                        im2col(g, image: xs.baseAddress! + n * inImage, channel0: group * g.groupIn, columns: cols.baseAddress!)
                        T.gemm(transA: false, transB: false, m: g.groupOut, n: g.positions, k: g.depth, alpha: 1,
                               a: ws.baseAddress! + group * g.groupOut * g.depth, lda: g.depth, b: cols.baseAddress!, ldb: g.positions,
                               beta: 0, c: ys.baseAddress! + n * outImage + group * g.groupOut * g.positions, ldc: g.positions)
                    }
                    if let bias {
                        for m in 0..<g.outChannels {
                            let base = n * outImage + m * g.positions
                            for p in 0..<g.positions { ys[base + p] += bias.values[m] }
                        }
                    }
                }
            } }
        } }
        return y
    }

    /// Gradients of x, w and (when the conv has one) the bias.
    static func backward<T: TrainingScalar>(_ a: ConvAttributes, x: Buffer<T>, w: Buffer<T>, hasBias: Bool, dy: Buffer<T>) -> [Buffer<T>?] {
        let g = Geometry(a, input: x.shape, outChannels: dy.shape[1], outHeight: dy.shape[2], outWidth: dy.shape[3])
        var dx = Buffer<T>(zeros: x.shape), dw = Buffer<T>(zeros: w.shape), db = Buffer<T>(zeros: [g.outChannels])
        var columns = [T](repeating: 0, count: g.depth * g.positions)
        let inImage = g.channels * g.height * g.width, outImage = g.outChannels * g.positions
        x.values.withUnsafeBufferPointer { xs in w.values.withUnsafeBufferPointer { ws in dy.values.withUnsafeBufferPointer { dys in
            dx.values.withUnsafeMutableBufferPointer { dxs in dw.values.withUnsafeMutableBufferPointer { dws in
                columns.withUnsafeMutableBufferPointer { cols in
                    for n in 0..<x.shape[0] {
                        for group in 0..<g.group {
                            let dyGroup = dys.baseAddress! + n * outImage + group * g.groupOut * g.positions
                            let wGroup = ws.baseAddress! + group * g.groupOut * g.depth
                            im2col(g, image: xs.baseAddress! + n * inImage, channel0: group * g.groupIn, columns: cols.baseAddress!)
                            T.gemm(transA: false, transB: true, m: g.groupOut, n: g.depth, k: g.positions, alpha: 1, a: dyGroup,
                                   lda: g.positions, b: cols.baseAddress!, ldb: g.positions, beta: 1,
                                   c: dws.baseAddress! + group * g.groupOut * g.depth, ldc: g.depth)
                            T.gemm(transA: true, transB: false, m: g.depth, n: g.positions, k: g.groupOut, alpha: 1, a: wGroup,
                                   lda: g.depth, b: dyGroup, ldb: g.positions, beta: 0, c: cols.baseAddress!, ldc: g.positions)
                            let image = dxs.baseAddress! + n * inImage, p = g.positions
                            g.forEachTap(channel0: group * g.groupIn) { row, column, offset in image[offset] += cols[row * p + column] }
                        }
                        if hasBias {
                            for m in 0..<g.outChannels {
                                var sum: T = 0
                                for p in 0..<g.positions { sum += dys[n * outImage + m * g.positions + p] }
                                db.values[m] += sum
                            }
                        }
                    }
                }
            } }
        } } }
        return [dx, dw] + (hasBias ? [db] : [])
    }

    /// ConvTranspose: x [N, C, H, W], w [C, M/group, kh, kw]. Each input pixel spreads W_gᵀ · x
    /// over its window of the output: the col2im of a convolution whose input is this output.
    static func transposedForward<T: TrainingScalar>(_ a: ConvAttributes, x: Buffer<T>, w: Buffer<T>, bias: Buffer<T>?,
                                                     outputShape: [Int]) -> Buffer<T> {
        let g = Geometry(a, input: outputShape, outChannels: x.shape[1], outHeight: x.shape[2], outWidth: x.shape[3])
        var y = Buffer<T>(zeros: outputShape)
        var columns = [T](repeating: 0, count: g.depth * g.positions)
        let inImage = g.outChannels * g.positions, outImage = g.channels * g.height * g.width
        x.values.withUnsafeBufferPointer { xs in w.values.withUnsafeBufferPointer { ws in
            y.values.withUnsafeMutableBufferPointer { ys in columns.withUnsafeMutableBufferPointer { cols in
                for n in 0..<x.shape[0] {
                    for group in 0..<g.group {
                        T.gemm(transA: true, transB: false, m: g.depth, n: g.positions, k: g.groupOut, alpha: 1,
                               a: ws.baseAddress! + group * g.groupOut * g.depth, lda: g.depth,
                               b: xs.baseAddress! + n * inImage + group * g.groupOut * g.positions, ldb: g.positions,
                               beta: 0, c: cols.baseAddress!, ldc: g.positions)
                        let image = ys.baseAddress! + n * outImage, p = g.positions
                        g.forEachTap(channel0: group * g.groupIn) { row, column, offset in image[offset] += cols[row * p + column] }
                    }
                    if let bias {
                        for m in 0..<g.channels {
                            for i in 0..<g.height * g.width { ys[n * outImage + m * g.height * g.width + i] += bias.values[m] }
                        }
                    }
                }
            } }
        } }
        return y
    }

    static func transposedBackward<T: TrainingScalar>(_ a: ConvAttributes, x: Buffer<T>, w: Buffer<T>, hasBias: Bool,
                                                      dy: Buffer<T>) -> [Buffer<T>?] {
        let g = Geometry(a, input: dy.shape, outChannels: x.shape[1], outHeight: x.shape[2], outWidth: x.shape[3])
        var dx = Buffer<T>(zeros: x.shape), dw = Buffer<T>(zeros: w.shape), db = Buffer<T>(zeros: [g.channels])
        var columns = [T](repeating: 0, count: g.depth * g.positions)
        let inImage = g.outChannels * g.positions, outImage = g.channels * g.height * g.width
        x.values.withUnsafeBufferPointer { xs in w.values.withUnsafeBufferPointer { ws in dy.values.withUnsafeBufferPointer { dys in
            dx.values.withUnsafeMutableBufferPointer { dxs in dw.values.withUnsafeMutableBufferPointer { dws in
                columns.withUnsafeMutableBufferPointer { cols in
                    for n in 0..<x.shape[0] {
                        for group in 0..<g.group {
                            im2col(g, image: dys.baseAddress! + n * outImage, channel0: group * g.groupIn, columns: cols.baseAddress!)
                            let xGroup = n * inImage + group * g.groupOut * g.positions
                            T.gemm(transA: false, transB: false, m: g.groupOut, n: g.positions, k: g.depth, alpha: 1,
                                   a: ws.baseAddress! + group * g.groupOut * g.depth, lda: g.depth, b: cols.baseAddress!,
                                   ldb: g.positions, beta: 0, c: dxs.baseAddress! + xGroup, ldc: g.positions)
                            T.gemm(transA: false, transB: true, m: g.groupOut, n: g.depth, k: g.positions, alpha: 1,
                                   a: xs.baseAddress! + xGroup, lda: g.positions, b: cols.baseAddress!, ldb: g.positions, beta: 1,
                                   c: dws.baseAddress! + group * g.groupOut * g.depth, ldc: g.depth)
                        }
                        if hasBias {
                            for m in 0..<g.channels {
                                for i in 0..<g.height * g.width { db.values[m] += dys[n * outImage + m * g.height * g.width + i] }
                            }
                        }
                    }
                }
            } }
        } } }
        return [dx, dw] + (hasBias ? [db] : [])
    }
}
