import Graph

/// Broadcasting arithmetic, activations, Softmax and inference-form BatchNorm for training.
enum ElementwiseGradients {
    /// For each element of `shape`, in order, the index it reads in a tensor of `source` shape
    /// broadcast to it (numpy rules). Example: [3] to [2, 3] → [0, 1, 2, 0, 1, 2].
    static func broadcastIndex(_ source: [Int], to shape: [Int]) -> [Int] {
        let count = shape.reduce(1, *)
        if source.reduce(1, *) == count { return Array(0..<count) }
        let strides = broadcastStrides(source, to: shape)
        var index = [Int](repeating: 0, count: shape.count), result = [Int](repeating: 0, count: count)
        for i in 0..<count {
            var position = 0
            for d in index.indices { position += index[d] * strides[d] }
            result[i] = position
            advance(&index, shape: shape)
        }
        return result
    }

    /// `gradient` summed over the dimensions along which `shape` was broadcast to it.
    static func reduce<T: TrainingScalar>(_ gradient: Buffer<T>, to shape: [Int]) -> Buffer<T> {
        var result = Buffer<T>(zeros: shape)
        for (i, j) in broadcastIndex(shape, to: gradient.shape).enumerated() { result.values[j] += gradient.values[i] }
        return result
    }

    static func binary<T: TrainingScalar>(_ op: Op, _ a: Buffer<T>, _ b: Buffer<T>, outputShape: [Int]) -> Buffer<T> {
        let ia = broadcastIndex(a.shape, to: outputShape), ib = broadcastIndex(b.shape, to: outputShape)
        let f: (T, T) -> T
        switch op {
        case .add: f = (+)
        case .sub: f = (-)
        case .mul: f = (*)
        case .div: f = (/)
        default: f = { T.pow($0, $1) }
        }
        return Buffer(shape: outputShape, values: (0..<ia.count).map { f(a.values[ia[$0]], b.values[ib[$0]]) })
    }

    static func binaryBackward<T: TrainingScalar>(_ op: Op, _ a: Buffer<T>, _ b: Buffer<T>, dy: Buffer<T>) -> [Buffer<T>?] {
        let ia = broadcastIndex(a.shape, to: dy.shape), ib = broadcastIndex(b.shape, to: dy.shape)
        var da = Buffer<T>(zeros: a.shape), db = Buffer<T>(zeros: b.shape)
        for i in 0..<dy.count {
            let (x, y, g) = (a.values[ia[i]], b.values[ib[i]], dy.values[i])
            let (ga, gb): (T, T)
            switch op {
            case .add: (ga, gb) = (g, g)
            case .sub: (ga, gb) = (g, -g)
            case .mul: (ga, gb) = (g * y, g * x)
            case .div: (ga, gb) = (g / y, -g * x / (y * y))
            default: // pow: d/dx = y·x^(y−1); d/dy = x^y · ln x (defined for x > 0)
                (ga, gb) = (g * y * T.pow(x, y - 1), x > 0 ? g * T.pow(x, y) * T.log(x) : 0)
            }
            da.values[ia[i]] += ga
            db.values[ib[i]] += gb
        }
        return [da, db]
    }

    static func unary<T: TrainingScalar>(_ op: Op, _ x: Buffer<T>) -> Buffer<T> {
        // One literal closure per case, so each loop is compiled with its function inlined.
        let values: [T]
        switch op {
        case .relu: values = x.values.map { Swift.max($0, 0) }
        case .sigmoid: values = x.values.map { 1 / (1 + T.exp(-$0)) }
        case .sqrt: values = x.values.map { $0.squareRoot() }
        case .erf: values = x.values.map { T.erf($0) }
        case .exp: values = x.values.map { T.exp($0) }
        case .tanh: values = x.values.map { T.tanh($0) }
        case .clip(let low, let high):
            let (l, h) = (T(low), T(high))
            values = x.values.map { Swift.min(Swift.max($0, l), h) }
        case .hardSigmoid(let alpha, let beta):
            let (a, b) = (T(alpha), T(beta))
            values = x.values.map { Swift.min(Swift.max(a * $0 + b, 0), 1) }
        default: values = x.values.map { $0 * Swift.min(Swift.max($0 / 6 + 0.5, 0), 1) } // hardSwish
        }
        return Buffer(shape: x.shape, values: values)
    }

