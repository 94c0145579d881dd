/// A shape that cannot be inferred: mismatched operands, a kernel larger than its input, …
public struct ShapeError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Graph {
    /// The static shape of every value: inputs, initializers and node outputs.
    public func inferShapes() throws -> [String: [Int]] {
        var shapes: [String: [Int]] = [:]
        for input in inputs { shapes[input.name] = input.shape }
        for (name, tensor) in initializers { shapes[name] = tensor.shape }
        for node in nodes {
            let inputShapes = try node.inputs.map { name -> [Int] in
                guard let shape = shapes[name] else {
                    throw ShapeError("node '\(node.name)' reads '\(name)', which has no shape yet")
                }
                return shape
            }
            let outputShapes: [[Int]]
            do {
                outputShapes = try node.op.outputShapes(inputShapes)
            } catch let error as ShapeError {
                throw ShapeError("node '\(node.name)' (\(node.op.name)): \(error.description)")
            }
            for (name, shape) in zip(node.outputs, outputShapes) { shapes[name] = shape }
        }
        return shapes
    }
}

/// The most elements one tensor may hold: 2^30 (4 GiB of float32), far above any vision model's
/// largest value and below what a crafted file could make this machine allocate.
public let maxTensorElements = 1 << 30

/// The element count of `shape`, checked: every dimension at least 0, the product at most
/// `maxTensorElements` (computed without overflow).
/// Example: [1, 3, 224, 224] → 150,528; [1, 3, 100000, 100000] throws.
public func checkedElementCount(_ shape: [Int]) throws -> Int {
    var count = 1
    for dimension in shape {
        guard dimension >= 0 else { throw ShapeError("shape \(shape) has a negative dimension") }
        let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
        guard !overflow, product <= maxTensorElements else {
            throw ShapeError("shape \(shape) holds more than 2^30 elements, the most a tensor may have")
        }
        count = product
    }
    return count
}

/// Numpy broadcasting of two shapes. Example: [8, 1, 3] with [4, 1] gives [8, 4, 3].
public func broadcastShapes(_ a: [Int], _ b: [Int]) throws -> [Int] {
    let rank = max(a.count, b.count)
    let left = Array(repeating: 1, count: rank - a.count) + a
    let right = Array(repeating: 1, count: rank - b.count) + b
    return try zip(left, right).map { x, y in
        if x == y || y == 1 { return x }
        if x == 1 { return y }
        throw ShapeError("shapes \(a) and \(b) do not broadcast")
    }
}

/// The output length of a sliding window: `(input + padBegin + padEnd − extent) / stride + 1`,
/// rounded down, or up with `ceil` (then a last window that starts in the end padding is dropped).
/// Example: input 112, kernel 3, stride 2, pads 0 and 1 → 56.
public func windowOutputLength(input: Int, kernel: Int, stride: Int, padBegin: Int, padEnd: Int,
                               dilation: Int = 1, ceil: Bool = false) -> Int {
    let extent = dilation * (kernel - 1) + 1
    let span = input + padBegin + padEnd - extent
    guard span >= 0 else { return 0 }
    var length = (ceil ? (span + stride - 1) / stride : span / stride) + 1
    if ceil && (length - 1) * stride >= input + padBegin { length -= 1 }
    return length
}

