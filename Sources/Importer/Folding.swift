import Graph
import ONNXProto

/// Evaluates nodes whose inputs are all known at import: Constant nodes, Shape of a static
/// tensor, and the shape arithmetic built on them (Gather, Unsqueeze, Concat, Cast, …).
/// Example: MobileNetV2's Shape → Gather(0) → Unsqueeze → Concat([N], [−1]) folds to [1, −1].
enum Folding {
    /// Op types folded when every input is constant (Shape needs only a static input).
    static let foldable: Set<String> = [
        "Constant", "Shape", "Gather", "ConstantOfShape", "Cast", "Identity", "Unsqueeze", "Squeeze",
        "Reshape", "Flatten", "Concat", "Slice", "Add", "Sub", "Mul", "Div", "Sqrt", "Range",
    ]

    /// Folds the node if it can be, recording its outputs as constants; false when it cannot.
    static func fold(_ node: Onnx_NodeProto, _ ctx: inout ImportContext) throws -> Bool {
        guard foldable.contains(node.opType), node.domain.isEmpty || node.domain == "ai.onnx" else { return false }
        if node.opType == "Shape" {
            guard let name = ctx.input(node, 0), let shape = ctx.shapes[name] else { return false }
            let start = node.int("start", default: 0), end = node.int("end", default: shape.count)
            let dims = sliceRange(dimension: shape.count, start: start, end: end, step: 1).map { Int64(shape[$0]) }
            ctx.defineConstant(node.output[0], Tensor(shape: [dims.count], int64s: dims))
            return true
        }
        let names = node.input.map { ctx.resolve($0) }
        let values = names.map { $0.isEmpty ? nil : ctx.constants[$0] }
        for (name, value) in zip(names, values) where !name.isEmpty && value == nil { return false }
        let inputs = values.compactMap { $0 }
        let result = try evaluate(node, inputs, ctx)
        ctx.defineConstant(node.output[0], result)
        if node.opType == "Constant", node.attribute.first?.t.dataType == ONNXType.int8.rawValue {
            ctx.int8Constants.insert(node.output[0])
        }
        return true
    }

    private static func evaluate(_ node: Onnx_NodeProto, _ inputs: [Tensor], _ ctx: ImportContext) throws -> Tensor {
        func need(_ count: Int) throws {
            guard inputs.count >= count else { throw ImportError("\(node.label) needs \(count) inputs") }
        }
        switch node.opType {
        case "Constant":
            guard let attribute = node.attribute.first else { throw ImportError("\(node.label) has no value") }
            switch attribute.name {
            case "value": return try Tensor(onnx: attribute.t)
            case "value_float": return Tensor(shape: [], floats: [attribute.f])
            case "value_floats": return Tensor(shape: [attribute.floats.count], floats: attribute.floats)
            case "value_int": return Tensor(shape: [], int64s: [attribute.i])
            case "value_ints": return Tensor(shape: [attribute.ints.count], int64s: attribute.ints)
            default: throw ImportError("\(node.label): attribute '\(attribute.name)' is not supported")
            }
        case "Identity":
            try need(1)
            return inputs[0]
        case "Cast":
            try need(1)
            let to = Int32(node.int("to", default: 1))
            return ONNXType(rawValue: to)?.isFloatingPoint == true
                ? Tensor(shape: inputs[0].shape, floats: inputs[0].floats)
                : Tensor(shape: inputs[0].shape, int64s: inputs[0].int64s)
        case "ConstantOfShape":
            try need(1)
            let shape = inputs[0].int64s.map { Int($0) }
            try checkedCount(shape, of: node.label)
            let value = try node.attribute("value").map { try Tensor(onnx: $0.t) } ?? Tensor(shape: [1], floats: [0])
            return value.isFloat
                ? Tensor(shape: shape, floats: Array(repeating: value.floats.first ?? 0, count: shape.reduce(1, *)))
                : Tensor(shape: shape, int64s: Array(repeating: value.int64s.first ?? 0, count: shape.reduce(1, *)))
        case "Gather":
            try need(2)
            return try gather(inputs[0], indices: inputs[1], axis: node.int("axis", default: 0), node)
        case "Unsqueeze", "Squeeze", "Reshape", "Flatten":
            try need(1)
            let op = try DataMovement.shapeOp(node, ctx, inputShape: inputs[0].shape)
            let shape = try op.outputShapes([inputs[0].shape] + inputs.dropFirst().map(\.shape))[0]
            var result = inputs[0]
            result.shape = shape
            return result
        case "Concat":
            try need(1)
            return try concat(inputs, axis: node.int("axis", default: 0), node)
        case "Slice":
            try need(1)
            return try slice(inputs[0], node, ctx)
        case "Add", "Sub", "Mul", "Div":
            try need(2)
            return try binary(node.opType, inputs[0], inputs[1])
        case "Sqrt":
            try need(1)
            return Tensor(shape: inputs[0].shape, floats: inputs[0].floats.map { $0.squareRoot() })
        case "Range":
            try need(3)
            guard let start = inputs[0].floats.first, let limit = inputs[1].floats.first, let delta = inputs[2].floats.first,
                  start.isFinite, limit.isFinite, delta.isFinite, delta != 0 else {
                throw ImportError("\(node.label): start, limit and delta must be finite numbers, delta not 0")
            }
            let steps = ((Double(limit) - Double(start)) / Double(delta)).rounded(.up)
            guard steps <= Double(maxTensorElements) else { throw ImportError("\(node.label): \(steps) values are more than a tensor may hold") }
            let count = max(Int(steps), 0)
            let values = (0..<count).map { start + Float($0) * delta }
            return inputs[0].isFloat ? Tensor(shape: [count], floats: values) : Tensor(shape: [count], int64s: values.map { Int64($0) })
        default:
            throw ImportError("\(node.label) cannot be folded")
        }
    }

