import Graph

/// Transpose, Concat, Slice, Pad and Resize.
enum DataMovement {
    /// Copies `shape`-shaped positions read at `strides` from `source` (plus `offset`) to `output`.
    private static func gather(_ source: UnsafePointer<Float>, offset: Int, strides: [Int], shape: [Int],
                               output: UnsafeMutablePointer<Float>) {
        guard let inner = shape.last, inner > 0, shape.allSatisfy({ $0 > 0 }) else { return }
        let outer = Array(shape.dropLast())
        let step = strides.last!
        var index = Array(repeating: 0, count: outer.count)
        var out = output
        for _ in 0..<shape.reduce(1, *) / inner {
            var p = source + offset
            for d in index.indices { p += index[d] * strides[d] }
            for i in 0..<inner { out[i] = p[i * step] }
            out += inner
            advance(&index, shape: outer)
        }
    }

    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = Array(repeating: 1, count: shape.count)
        for d in shape.indices.dropLast().reversed() { strides[d] = strides[d + 1] * shape[d + 1] }
        return strides
    }

    static func transpose(_ x: Operand, perm: [Int], output: UnsafeMutablePointer<Float>) {
        let strides = contiguousStrides(x.shape)
        gather(x.pointer, offset: 0, strides: perm.map { strides[$0] }, shape: perm.map { x.shape[$0] }, output: output)
    }

    static func concat(_ inputs: [Operand], axis: Int, output: UnsafeMutablePointer<Float>, outputShape: [Int]) {
        let outer = outputShape.prefix(axis).reduce(1, *)
        let outputBlock = outputShape.dropFirst(axis).reduce(1, *)
        var column = 0
        for input in inputs {
            let block = input.shape.dropFirst(axis).reduce(1, *)
            for o in 0..<outer { (output + o * outputBlock + column).update(from: input.pointer + o * block, count: block) }
            column += block
        }
    }

    static func slice(_ x: Operand, starts: [Int], ends: [Int], axes: [Int], steps: [Int], output: UnsafeMutablePointer<Float>,
                      outputShape: [Int]) {
        let contiguous = contiguousStrides(x.shape)
        var strides = contiguous
        var offset = 0
        for (i, axis) in axes.enumerated() {
            let range = sliceRange(dimension: x.shape[axis], start: starts[i], end: ends[i], step: steps[i])
            offset += (range.first { _ in true } ?? 0) * contiguous[axis]
            strides[axis] = contiguous[axis] * steps[i]
        }
        gather(x.pointer, offset: offset, strides: strides, shape: outputShape, output: output)
    }

    static func pad(_ x: Operand, pads: [Int], value: Float, mode: PadMode, output: UnsafeMutablePointer<Float>, outputShape: [Int]) {
        let rank = x.shape.count
        let inputStrides = contiguousStrides(x.shape)
        var index = Array(repeating: 0, count: rank)
        for i in 0..<outputShape.reduce(1, *) {
            var position = 0
            var inside = true
            for d in 0..<rank {
                guard let source = padSource(index[d] - pads[d], size: x.shape[d], mode: mode) else {
                    inside = false
                    break
                }
                position += source * inputStrides[d]
            }
            output[i] = inside ? x.pointer[position] : value
            advance(&index, shape: outputShape)
        }
    }

    /// The input index a padded position `index` (counted from the input's start) reads along a
    /// dimension of `size`, or nil for a constant pad outside it.
    /// Example: index −2 with size 4 reads 2 (reflect), 0 (edge), nothing (constant).
    static func padSource(_ index: Int, size: Int, mode: PadMode) -> Int? {
        guard index < 0 || index >= size else { return index }
        switch mode {
        case .constant: return nil
        case .edge: return min(max(index, 0), size - 1)
        case .reflect:
            let period = max(2 * (size - 1), 1)
            let folded = abs(index) % period
            return folded >= size ? period - folded : folded
        }
    }

    /// Shape inference has checked that only height and width change.
    static func resize(_ x: Operand, _ a: ResizeAttributes, output: UnsafeMutablePointer<Float>, outputShape: [Int]) {
        let (height, width) = (x.shape[2], x.shape[3])
        let (outHeight, outWidth) = (outputShape[2], outputShape[3])
        let scaleY = a.sizes == nil ? a.scales[2] : Float(outHeight) / Float(height)
        let scaleX = a.sizes == nil ? a.scales[3] : Float(outWidth) / Float(width)
        let ys = (0..<outHeight).map { source(a, $0, scale: scaleY, input: height, output: outHeight) }
        let xs = (0..<outWidth).map { source(a, $0, scale: scaleX, input: width, output: outWidth) }
        for plane in 0..<x.shape[0] * x.shape[1] {
            let input = x.pointer + plane * height * width
            let out = output + plane * outHeight * outWidth
            for (oy, y) in ys.enumerated() {
                for (ox, xx) in xs.enumerated() {
                    out[oy * outWidth + ox] = a.mode == .nearest
                        ? input[nearest(a, y, height) * width + nearest(a, xx, width)]
                        : bilinear(input, y, xx, height, width)
                }
            }
        }
    }

    /// The input coordinate output position `o` maps to along one axis.
    static func source(_ a: ResizeAttributes, _ o: Int, scale: Float, input: Int, output: Int) -> Float {
        let o = Float(o)
        switch a.coordinates {
        case .halfPixel: return (o + 0.5) / scale - 0.5
        case .pytorchHalfPixel: return output > 1 ? (o + 0.5) / scale - 0.5 : 0
        case .alignCorners: return output > 1 ? o * Float(input - 1) / Float(output - 1) : 0
        case .asymmetric: return o / scale
        }
    }

    static func nearest(_ a: ResizeAttributes, _ position: Float, _ size: Int) -> Int {
        let rounded: Float
        switch a.nearest {
        case .roundPreferFloor: rounded = position - position.rounded(.down) == 0.5 ? position.rounded(.down) : position.rounded()
        case .roundPreferCeil: rounded = position.rounded()
        case .floor: rounded = position.rounded(.down)
        case .ceil: rounded = position.rounded(.up)
        }
        return min(max(Int(rounded), 0), size - 1)
    }

    /// The two neighbours of `position` (clamped to the axis) and the weight of the second.
    /// Example: 2.25 on an axis of 3 → (2, 2, 0); 0.25 → (0, 1, 0.25).
    static func linearTaps(_ position: Float, size: Int) -> (low: Int, high: Int, fraction: Float) {
        let p = min(max(position, 0), Float(size - 1))
        let low = Int(p)
        return (low, min(low + 1, size - 1), p - Float(low))
    }

    private static func bilinear(_ input: UnsafePointer<Float>, _ y: Float, _ x: Float, _ height: Int, _ width: Int) -> Float {
        let (y0, y1, dy) = linearTaps(y, size: height), (x0, x1, dx) = linearTaps(x, size: width)
        let top = input[y0 * width + x0] * (1 - dx) + input[y0 * width + x1] * dx
        let bottom = input[y1 * width + x0] * (1 - dx) + input[y1 * width + x1] * dx
        return top * (1 - dy) + bottom * dy
    }
}

extension ResizeAttributes {
    /// For a nearest resize of an NCHW tensor from `input` to `output`: the source row of every
    /// output row and the source column of every output column, as the Engine reads them.
    /// Example: asymmetric, floor, 2 → 4 rows: [0, 0, 1, 1].
    public func nearestSources(input: [Int], output: [Int]) -> (rows: [Int], columns: [Int]) {
        func axis(_ d: Int) -> [Int] {
            let scale = sizes == nil ? scales[d] : Float(output[d]) / Float(input[d])
            return (0..<output[d]).map { DataMovement.nearest(self, DataMovement.source(self, $0, scale: scale, input: input[d], output: output[d]), input[d]) }
        }
        return (axis(2), axis(3))
    }
}