extension Op {
    /// Output shapes for the given input shapes.
    public func outputShapes(_ inputs: [[Int]]) throws -> [[Int]] {
        guard let x = inputs.first else { throw ShapeError("no inputs") }
        switch self {
        case .conv(let a):
            guard inputs.count >= 2, x.count == a.kernel.count + 2 else { throw ShapeError("expects x and w of rank \(a.kernel.count + 2), got \(inputs)") }
            let w = inputs[1]
            guard x[1] == w[1] * a.group, w[0] % a.group == 0 else {
                throw ShapeError("input has \(x[1]) channels but the weight \(w) with group \(a.group) expects \(w[1] * a.group)")
            }
            let spatial = try (0..<a.kernel.count).map { i -> Int in
                let n = windowOutputLength(input: x[i + 2], kernel: a.kernel[i], stride: a.strides[i], padBegin: a.pads[i],
                                           padEnd: a.pads[i + a.kernel.count], dilation: a.dilations[i])
                guard n > 0 else { throw ShapeError("kernel \(a.kernel) does not fit input \(x)") }
                return n
            }
            return [[x[0], w[0]] + spatial]
        case .convTranspose(let a, let outputPadding):
            guard inputs.count >= 2, x.count == a.kernel.count + 2 else { throw ShapeError("expects x and w of rank \(a.kernel.count + 2)") }
            let w = inputs[1]
            guard x[1] == w[0] else { throw ShapeError("input has \(x[1]) channels, weight \(w) expects \(w[0])") }
            let spatial = (0..<a.kernel.count).map { i -> Int in
                let extent: Int = (a.kernel[i] - 1) * a.dilations[i] + 1
                let padding: Int = a.pads[i] + a.pads[i + a.kernel.count]
                return a.strides[i] * (x[i + 2] - 1) + outputPadding[i] + extent - padding
            }
            return [[x[0], w[1] * a.group] + spatial]
        case .gemm(_, _, let transA, let transB):
            guard inputs.count >= 2, x.count == 2, inputs[1].count == 2 else { throw ShapeError("expects two matrices, got \(inputs)") }
            let (m, k) = transA ? (x[1], x[0]) : (x[0], x[1])
            let (kb, n) = transB ? (inputs[1][1], inputs[1][0]) : (inputs[1][0], inputs[1][1])
            guard k == kb else { throw ShapeError("inner dimensions \(k) and \(kb) differ") }
            if inputs.count > 2 { _ = try broadcastShapes([m, n], inputs[2]) }
            return [[m, n]]
        case .matMul:
            guard inputs.count == 2 else { throw ShapeError("expects two inputs") }
            return [try matMulShape(x, inputs[1])]
        case .add, .sub, .mul, .div, .pow:
            guard inputs.count == 2 else { throw ShapeError("expects two inputs") }
            return [try broadcastShapes(x, inputs[1])]
        case .relu, .sigmoid, .sqrt, .erf, .exp, .tanh, .clip, .hardSigmoid, .hardSwish, .batchNorm:
            return [x]
        case .softmax(let axis):
            guard axis < x.count else { throw ShapeError("axis \(axis) out of range for \(x)") }
            return [x]
        case .maxPool(let a), .averagePool(let a, _):
            guard x.count == a.kernel.count + 2 else { throw ShapeError("expects rank \(a.kernel.count + 2), got \(x)") }
            let spatial = try (0..<a.kernel.count).map { i -> Int in
                let n = windowOutputLength(input: x[i + 2], kernel: a.kernel[i], stride: a.strides[i], padBegin: a.pads[i],
                                           padEnd: a.pads[i + a.kernel.count], ceil: a.ceilMode)
                guard n > 0 else { throw ShapeError("window \(a.kernel) does not fit input \(x)") }
                return n
            }
            return [Array(x.prefix(2)) + spatial]
        case .globalAveragePool:
            guard x.count >= 3 else { throw ShapeError("expects rank ≥ 3, got \(x)") }
            return [Array(x.prefix(2)) + Array(repeating: 1, count: x.count - 2)]
        case .reduceMean(let axes, let keepDims):
            let reduced = Set(axes.isEmpty ? Array(0..<x.count) : axes)
            guard reduced.allSatisfy({ $0 < x.count }) else { throw ShapeError("axes \(axes) out of range for \(x)") }
            return [x.indices.compactMap { reduced.contains($0) ? (keepDims ? 1 : nil) : x[$0] }]
        case .reshape(let shape):
            return [try reshapeTarget(x, shape)]
        case .flatten(let axis):
            guard axis <= x.count else { throw ShapeError("axis \(axis) out of range for \(x)") }
            return [[x.prefix(axis).reduce(1, *), x.dropFirst(axis).reduce(1, *)]]
        case .transpose(let perm):
            guard perm.sorted() == Array(0..<x.count) else { throw ShapeError("perm \(perm) does not fit \(x)") }
            return [perm.map { x[$0] }]
        case .concat(let axis):
            guard axis < x.count else { throw ShapeError("axis \(axis) out of range for \(x)") }
            var result = x
            for shape in inputs.dropFirst() {
                guard shape.count == x.count,
                      shape.indices.allSatisfy({ $0 == axis || shape[$0] == x[$0] })
                else { throw ShapeError("cannot concatenate \(shape) to \(x) on axis \(axis)") }
                result[axis] += shape[axis]
            }
            return [result]
        case .slice(let starts, let ends, let axes, let steps):
            var result = x
            for (i, axis) in axes.enumerated() {
                guard axis < x.count, steps[i] != 0 else { throw ShapeError("bad slice axis \(axis) or step 0 for \(x)") }
                result[axis] = Array(sliceRange(dimension: x[axis], start: starts[i], end: ends[i], step: steps[i])).count
            }
            return [result]
        case .pad(let pads, _, _):
            guard pads.count == 2 * x.count, pads.allSatisfy({ (-maxTensorElements...maxTensorElements).contains($0) }) else {
                throw ShapeError("\(pads.count) pads \(pads) for rank \(x.count)")
            }
            let padded = x.indices.map { x[$0] + pads[$0] + pads[$0 + x.count] }
            guard padded.allSatisfy({ $0 > 0 }) else { throw ShapeError("pads \(pads) leave nothing of \(x)") }
            return [padded]
        case .squeeze(let axes):
            let removed = Set(axes.isEmpty ? x.indices.filter { x[$0] == 1 } : axes)
            guard removed.allSatisfy({ $0 < x.count && x[$0] == 1 }) else { throw ShapeError("cannot squeeze axes \(axes) of \(x)") }
            return [x.indices.filter { !removed.contains($0) }.map { x[$0] }]
        case .unsqueeze(let axes):
            let rank = x.count + axes.count
            guard axes.allSatisfy({ $0 >= 0 && $0 < rank }), Set(axes).count == axes.count else {
                throw ShapeError("axes \(axes) are out of range or repeated")
            }
            var rest = x.makeIterator()
            return [(0..<rank).map { axes.contains($0) ? 1 : rest.next()! }]
        case .resize(let a):
            guard x.count == 4 else { throw ShapeError("Resize takes an NCHW tensor; this one is \(x)") }
            if let sizes = a.sizes {
                guard sizes.count == x.count else { throw ShapeError("sizes \(sizes) do not fit \(x)") }
                guard sizes[0] == x[0], sizes[1] == x[1] else { throw ShapeError("sizes \(sizes) resize the batch or channels of \(x); only height and width can be") }
                return [sizes]
            }
            guard a.scales.count == x.count, a.scales.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw ShapeError("scales \(a.scales) do not fit \(x): one positive, finite scale per dimension")
            }
            let sizes = zip(x, a.scales).map { (Double($0) * Double($1)).rounded(.down) }
            guard sizes.allSatisfy({ $0 >= 1 && $0 <= Double(maxTensorElements) }) else {
                throw ShapeError("scales \(a.scales) make \(x) into \(sizes)")
            }
            guard sizes[0] == Double(x[0]), sizes[1] == Double(x[1]) else {
                throw ShapeError("scales \(a.scales) resize the batch or channels of \(x); only height and width can be")
            }
            return [sizes.map { Int($0) }]
        }
    }
}