    private static func gather(_ data: Tensor, indices: Tensor, axis: Int, _ node: Onnx_NodeProto) throws -> Tensor {
        let rank = data.shape.count
        let axis = axis < 0 ? axis + rank : axis
        guard axis >= 0, axis < rank else { throw ImportError("\(node.label): axis out of range") }
        let dimension = data.shape[axis]
        let picks = try indices.int64s.map { i -> Int in
            let index = Int(i < 0 ? i + Int64(dimension) : i)
            guard index >= 0, index < dimension else { throw ImportError("\(node.label): index \(i) out of range") }
            return index
        }
        return data.gathering(picks, axis: axis, indexShape: indices.shape)
    }

    private static func concat(_ inputs: [Tensor], axis: Int, _ node: Onnx_NodeProto) throws -> Tensor {
        let rank = inputs[0].shape.count
        let axis = axis < 0 ? axis + rank : axis
        let op = Op.concat(axis: axis)
        let shape = try op.outputShapes(inputs.map(\.shape))[0]
        let outer = shape.prefix(axis).reduce(1, *)
        var floats: [Float] = [], ints: [Int64] = []
        let asFloat = inputs.contains { $0.isFloat }
        for o in 0..<outer {
            for input in inputs {
                let block = input.shape.dropFirst(axis).reduce(1, *)
                let range = o * block..<(o + 1) * block
                if asFloat { floats += input.floats[range] } else { ints += input.int64s[range] }
            }
        }
        return asFloat ? Tensor(shape: shape, floats: floats) : Tensor(shape: shape, int64s: ints)
    }

    private static func slice(_ data: Tensor, _ node: Onnx_NodeProto, _ ctx: ImportContext) throws -> Tensor {
        guard case .slice(let starts, let ends, let axes, let steps) = try DataMovement.sliceOp(node, ctx, rank: data.shape.count) else {
            throw ImportError("\(node.label) cannot be folded")
        }
        var ranges = data.shape.map { Array(0..<$0) }
        for (i, axis) in axes.enumerated() {
            ranges[axis] = Array(sliceRange(dimension: data.shape[axis], start: starts[i], end: ends[i], step: steps[i]))
        }
        var positions = [0]
        for (axis, range) in ranges.enumerated() {
            positions = positions.flatMap { base in range.map { base * data.shape[axis] + $0 } }
        }
        return data.picking(positions, shape: ranges.map(\.count))
    }

    private static func binary(_ opType: String, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let shape = try broadcastShapes(a.shape, b.shape)
        let ia = broadcastPositions(a.shape, to: shape), ib = broadcastPositions(b.shape, to: shape)
        if a.isFloat || b.isFloat {
            let x = a.floats, y = b.floats
            let f: (Float, Float) -> Float
            switch opType {
            case "Add": f = { $0 + $1 }
            case "Sub": f = { $0 - $1 }
            case "Mul": f = { $0 * $1 }
            default: f = { $0 / $1 }
            }
            return Tensor(shape: shape, floats: zip(ia, ib).map { f(x[$0], y[$1]) })
        }
        let x = a.int64s, y = b.int64s
        let f: (Int64, Int64) -> Int64
        switch opType {
        case "Add": f = { $0 &+ $1 }
        case "Sub": f = { $0 &- $1 }
        case "Mul": f = { $0 &* $1 }
        default: f = { $1 == 0 ? 0 : $0 / $1 }
        }
        return Tensor(shape: shape, int64s: zip(ia, ib).map { f(x[$0], y[$1]) })
    }

    /// For each element of `shape` in row-major order, the position of the broadcast source element.
    private static func broadcastPositions(_ source: [Int], to shape: [Int]) -> [Int] {
        let strides = broadcastStrides(source, to: shape)
        var index = Array(repeating: 0, count: shape.count)
        return (0..<shape.reduce(1, *)).map { _ in
            defer { advance(&index, shape: shape) }
            return zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 }
        }
    }
}