    /// dx from dy, the input x and the output y. At a kink (Relu at 0, a clip bound) the
    /// gradient is PyTorch's: Relu passes nothing at 0, Clip passes at its bounds.
    static func unaryBackward<T: TrainingScalar>(_ op: Op, _ x: Buffer<T>, _ y: Buffer<T>, dy: Buffer<T>) -> Buffer<T> {
        var dx = dy
        dx.values.withUnsafeMutableBufferPointer { d in x.values.withUnsafeBufferPointer { xs in y.values.withUnsafeBufferPointer { ys in
            switch op {
            case .relu: for i in d.indices { d[i] = xs[i] <= 0 ? 0 : d[i] } // a select, so the loop vectorizes
            case .sigmoid: for i in d.indices { d[i] *= ys[i] * (1 - ys[i]) }
            case .sqrt: for i in d.indices { d[i] /= 2 * ys[i] }
            case .erf:
                let c = 2 / T(Double.pi).squareRoot()
                for i in d.indices { d[i] *= c * T.exp(-xs[i] * xs[i]) }
            case .exp: for i in d.indices { d[i] *= ys[i] }
            case .tanh: for i in d.indices { d[i] *= 1 - ys[i] * ys[i] }
            case .clip(let low, let high):
                let (l, h) = (T(low), T(high))
                for i in d.indices { d[i] = xs[i] < l || xs[i] > h ? 0 : d[i] }
            case .hardSigmoid(let alpha, let beta):
                let (a, b) = (T(alpha), T(beta))
                for i in d.indices {
                    let z = a * xs[i] + b
                    d[i] = z > 0 && z < 1 ? d[i] * a : 0
                }
            default: // hardSwish
                for i in d.indices { d[i] *= xs[i] < -3 ? 0 : xs[i] > 3 ? 1 : xs[i] / 3 + 0.5 }
            }
        } } }
        return dx
    }

