import Graph
import ONNXProto

/// Reshape, Flatten, Transpose, Concat, Slice, Pad, Squeeze, Unsqueeze, Resize, and the ops
/// that vanish at import (Identity, Dropout, Cast to float).
enum DataMovement {
    static let table: [String: OpImporter] = [
        "Reshape": shapeOnly, "Flatten": shapeOnly, "Squeeze": shapeOnly, "Unsqueeze": shapeOnly,
        "Transpose": { ctx, node in
            let x = try ctx.requiredInput(node, 0)
            let rank = ctx.shape(x).count
            let perm = node.ints("perm") ?? Array((0..<rank).reversed())
            try ctx.emit(.transpose(perm: perm), for: node, inputs: [x])
        },
        "Concat": { ctx, node in
            let inputs = try node.input.indices.map { try ctx.requiredInput(node, $0) }
            let axis = try ctx.axis(node.int("axis", default: 0), rank: ctx.shape(inputs[0]).count, node)
            try ctx.emit(.concat(axis: axis), for: node, inputs: inputs)
        },
        "Slice": { ctx, node in
            let x = try ctx.requiredInput(node, 0)
            try ctx.emit(try sliceOp(node, ctx, rank: ctx.shape(x).count), for: node, inputs: [x])
        },
        "Pad": { ctx, node in
            let x = try ctx.requiredInput(node, 0)
            try ctx.emit(try padOp(node, ctx, rank: ctx.shape(x).count), for: node, inputs: [x])
        },
        "Resize": { ctx, node in
            let x = try ctx.requiredInput(node, 0)
            try ctx.emit(try resizeOp(node, ctx, inputShape: ctx.shape(x)), for: node, inputs: [x])
        },
        "Identity": alias,
        "Dropout": alias,
        "Cast": { ctx, node in
            let to = Int32(node.int("to", default: 1))
            guard ONNXType(rawValue: to)?.isFloatingPoint == true else {
                throw ImportError("\(node.label) casts a run-time tensor to element type \(to); only float is supported")
            }
            try alias(&ctx, node)
        },
    ]

    private static func alias(_ ctx: inout ImportContext, _ node: Onnx_NodeProto) throws {
        ctx.aliases[node.output[0]] = try ctx.requiredInput(node, 0)
    }

    private static func shapeOnly(_ ctx: inout ImportContext, _ node: Onnx_NodeProto) throws {
        let x = try ctx.requiredInput(node, 0)
        try ctx.emit(try shapeOp(node, ctx, inputShape: ctx.shape(x)), for: node, inputs: [x])
    }

    /// Reshape, Flatten, Squeeze or Unsqueeze as an op with constant attributes.
    ///
    /// A Reshape that keeps the first (batch) dimension is stored as `[0, …]` so the graph runs
    /// at any batch size: MobileNetV2's folded target [1, −1] on a [1, 1280, 1, 1] input becomes [0, 1280].
    static func shapeOp(_ node: Onnx_NodeProto, _ ctx: ImportContext, inputShape: [Int]) throws -> Op {
        let rank = inputShape.count
        switch node.opType {
        case "Reshape":
            guard let target = try ctx.constantInts(node, 1, "shape") ?? node.ints("shape") else {
                throw ImportError("\(node.label) has no shape")
            }
            let output: [Int]
            do { output = try reshapeTarget(inputShape, target) } catch let error as ShapeError {
                throw ImportError("\(node.label): \(error.description)")
            }
            if rank > 0, output.first == inputShape.first { return .reshape(shape: [0] + output.dropFirst()) }
            return .reshape(shape: output)
        case "Flatten":
            let axis = node.int("axis", default: 1)
            return .flatten(axis: axis < 0 ? axis + rank : axis)
        case "Squeeze":
            let axes = try ctx.constantInts(node, 1, "axes") ?? node.ints("axes") ?? []
            return .squeeze(axes: try axes.map { try ctx.axis($0, rank: rank, node) }.sorted())
        case "Unsqueeze":
            guard let axes = try ctx.constantInts(node, 1, "axes") ?? node.ints("axes") else {
                throw ImportError("\(node.label) has no axes")
            }
            return .unsqueeze(axes: try axes.map { try ctx.axis($0, rank: rank + axes.count, node) }.sorted())
        default:
            throw ImportError("\(node.label) is not a shape op")
        }
    }

