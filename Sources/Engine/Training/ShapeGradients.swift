import Graph

/// Transpose and Concat (and its adjoint, split), and the ops that read each output from a
/// few weighted inputs (Slice, Pad, Resize, through a `GatherMap`), for training.
enum ShapeGradients {
    static func transpose<T: TrainingScalar>(_ x: Buffer<T>, perm: [Int]) -> Buffer<T> {
        let shape = perm.map { x.shape[$0] }
        let strides = DataMovement.contiguousStrides(x.shape)
        let permuted = perm.map { strides[$0] }
        var index = [Int](repeating: 0, count: shape.count), values = [T]()
        values.reserveCapacity(x.count)
        for _ in 0..<x.count {
            var position = 0
            for d in index.indices { position += index[d] * permuted[d] }
            values.append(x.values[position])
            advance(&index, shape: shape)
        }
        return Buffer(shape: shape, values: values)
    }

    static func concat<T: TrainingScalar>(_ xs: [Buffer<T>], axis: Int, outputShape: [Int]) -> Buffer<T> {
        let outer = outputShape[..<axis].reduce(1, *)
        var values = [T]()
        values.reserveCapacity(outputShape.reduce(1, *))
        for o in 0..<outer {
            for x in xs {
                let chunk = x.shape[axis...].reduce(1, *)
                values += x.values[o * chunk..<(o + 1) * chunk]
            }
        }
        return Buffer(shape: outputShape, values: values)
    }

    /// The pieces of `y` along `axis` with the given shapes (Concat's gradient).
    static func split<T: TrainingScalar>(_ y: Buffer<T>, axis: Int, shapes: [[Int]]) -> [Buffer<T>?] {
        let outer = y.shape[..<axis].reduce(1, *), row = y.shape[axis...].reduce(1, *)
        var offset = 0
        return shapes.map { shape in
            let chunk = shape[axis...].reduce(1, *)
            var values = [T]()
            values.reserveCapacity(outer * chunk)
            for o in 0..<outer { values += y.values[o * row + offset..<o * row + offset + chunk] }
            offset += chunk
            return Buffer(shape: shape, values: values)
        }
    }
}

/// A linear map from input to output elements: output o is Σ weight · input over its entries
/// (`start[o]..<start[o + 1]`), or `constant` when it has none (a constant pad). Its adjoint
/// scatters the output gradient back along the same entries.
struct GatherMap<T: TrainingScalar> {
    var start: [Int] = [0]
    var index: [Int] = []
    var weight: [T] = []
    var constant: T = 0

    mutating func add(_ i: Int, _ w: T) {
        index.append(i)
        weight.append(w)
    }

    mutating func endOutput() { start.append(index.count) }

    func apply(_ x: Buffer<T>, outputShape: [Int]) -> Buffer<T> {
        Buffer(shape: outputShape, values: (0..<start.count - 1).map { o in
            let entries = start[o]..<start[o + 1]
            return entries.isEmpty ? constant : entries.reduce(T(0)) { $0 + weight[$1] * x.values[index[$1]] }
        })
    }

    func adjoint(_ dy: Buffer<T>, inputShape: [Int]) -> Buffer<T> {
        var dx = Buffer<T>(zeros: inputShape)
        for o in 0..<start.count - 1 {
            for e in start[o]..<start[o + 1] { dx.values[index[e]] += weight[e] * dy.values[o] }
        }
        return dx
    }

    /// Slice, Pad or Resize as a map from an input of `input` shape to `output`, reading exactly
    /// the elements the Engine's kernels read (`DataMovement`).
    static func of(_ op: Op, input: [Int], output: [Int]) -> GatherMap {
        var map = GatherMap()
        let strides = DataMovement.contiguousStrides(input)
        var position = [Int](repeating: 0, count: output.count)
        let count = output.reduce(1, *)
        switch op {
        case .slice(let starts, let ends, let axes, let steps):
            var first = [Int](repeating: 0, count: input.count), step = [Int](repeating: 1, count: input.count)
            for (i, axis) in axes.enumerated() {
                first[axis] = sliceRange(dimension: input[axis], start: starts[i], end: ends[i], step: steps[i]).first { _ in true } ?? 0
                step[axis] = steps[i]
            }
            for _ in 0..<count {
                map.add(position.indices.reduce(0) { $0 + (first[$1] + position[$1] * step[$1]) * strides[$1] }, 1)
                map.endOutput()
                advance(&position, shape: output)
            }
        case .pad(let pads, let value, let mode):
            map.constant = T(value)
            for _ in 0..<count {
                var offset: Int? = 0
                for d in position.indices {
                    guard let o = offset, let source = DataMovement.padSource(position[d] - pads[d], size: input[d], mode: mode) else {
                        offset = nil
                        break
                    }
                    offset = o + source * strides[d]
                }
                if let offset { map.add(offset, 1) }
                map.endOutput()
                advance(&position, shape: output)
            }
        case .resize(let a):
            let (height, width, outHeight, outWidth) = (input[2], input[3], output[2], output[3])
            let scaleY = a.sizes == nil ? a.scales[2] : Float(outHeight) / Float(height)
            let scaleX = a.sizes == nil ? a.scales[3] : Float(outWidth) / Float(width)
            let ys = (0..<outHeight).map { DataMovement.source(a, $0, scale: scaleY, input: height, output: outHeight) }
            let xs = (0..<outWidth).map { DataMovement.source(a, $0, scale: scaleX, input: width, output: outWidth) }
            for plane in 0..<input[0] * input[1] {
                let base = plane * height * width
                for y in ys { for x in xs {
                    if a.mode == .nearest {
                        map.add(base + DataMovement.nearest(a, y, height) * width + DataMovement.nearest(a, x, width), 1)
                    } else {
                        let (y0, y1, dy) = DataMovement.linearTaps(y, size: height), (x0, x1, dx) = DataMovement.linearTaps(x, size: width)
                        let (wy, wx) = (T(dy), T(dx))
                        map.add(base + y0 * width + x0, (1 - wy) * (1 - wx))
                        map.add(base + y0 * width + x1, (1 - wy) * wx)
                        map.add(base + y1 * width + x0, wy * (1 - wx))
                        map.add(base + y1 * width + x1, wy * wx)
                    }
                    map.endOutput()
                } }
            }
        default:
            break
        }
        return map
    }
}
