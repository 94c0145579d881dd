import Graph

/// Max and average pooling over 2-D windows, and means over axes, for training. Windows follow
/// the Engine's rule (`Pooling.pool`): a window runs from its start to at most the end padding
/// and reads the part inside the input.
enum PoolingGradients {
    /// Calls `body(plane, output index, rows, columns, full window size)` for every window.
    private static func forEachWindow(_ a: PoolAttributes, input: [Int], output: [Int],
                                      _ body: (Int, Int, Range<Int>, Range<Int>, Int) -> Void) {
        let (height, width, outHeight, outWidth) = (input[2], input[3], output[2], output[3])
        for plane in 0..<input[0] * input[1] {
            for oy in 0..<outHeight {
                let y0 = oy * a.strides[0] - a.pads[0], y1 = Swift.min(y0 + a.kernel[0], height + a.pads[2])
                for ox in 0..<outWidth {
                    let x0 = ox * a.strides[1] - a.pads[1], x1 = Swift.min(x0 + a.kernel[1], width + a.pads[3])
                    body(plane, (plane * outHeight + oy) * outWidth + ox, Swift.max(y0, 0)..<Swift.min(y1, height), Swift.max(x0, 0)..<Swift.min(x1, width),
                         (y1 - y0) * (x1 - x0))
                }
            }
        }
    }

    /// `positions` receives the input index each output took (−1 for a window outside the input).
    static func maximum<T: TrainingScalar>(_ a: PoolAttributes, _ x: Buffer<T>, outputShape: [Int], positions: inout [Int]) -> Buffer<T> {
        var y = Buffer<T>(zeros: outputShape)
        positions = [Int](repeating: -1, count: y.count)
        let plane = x.shape[2] * x.shape[3], width = x.shape[3]
        forEachWindow(a, input: x.shape, output: outputShape) { p, o, rows, columns, _ in
            var best = -T.infinity
            for iy in rows { for ix in columns {
                let i = p * plane + iy * width + ix
                if x.values[i] > best || positions[o] < 0 { (best, positions[o]) = (x.values[i], i) }
            } }
            y.values[o] = best
        }
        return y
    }

    static func maxBackward<T: TrainingScalar>(_ x: Buffer<T>, positions: [Int], dy: Buffer<T>) -> Buffer<T> {
        var dx = Buffer<T>(zeros: x.shape)
        for (o, i) in positions.enumerated() where i >= 0 { dx.values[i] += dy.values[o] }
        return dx
    }

    /// The divisor of a window: its full size with `countIncludePad`, else its part in the input.
    private static func divisor(_ rows: Range<Int>, _ columns: Range<Int>, full: Int, countIncludePad: Bool) -> Int {
        Swift.max(countIncludePad ? full : rows.count * columns.count, 1)
    }

    static func average<T: TrainingScalar>(_ a: PoolAttributes, _ x: Buffer<T>, countIncludePad: Bool, outputShape: [Int]) -> Buffer<T> {
        var y = Buffer<T>(zeros: outputShape)
        let plane = x.shape[2] * x.shape[3], width = x.shape[3]
        forEachWindow(a, input: x.shape, output: outputShape) { p, o, rows, columns, full in
            var total: T = 0
            for iy in rows { for ix in columns { total += x.values[p * plane + iy * width + ix] } }
            y.values[o] = total / T(divisor(rows, columns, full: full, countIncludePad: countIncludePad))
        }
        return y
    }

    static func averageBackward<T: TrainingScalar>(_ a: PoolAttributes, _ x: Buffer<T>, countIncludePad: Bool, dy: Buffer<T>) -> Buffer<T> {
        var dx = Buffer<T>(zeros: x.shape)
        let plane = x.shape[2] * x.shape[3], width = x.shape[3]
        forEachWindow(a, input: x.shape, output: dy.shape) { p, o, rows, columns, full in
            let share = dy.values[o] / T(divisor(rows, columns, full: full, countIncludePad: countIncludePad))
            for iy in rows { for ix in columns { dx.values[p * plane + iy * width + ix] += share } }
        }
        return dx
    }

    /// Mean over `axes`, laid out as the kept dimensions.
    static func mean<T: TrainingScalar>(_ x: Buffer<T>, axes: [Int], outputShape: [Int]) -> Buffer<T> {
        let kept = x.shape.indices.map { axes.contains($0) ? 1 : x.shape[$0] }
        var y = ElementwiseGradients.reduce(x, to: kept)
        let n = T(x.count / Swift.max(y.count, 1))
        for i in y.values.indices { y.values[i] /= n }
        return Buffer(shape: outputShape, values: y.values)
    }

    static func meanBackward<T: TrainingScalar>(_ x: Buffer<T>, axes: [Int], dy: Buffer<T>) -> Buffer<T> {
        let kept = x.shape.indices.map { axes.contains($0) ? 1 : x.shape[$0] }
        let n = T(x.count / Swift.max(dy.count, 1))
        let index = ElementwiseGradients.broadcastIndex(kept, to: x.shape)
        return Buffer(shape: x.shape, values: index.map { dy.values[$0] / n })
    }
}