    /// Slice from attributes (opset < 10) or constant inputs, with axes normalized.
    static func sliceOp(_ node: Onnx_NodeProto, _ ctx: ImportContext, rank: Int) throws -> Op {
        let starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
        if ctx.opset < 10, node.attribute("starts") != nil {
            starts = node.ints("starts") ?? []
            ends = node.ints("ends") ?? []
            axes = node.ints("axes")
            steps = nil
        } else {
            guard let s = try ctx.constantInts(node, 1, "starts"), let e = try ctx.constantInts(node, 2, "ends") else {
                throw ImportError("\(node.label) needs starts and ends")
            }
            (starts, ends) = (s, e)
            axes = try ctx.constantInts(node, 3, "axes")
            steps = try ctx.constantInts(node, 4, "steps")
        }
        guard starts.count == ends.count else { throw ImportError("\(node.label): starts and ends differ in length") }
        let resolvedAxes = try (axes ?? Array(0..<starts.count)).map { try ctx.axis($0, rank: rank, node) }
        let resolvedSteps = steps ?? Array(repeating: 1, count: starts.count)
        guard resolvedAxes.count == starts.count, resolvedSteps.count == starts.count, !resolvedSteps.contains(0) else {
            throw ImportError("\(node.label): axes, steps and starts differ in length, or a step is 0")
        }
        return .slice(starts: starts, ends: ends, axes: resolvedAxes, steps: resolvedSteps)
    }

    static func padOp(_ node: Onnx_NodeProto, _ ctx: ImportContext, rank: Int) throws -> Op {
        let modeName = node.string("mode", default: "constant")
        guard let mode = PadMode(rawValue: modeName) else { throw ImportError("\(node.label): mode '\(modeName)' is not supported") }
        var pads: [Int], value: Float = 0
        if ctx.opset < 11 {
            pads = node.ints("pads") ?? []
            value = node.float("value", default: 0)
        } else {
            guard let p = try ctx.constantInts(node, 1, "pads") else { throw ImportError("\(node.label) has no pads") }
            pads = p
            if ctx.input(node, 2) != nil {
                guard let v = ctx.constant(node, 2) else { throw ImportError("\(node.label): constant_value must be constant") }
                value = v.floats.first ?? 0
            }
            if let axes = try ctx.constantInts(node, 3, "axes") {
                let normalized = try axes.map { try ctx.axis($0, rank: rank, node) }
                guard pads.count == 2 * axes.count, Set(normalized).count == axes.count else {
                    throw ImportError("\(node.label): \(pads.count) pads for axes \(axes): two per axis, each axis once")
                }
                var full = Array(repeating: 0, count: 2 * rank)
                for (i, axis) in normalized.enumerated() {
                    full[axis] = pads[i]
                    full[axis + rank] = pads[i + axes.count]
                }
                pads = full
            }
        }
        guard pads.count == 2 * rank else { throw ImportError("\(node.label): \(pads.count) pads for rank \(rank)") }
        if mode == .reflect, let shape = ctx.shapes[ctx.resolve(node.input[0])],
           !shape.indices.allSatisfy({ pads[$0] < shape[$0] && pads[$0 + rank] < shape[$0] }) {
            throw ImportError("\(node.label): reflect pads \(pads) must each be smaller than the dimension they extend, of \(shape)")
        }
        return .pad(pads: pads, value: value, mode: mode)
    }

    static func resizeOp(_ node: Onnx_NodeProto, _ ctx: ImportContext, inputShape: [Int]) throws -> Op {
        let modeName = node.string("mode", default: "nearest")
        guard let mode = ResizeAttributes.Mode(rawValue: modeName) else {
            throw ImportError("\(node.label): mode '\(modeName)' is not supported (nearest and linear are)")
        }
        let transformName = node.string("coordinate_transformation_mode", default: "half_pixel")
        guard let transform = ResizeAttributes.CoordinateTransform(rawValue: transformName) else {
            throw ImportError("\(node.label): coordinate_transformation_mode '\(transformName)' is not supported")
        }
        let roundingName = node.string("nearest_mode", default: "round_prefer_floor")
        guard let rounding = ResizeAttributes.NearestRounding(rawValue: roundingName) else {
            throw ImportError("\(node.label): nearest_mode '\(roundingName)' is not supported")
        }
        let scalesIndex = ctx.opset < 11 ? 1 : 2
        var scales = try ctx.finiteFloats(node, scalesIndex, "scales") ?? []
        let sizes = ctx.opset >= 11 ? try ctx.constantInts(node, 3, "sizes") : nil
        if let sizes { try ctx.check(sizes, within: 1...maxTensorElements, "sizes", node) }
        if ctx.input(node, scalesIndex) != nil, ctx.constant(node, scalesIndex) == nil {
            throw ImportError("\(node.label): its scales input is computed at run time; only constant scales are supported")
        }
        if sizes == nil, scales.count != inputShape.count {
            throw ImportError("\(node.label) needs scales or sizes for all \(inputShape.count) dimensions")
        }
        if let sizes { scales = zip(sizes, inputShape).map { Float($0) / Float($1) } }
        return .resize(ResizeAttributes(mode: mode, coordinates: transform, nearest: rounding, scales: scales, sizes: sizes))
    }
}
