import Graph
import ONNXProto

/// Conv and ConvTranspose.
enum Convolution {
    static let table: [String: OpImporter] = [
        "Conv": { ctx, node in
            let (x, w) = (try ctx.requiredInput(node, 0), try ctx.requiredInput(node, 1))
            let attributes = try convAttributes(node, ctx, input: ctx.shape(x), weight: ctx.shape(w))
            try checkBias(node, ctx, outputs: ctx.shape(w)[0])
            try ctx.emit(.conv(attributes), for: node, inputs: [x, w] + [ctx.input(node, 2)].compactMap { $0 })
        },
        "ConvTranspose": { ctx, node in
            let (x, w) = (try ctx.requiredInput(node, 0), try ctx.requiredInput(node, 1))
            let attributes = try convAttributes(node, ctx, input: ctx.shape(x), weight: ctx.shape(w))
            guard node.ints("output_shape") == nil else {
                throw ImportError("\(node.label): output_shape is not supported; give pads and output_padding")
            }
            let outputPadding = node.ints("output_padding") ?? Array(repeating: 0, count: attributes.kernel.count)
            guard outputPadding.count == attributes.kernel.count, outputPadding.indices.allSatisfy({ i in
                outputPadding[i] >= 0 && outputPadding[i] < max(attributes.strides[i], attributes.dilations[i])
            }) else {
                throw ImportError("\(node.label): output_padding \(outputPadding) must give each spatial dimension a value below its stride or dilation")
            }
            try checkBias(node, ctx, outputs: ctx.shape(w)[1] * attributes.group)
            try ctx.emit(.convTranspose(attributes, outputPadding: outputPadding), for: node,
                         inputs: [x, w] + [ctx.input(node, 2)].compactMap { $0 })
        },
    ]

    /// Kernel, strides, pads (explicit or from auto_pad), dilations and group of a Conv-like node.
    static func convAttributes(_ node: Onnx_NodeProto, _ ctx: ImportContext, input: [Int], weight: [Int]) throws -> ConvAttributes {
        guard input.count >= 3, weight.count == input.count else {
            throw ImportError("\(node.label): input \(input) and weight \(weight) must be N-C-spatial tensors of one rank")
        }
        let spatial = input.count - 2
        let kernel = node.ints("kernel_shape") ?? Array(weight.dropFirst(2))
        let strides = node.ints("strides") ?? Array(repeating: 1, count: spatial)
        let dilations = node.ints("dilations") ?? Array(repeating: 1, count: spatial)
        let pads = try resolvePads(node, input: Array(input.dropFirst(2)), kernel: kernel, strides: strides, dilations: dilations)
        guard kernel.count == spatial, strides.count == spatial, dilations.count == spatial, pads.count == 2 * spatial,
              strides.allSatisfy({ $0 > 0 }), dilations.allSatisfy({ $0 > 0 }), pads.allSatisfy({ $0 >= 0 })
        else { throw ImportError("\(node.label): kernel, strides, dilations or pads do not fit \(spatial) spatial dimensions") }
        try ctx.check(kernel + strides + dilations, within: 1...windowLimit, "kernel_shape, strides and dilations", node)
        try ctx.check(pads, within: 0...windowLimit, "pads", node)
        guard kernel == Array(weight.dropFirst(2)) else {
            throw ImportError("\(node.label): kernel_shape \(kernel) differs from the weight's \(Array(weight.dropFirst(2)))")
        }
        let group = node.int("group", default: 1)
        guard group > 0, group <= input[1], weight[0] > 0 else { throw ImportError("\(node.label): group \(group) does not fit input \(input) and weight \(weight)") }
        return ConvAttributes(kernel: kernel, strides: strides, pads: pads, dilations: dilations, group: group)
    }

    /// The largest kernel extent, stride, dilation or pad a window op may have (so output sizes
    /// are computed without overflow).
    static let windowLimit = 1 << 16

    /// A bias input, when given, holds one value per output channel.
    static func checkBias(_ node: Onnx_NodeProto, _ ctx: ImportContext, outputs: Int) throws {
        guard let bias = ctx.input(node, 2) else { return }
        guard ctx.shape(bias) == [outputs] else {
            throw ImportError("\(node.label): bias \(ctx.shape(bias)) must hold one value for each of its \(outputs) output channels")
        }
    }

    /// Explicit pads, or the pads auto_pad SAME_UPPER / SAME_LOWER / VALID implies.
    /// Example: SAME_UPPER, input 224, kernel 3, stride 2 → total pad 1, begin 0, end 1.
    static func resolvePads(_ node: Onnx_NodeProto, input: [Int], kernel: [Int], strides: [Int], dilations: [Int] = []) throws -> [Int] {
        let autoPad = node.string("auto_pad", default: "NOTSET")
        switch autoPad {
        case "NOTSET": return node.ints("pads") ?? Array(repeating: 0, count: 2 * input.count)
        case "VALID": return Array(repeating: 0, count: 2 * input.count)
        case "SAME_UPPER", "SAME_LOWER":
            var begins: [Int] = [], ends: [Int] = []
            for i in input.indices {
                let dilation = i < dilations.count ? dilations[i] : 1
                let output = (input[i] + strides[i] - 1) / strides[i]
                let total = max((output - 1) * strides[i] + (kernel[i] - 1) * dilation + 1 - input[i], 0)
                let small = total / 2, large = total - total / 2
                begins.append(autoPad == "SAME_UPPER" ? small : large)
                ends.append(autoPad == "SAME_UPPER" ? large : small)
            }
            return begins + ends
        default:
            throw ImportError("\(node.label): auto_pad '\(autoPad)' is not supported")
        }
    }
}
