import Graph
import ONNXProto

/// Already-quantized models (QLinear* and Quantize/DequantizeLinear) import as float ops:
/// integer weights are dequantized, activations stay float, and every activation's scale and
/// zero point is kept in `Graph.quantization` under the value's name.
enum Quantized {
    static let table: [String: OpImporter] = [
        "QuantizeLinear": { ctx, node in
            let x = try ctx.requiredInput(node, 0)
            ctx.quantization[x] = try params(node, ctx, scale: 1, zeroPoint: 2, axis: node.int("axis", default: 1))
            ctx.aliases[node.output[0]] = x
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
            try ctx.emit(.conv(attributes), for: node, inputs: inputs)
            ctx.quantization[node.output[0]] = try params(node, ctx, scale: 6, zeroPoint: 7)
        },
        "QLinearMatMul": { ctx, node in
            let a = try ctx.requiredInput(node, 0)
            let b = try ctx.constant(node, 3) != nil
                ? dequantizedInput(node, &ctx, index: 3, scale: 4, zeroPoint: 5, axis: 1)
                : ctx.requiredInput(node, 3)
            try ctx.emit(.matMul, for: node, inputs: [a, b])
            ctx.quantization[node.output[0]] = try params(node, ctx, scale: 6, zeroPoint: 7)
        },
        "com.microsoft.QLinearAdd": { ctx, node in
            try ctx.emit(.add, for: node, inputs: [try ctx.requiredInput(node, 0), try ctx.requiredInput(node, 3)])
            ctx.quantization[node.output[0]] = try params(node, ctx, scale: 6, zeroPoint: 7)
        },
        "com.microsoft.QLinearGlobalAveragePool": { ctx, node in
            guard node.int("channels_last", default: 0) == 0 else {
                throw ImportError("\(node.label): channels_last is not supported")
            }
            try ctx.emit(.globalAveragePool, for: node, inputs: [try ctx.requiredInput(node, 0)])
            ctx.quantization[node.output[0]] = try params(node, ctx, scale: 3, zeroPoint: 4)
        },
    ]

    /// Scale and zero point from constant inputs. A per-channel scale applies along `axis`.
    private static func params(_ node: Onnx_NodeProto, _ ctx: ImportContext, scale: Int, zeroPoint: Int, axis: Int = 1) throws -> QuantParams {
        guard let scales = ctx.constant(node, scale)?.floats, !scales.isEmpty else {
            throw ImportError("\(node.label): its scale (input \(scale)) must be a constant")
        }
        let zeroPoints = ctx.constant(node, zeroPoint)?.int64s.map { Int32(clamping: $0) } ?? [0]
        let signed = ctx.input(node, zeroPoint).map { isSigned(ctx.constants[$0]) } ?? false
        return QuantParams(scales: scales, zeroPoints: zeroPoints, axis: scales.count > 1 ? axis : nil, isSigned: signed)
    }

    private static func isSigned(_ zeroPoint: Tensor?) -> Bool {
        zeroPoint?.int64s.contains { $0 < 0 } ?? false
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
