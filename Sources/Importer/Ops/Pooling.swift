import Graph
import ONNXProto

/// MaxPool, AveragePool, GlobalAveragePool, ReduceMean, and BatchNormalization.
enum Pooling {
    static let table: [String: OpImporter] = [
        "MaxPool": { ctx, node in
            guard node.output.count < 2 || node.output[1].isEmpty else {
                throw ImportError("\(node.label): the Indices output is not supported")
            }
            let x = try ctx.requiredInput(node, 0)
            try ctx.emit(.maxPool(try poolAttributes(node, ctx, ctx.shape(x))), for: node, inputs: [x])
        },
        "AveragePool": { ctx, node in
            let x = try ctx.requiredInput(node, 0)
            let attributes = try poolAttributes(node, ctx, ctx.shape(x))
            try ctx.emit(.averagePool(attributes, countIncludePad: node.int("count_include_pad", default: 0) != 0),
                         for: node, inputs: [x])
        },
        "GlobalAveragePool": { ctx, node in
            try ctx.emit(.globalAveragePool, for: node, inputs: [try ctx.requiredInput(node, 0)])
        },
        "ReduceMean": { ctx, node in
            let x = try ctx.requiredInput(node, 0)
            let rank = ctx.shape(x).count
            let axes = try ctx.constantInts(node, 1, "axes") ?? node.ints("axes") ?? []
            if axes.isEmpty, node.int("noop_with_empty_axes", default: 0) != 0 {
                ctx.aliases[node.output[0]] = x
                return
            }
            let normalized = try axes.map { try ctx.axis($0, rank: rank, node) }.sorted()
            try ctx.emit(.reduceMean(axes: normalized, keepDims: node.int("keepdims", default: 1) != 0), for: node, inputs: [x])
        },
        "BatchNormalization": { ctx, node in
            guard node.output.count == 1 || node.output.dropFirst().allSatisfy(\.isEmpty) else {
                throw ImportError("\(node.label): training-mode outputs (running mean/var) are not supported")
            }
            let inputs = try (0..<5).map { try ctx.requiredInput(node, $0) }
            let channels = ctx.shape(inputs[0]).count >= 2 ? ctx.shape(inputs[0])[1] : 0
            for (index, name) in ["scale", "bias", "mean", "var"].enumerated() where ctx.shape(inputs[index + 1]) != [channels] {
                throw ImportError("\(node.label): \(name) \(ctx.shape(inputs[index + 1])) must hold one value for each of the input's \(channels) channels")
            }
            if let variance = ctx.constants[inputs[4]]?.floats, variance.contains(where: { $0 < 0 }) {
                throw ImportError("\(node.label): its variance has negative values")
            }
            try ctx.emit(.batchNorm(epsilon: node.float("epsilon", default: 1e-5)), for: node, inputs: inputs)
        },
    ]

    static func poolAttributes(_ node: Onnx_NodeProto, _ ctx: ImportContext, _ input: [Int]) throws -> PoolAttributes {
        guard let kernel = node.ints("kernel_shape"), input.count == kernel.count + 2 else {
            throw ImportError("\(node.label): kernel_shape must give every spatial dimension of \(input)")
        }
        let strides = node.ints("strides") ?? Array(repeating: 1, count: kernel.count)
        guard node.ints("dilations")?.allSatisfy({ $0 == 1 }) ?? true else {
            throw ImportError("\(node.label): dilated pooling is not supported")
        }
        let pads = try Convolution.resolvePads(node, input: Array(input.dropFirst(2)), kernel: kernel, strides: strides)
        guard strides.count == kernel.count, pads.count == 2 * kernel.count else {
            throw ImportError("\(node.label): strides or pads do not fit the kernel \(kernel)")
        }
        try ctx.check(kernel + strides, within: 1...Convolution.windowLimit, "kernel_shape and strides", node)
        guard pads.indices.allSatisfy({ pads[$0] >= 0 && pads[$0] < kernel[$0 % kernel.count] }) else {
            throw ImportError("\(node.label): pads \(pads) must each be smaller than the kernel \(kernel)")
        }
        return PoolAttributes(kernel: kernel, strides: strides, pads: pads, ceilMode: node.int("ceil_mode", default: 0) != 0)
    }
}