    /// (outer, n, inner) of `shape` around `axis`.
    private static func split(_ shape: [Int], axis: Int) -> (Int, Int, Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    static func softmax<T: TrainingScalar>(_ x: Buffer<T>, axis: Int) -> Buffer<T> {
        let (outer, n, inner) = split(x.shape, axis: axis)
        var y = x
        for o in 0..<outer { for i in 0..<inner {
            let at = { (j: Int) in (o * n + j) * inner + i }
            var top = -T.infinity
            for j in 0..<n { top = Swift.max(top, x.values[at(j)]) }
            var sum: T = 0
            for j in 0..<n { y.values[at(j)] = T.exp(x.values[at(j)] - top); sum += y.values[at(j)] }
            for j in 0..<n { y.values[at(j)] /= sum }
        } }
        return y
    }

    /// dx = y · (dy − Σ dy·y) along the axis.
    static func softmaxBackward<T: TrainingScalar>(_ y: Buffer<T>, axis: Int, dy: Buffer<T>) -> Buffer<T> {
        let (outer, n, inner) = split(y.shape, axis: axis)
        var dx = dy
        for o in 0..<outer { for i in 0..<inner {
            var dot: T = 0
            for j in 0..<n { dot += dy.values[(o * n + j) * inner + i] * y.values[(o * n + j) * inner + i] }
            for j in 0..<n {
                let at = (o * n + j) * inner + i
                dx.values[at] = y.values[at] * (dy.values[at] - dot)
            }
        } }
        return dx
    }

    /// y = scale · (x − mean) / √(var + ε) + bias per channel (dimension 1); inputs x, scale,
    /// bias, mean, var.
    static func batchNorm<T: TrainingScalar>(_ inputs: [Buffer<T>], epsilon: T) -> Buffer<T> {
        let x = inputs[0], channels = x.shape[1], inner = x.shape.dropFirst(2).reduce(1, *)
        var y = x
        for i in 0..<x.count {
            let c = (i / inner) % channels
            let invStd = 1 / (inputs[4].values[c] + epsilon).squareRoot()
            y.values[i] = inputs[1].values[c] * (x.values[i] - inputs[3].values[c]) * invStd + inputs[2].values[c]
        }
        return y
    }

    /// Gradients of x, scale, bias, mean and var (the statistics are constants in inference form,
    /// but their gradients are defined, and recalibration may want them).
    static func batchNormBackward<T: TrainingScalar>(_ inputs: [Buffer<T>], epsilon: T, dy: Buffer<T>) -> [Buffer<T>?] {
        let x = inputs[0], channels = x.shape[1], inner = x.shape.dropFirst(2).reduce(1, *)
        var dx = Buffer<T>(zeros: x.shape)
        var dScale = Buffer<T>(zeros: inputs[1].shape), dBias = Buffer<T>(zeros: inputs[2].shape)
        var dMean = Buffer<T>(zeros: inputs[3].shape), dVar = Buffer<T>(zeros: inputs[4].shape)
        for i in 0..<x.count {
            let c = (i / inner) % channels, g = dy.values[i]
            let variance = inputs[4].values[c] + epsilon, invStd = 1 / variance.squareRoot()
            let scale = inputs[1].values[c], centred = x.values[i] - inputs[3].values[c]
            dx.values[i] = g * scale * invStd
            dScale.values[c] += g * centred * invStd
            dBias.values[c] += g
            dMean.values[c] -= g * scale * invStd
            dVar.values[c] -= g * scale * centred * invStd / (2 * variance)
        }
        return [dx, dScale, dBias, dMean, dVar]
    }

    /// BatchNorm in training mode: normalized by the batch's own statistics (biased variance).
    static func batchNormTraining<T: TrainingScalar>(_ inputs: [Buffer<T>], epsilon: T) -> Buffer<T> {
        let (mean, variance) = inputs[0].channelStatistics()
        return batchNorm([inputs[0], inputs[1], inputs[2], Buffer(shape: [mean.count], values: mean),
                          Buffer(shape: [variance.count], values: variance)], epsilon: epsilon)
    }

    /// Gradients of x, scale and bias through the batch statistics:
    /// dx = scale / σ · (dy − mean(dy) − x̂ · mean(dy · x̂)) per channel, x̂ = (x − μ) / σ.
    static func batchNormTrainingBackward<T: TrainingScalar>(_ inputs: [Buffer<T>], epsilon: T, dy: Buffer<T>) -> [Buffer<T>?] {
        let x = inputs[0], channels = x.shape[1], inner = x.shape.dropFirst(2).reduce(1, *)
        let count = T(x.count / Swift.max(channels, 1))
        let (mean, variance) = x.channelStatistics()
        let invStd = variance.map { 1 / ($0 + epsilon).squareRoot() }
        var sumDy = [T](repeating: 0, count: channels), sumDyXhat = [T](repeating: 0, count: channels)
        for i in 0..<x.count {
            let c = (i / inner) % channels
            sumDy[c] += dy.values[i]
            sumDyXhat[c] += dy.values[i] * (x.values[i] - mean[c]) * invStd[c]
        }
        var dx = Buffer<T>(zeros: x.shape)
        for i in 0..<x.count {
            let c = (i / inner) % channels, xhat = (x.values[i] - mean[c]) * invStd[c]
            dx.values[i] = inputs[1].values[c] * invStd[c] * (dy.values[i] - sumDy[c] / count - xhat * sumDyXhat[c] / count)
        }
        return [dx, Buffer(shape: inputs[1].shape, values: sumDyXhat), Buffer(shape: inputs[2].shape, values: sumDy), nil, nil]
    }
}
