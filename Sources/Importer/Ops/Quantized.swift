import Graph
import ONNXProto

/// Already-quantized models (QLinear* and Quantize/DequantizeLinear) import as float ops:
/// integer weights are dequantized, activations stay float, and every activation's scale and
/// zero point is kept in `Graph.quantization` under the value's name. Each quantized result is
/// clipped to the range its integer type holds, because that saturation is part of the model:
/// a QLinearConv with a uint8 output whose range is 0…6 is where a fused ReLU6 went.
enum Quantized {
    static let table: [String: OpImporter] = [
        "QuantizeLinear": { ctx, node in
            let quant = try params(node, ctx, scale: 1, zeroPoint: 2, axis: node.int("axis", default: 1))
            try saturate(&ctx, node, quant, input: try ctx.requiredInput(node, 0))
        },
        "DequantizeLinear": { ctx, node in
            let q = try ctx.requiredInput(node, 0)
            let quant = try params(node, ctx, scale: 1, zeroPoint: 2, axis: node.int("axis", default: 1))
            if let constant = ctx.constants[q] {
                ctx.defineConstant(node.output[0], try dequantize(constant, quant, node))
            } else {
                ctx.quantization[q] = quant
                ctx.aliases[node.output[0]] = q
            }
        },
        "QLinearConv": { ctx, node in
            let x = try ctx.requiredInput(node, 0)
            let xQuant = try params(node, ctx, scale: 1, zeroPoint: 2)
            let weight = try dequantizedInput(node, &ctx, index: 3, scale: 4, zeroPoint: 5, axis: 0)
            var inputs = [x, weight]
            if let biasName = ctx.input(node, 8) {
                guard let bias = ctx.constants[biasName] else { throw ImportError("\(node.label): its bias must be constant") }
                let wQuant = try params(node, ctx, scale: 4, zeroPoint: 5, axis: 0)
                let scales = bias.int64s.indices.map { xQuant.scales[0] * wQuant.scales[wQuant.scales.count == 1 ? 0 : $0] }
                let name = biasName + "_dequantized"
                ctx.defineConstant(name, Tensor(shape: bias.shape, floats: zip(bias.int64s, scales).map { Float($0) * $1 }))
                inputs.append(name)
            }
            let attributes = try Convolution.convAttributes(node, ctx, input: ctx.shape(x), weight: ctx.shape(weight))
            try emitSaturated(.conv(attributes), &ctx, node, inputs: inputs)
        },
        "QLinearMatMul": binary(.matMul),
        "com.microsoft.QLinearAdd": binary(.add),
        "com.microsoft.QLinearGlobalAveragePool": { ctx, node in
            guard node.int("channels_last", default: 0) == 0 else {
                throw ImportError("\(node.label): channels_last is not supported")
            }
            try ctx.emit(.globalAveragePool, for: node, inputs: [try ctx.requiredInput(node, 0)])
            ctx.quantization[node.output[0]] = try params(node, ctx, scale: 3, zeroPoint: 4)
        },
    ]

    /// QLinearMatMul and QLinearAdd: (a, a_scale, a_zero, b, b_scale, b_zero, y_scale, y_zero).
    private static func binary(_ op: Op) -> OpImporter {
        { ctx, node in
            let a = try floatOperand(node, &ctx, index: 0, scale: 1, zeroPoint: 2, axis: 1)
            let b = try floatOperand(node, &ctx, index: 3, scale: 4, zeroPoint: 5, axis: 1)
            try emitSaturated(op, &ctx, node, inputs: [a, b])
        }
    }

    /// Emits `op` and clips its result to the output quantizer (inputs 6 and 7) into the node's output.
    private static func emitSaturated(_ op: Op, _ ctx: inout ImportContext, _ node: Onnx_NodeProto, inputs: [String]) throws {
        let result = node.output[0] + "_unsaturated"
        try ctx.emit(op, for: node, inputs: inputs, outputs: [result])
        try saturate(&ctx, node, try params(node, ctx, scale: 6, zeroPoint: 7), input: result)
    }

    /// Clips `input` to what `quant` represents, into the node's first output, and records `quant` there.
    private static func saturate(_ ctx: inout ImportContext, _ node: Onnx_NodeProto, _ quant: QuantParams, input: String) throws {
        let range = quant.axis == nil ? quant.representableRange : (-Float.greatestFiniteMagnitude, Float.greatestFiniteMagnitude)
        try ctx.emit(.clip(min: range.0, max: range.1), for: node, inputs: [input])
        ctx.quantization[node.output[0]] = quant
    }

    /// Scale and zero point from constant inputs. A per-channel scale applies along `axis`.
    private static func params(_ node: Onnx_NodeProto, _ ctx: ImportContext, scale: Int, zeroPoint: Int, axis: Int = 1) throws -> QuantParams {
        guard let scales = ctx.constant(node, scale)?.floats, !scales.isEmpty else {
            throw ImportError("\(node.label): its scale (input \(scale)) must be a constant")
        }
        let zeroPoints = ctx.constant(node, zeroPoint)?.int64s.map { Int32(clamping: $0) } ?? [0]
        let signed = ctx.input(node, zeroPoint).map { ctx.int8Constants.contains($0) } ?? false
        return QuantParams(scales: scales, zeroPoints: zeroPoints, axis: scales.count > 1 ? axis : nil, isSigned: signed)
    }

    /// A float operand: a run-time input as it is (activations are float here), a constant dequantized.
    private static func floatOperand(_ node: Onnx_NodeProto, _ ctx: inout ImportContext, index: Int, scale: Int,
                                     zeroPoint: Int, axis: Int) throws -> String {
        guard ctx.constant(node, index) != nil else { return try ctx.requiredInput(node, index) }
        return try dequantizedInput(node, &ctx, index: index, scale: scale, zeroPoint: zeroPoint, axis: axis)
    }

    /// Replaces a constant integer input by its float value under a new name.
    private static func dequantizedInput(_ node: Onnx_NodeProto, _ ctx: inout ImportContext, index: Int, scale: Int,
                                         zeroPoint: Int, axis: Int) throws -> String {
        let name = try ctx.requiredInput(node, index)
        guard let quantized = ctx.constants[name] else { throw ImportError("\(node.label): input \(index) must be constant") }
        let quant = try params(node, ctx, scale: scale, zeroPoint: zeroPoint, axis: axis)
        let dequantizedName = name + "_dequantized"
        ctx.defineConstant(dequantizedName, try dequantize(quantized, quant, node))
        return dequantizedName
    }

    /// real = scale · (q − zeroPoint), per tensor or per channel along `quant.axis`.
    private static func dequantize(_ q: Tensor, _ quant: QuantParams, _ node: Onnx_NodeProto) throws -> Tensor {
        let values = q.int64s
        guard let axis = quant.axis else {
            let (scale, zero) = (quant.scales[0], Int64(quant.zeroPoints.first ?? 0))
            return Tensor(shape: q.shape, floats: values.map { Float($0 - zero) * scale })
        }
        guard axis < q.shape.count, q.shape[axis] == quant.scales.count else {
            throw ImportError("\(node.label): \(quant.scales.count) scales do not fit axis \(axis) of \(q.shape)")
        }
        let inner = q.shape.dropFirst(axis + 1).reduce(1, *), channels = q.shape[axis]
        return Tensor(shape: q.shape, floats: values.indices.map { i in
            let c = (i / inner) % channels
            let zero = Int64(quant.zeroPoints.count == channels ? quant.zeroPoints[c] : quant.zeroPoints.first ?? 0)
            return Float(values[i] - zero) * quant.scales[c]
        })
    }
}