/// Numpy matmul shape. Example: [2, 5, 3] × [3, 4] → [2, 5, 4]; [3] × [3, 4] → [4].
func matMulShape(_ a: [Int], _ b: [Int]) throws -> [Int] {
    let left = a.count == 1 ? [1] + a : a
    let right = b.count == 1 ? b + [1] : b
    guard left.count >= 2, right.count >= 2, left[left.count - 1] == right[right.count - 2] else {
        throw ShapeError("cannot multiply \(a) by \(b)")
    }
    var result = try broadcastShapes(Array(left.dropLast(2)), Array(right.dropLast(2)))
    if a.count > 1 { result.append(left[left.count - 2]) }
    if b.count > 1 { result.append(right[right.count - 1]) }
    return result
}

/// ONNX Reshape's target: 0 copies the input dimension, one −1 takes what is left.
/// Example: input [2, 3, 4] with shape [0, −1] → [2, 12].
public func reshapeTarget(_ input: [Int], _ shape: [Int]) throws -> [Int] {
    var result = shape.enumerated().map { i, d in d == 0 && i < input.count ? input[i] : d }
    let total = input.reduce(1, *)
    guard result.allSatisfy({ $0 >= -1 }) else { throw ShapeError("cannot reshape \(input) to \(shape): a dimension below −1") }
    let known = try checkedElementCount(result.filter { $0 != -1 })
    if let inferred = result.firstIndex(of: -1) {
        guard known > 0, total % known == 0, result.filter({ $0 == -1 }).count == 1 else {
            throw ShapeError("cannot reshape \(input) to \(shape)")
        }
        result[inferred] = total / known
    }
    guard result.reduce(1, *) == total, result.allSatisfy({ $0 >= 0 }) else {
        throw ShapeError("cannot reshape \(input) (\(total) elements) to \(shape)")
    }
    return result
}

/// The indices an ONNX Slice takes along one dimension, after clamping as the spec says.
/// Example: dimension 10, start −3, end Int.max, step 1 → 7, 8, 9.
public func sliceRange(dimension: Int, start: Int, end: Int, step: Int) -> StrideTo<Int> {
    func normalized(_ value: Int) -> Int { value < 0 ? value &+ dimension : value }
    if step > 0 {
        let first = min(max(normalized(start), 0), dimension)
        let last = min(max(normalized(end), 0), dimension)
        return stride(from: first, to: last, by: step)
    }
    let first = min(max(normalized(start), 0), dimension - 1)
    let last = min(max(normalized(end), -1), dimension - 1)
    return stride(from: first, to: last, by: step)
}
