import Graph
import ONNXProto

/// Binary arithmetic, activations and Softmax.
enum Elementwise {
    static let table: [String: OpImporter] = {
        var table: [String: OpImporter] = [:]
        let binary: [String: Op] = ["Add": .add, "Sub": .sub, "Mul": .mul, "Div": .div, "Pow": .pow]
        for (name, op) in binary {
            table[name] = { ctx, node in
                guard ctx.opset >= 7 || node.int("broadcast", default: 0) == 0 || node.attribute("axis") == nil else {
                    throw ImportError("\(node.label): legacy broadcast with an axis is not supported")
                }
                try ctx.emit(op, for: node, inputs: [try ctx.requiredInput(node, 0), try ctx.requiredInput(node, 1)])
            }
        }
        let unary: [String: Op] = ["Relu": .relu, "Sigmoid": .sigmoid, "Sqrt": .sqrt, "Erf": .erf, "Exp": .exp,
                                   "Tanh": .tanh, "HardSwish": .hardSwish]
        for (name, op) in unary {
            table[name] = { ctx, node in try ctx.emit(op, for: node, inputs: [try ctx.requiredInput(node, 0)]) }
        }
        table["HardSigmoid"] = { ctx, node in
            let op = Op.hardSigmoid(alpha: node.float("alpha", default: 0.2), beta: node.float("beta", default: 0.5))
            try ctx.emit(op, for: node, inputs: [try ctx.requiredInput(node, 0)])
        }
        table["Clip"] = { ctx, node in
            var low = -Float.greatestFiniteMagnitude, high = Float.greatestFiniteMagnitude
            if ctx.opset < 11 {
                low = node.float("min", default: low)
                high = node.float("max", default: high)
            } else {
                for (index, name) in [(1, "min"), (2, "max")] where ctx.input(node, index) != nil {
                    guard let value = ctx.constant(node, index)?.floats.first else {
                        throw ImportError("\(node.label): its \(name) input is computed at run time; only constant bounds are supported")
                    }
                    if index == 1 { low = value } else { high = value }
                }
            }
            guard !low.isNaN, !high.isNaN else { throw ImportError("\(node.label): its bounds are NaN") }
            low = min(low, high) // the ONNX spec: with min above max, every output is max
            try ctx.emit(.clip(min: low, max: high), for: node, inputs: [try ctx.requiredInput(node, 0)])
        }
        table["Softmax"] = { ctx, node in
            let x = try ctx.requiredInput(node, 0)
            let rank = ctx.shape(x).count
            let axis = try ctx.axis(node.int("axis", default: ctx.opset < 13 ? 1 : -1), rank: rank, node)
            // Before opset 13 Softmax flattens to 2-D at `axis`; that equals the last-axis form only
            // when the axis is the last one.
            guard ctx.opset >= 13 || axis == rank - 1 || ctx.shape(x).dropFirst(axis + 1).allSatisfy({ $0 == 1 }) else {
                throw ImportError("\(node.label): opset-\(ctx.opset) Softmax over several axes is not supported")
            }
            try ctx.emit(.softmax(axis: ctx.opset >= 13 ? axis : rank - 1), for: node, inputs: [x])
        }
        return table
    }()
}
