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

    private static func contiguousStrides(_ shape: [Int]) -> [Int] {
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
                var source = index[d] - pads[d]
                let size = x.shape[d]
                if source < 0 || source >= size {
                    switch mode {
                    case .constant: inside = false
                    case .edge: source = min(max(source, 0), size - 1)
                    case .reflect:
                        let period = max(2 * (size - 1), 1)
                        source = abs(source) % period
                        if source >= size { source = period - source }
                    }
                }
                position += source * inputStrides[d]
            }
            output[i] = inside ? x.pointer[position] : value
            advance(&index, shape: outputShape)
        }
    }

    static func resize(_ x: Operand, _ a: ResizeAttributes, output: UnsafeMutablePointer<Float>, outputShape: [Int]) throws {
        guard outputShape[0] == x.shape[0], outputShape[1] == x.shape[1] else {
            throw EngineError("Resize of the batch or channel dimension is not supported")
        }
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

    private static func source(_ a: ResizeAttributes, _ o: Int, scale: Float, input: Int, output: Int) -> Float {
        let o = Float(o)
        switch a.coordinates {
        case .halfPixel: return (o + 0.5) / scale - 0.5
        case .pytorchHalfPixel: return output > 1 ? (o + 0.5) / scale - 0.5 : 0
        case .alignCorners: return output > 1 ? o * Float(input - 1) / Float(output - 1) : 0
        case .asymmetric: return o / scale
        }
    }

    private static func nearest(_ a: ResizeAttributes, _ position: Float, _ size: Int) -> Int {
        let rounded: Float
        switch a.nearest {
        case .roundPreferFloor: rounded = position - position.rounded(.down) == 0.5 ? position.rounded(.down) : position.rounded()
        case .roundPreferCeil: rounded = position.rounded()
        case .floor: rounded = position.rounded(.down)
        case .ceil: rounded = position.rounded(.up)
        }
        return min(max(Int(rounded), 0), size - 1)
    }

    private static func bilinear(_ input: UnsafePointer<Float>, _ y: Float, _ x: Float, _ height: Int, _ width: Int) -> Float {
        let y = min(max(y, 0), Float(height - 1)), x = min(max(x, 0), Float(width - 1))
        let y0 = Int(y), x0 = Int(x)
        let y1 = min(y0 + 1, height - 1), x1 = min(x0 + 1, width - 1)
        let dy = y - Float(y0), dx = x - Float(x0)
        let top = input[y0 * width + x0] * (1 - dx) + input[y0 * width + x1] * dx
        let bottom = input[y1 * width + x0] * (1 - dx) + input[y1 * width + x1] * dx
        return top * (1 - dy) + bottom * dy
    }
}
