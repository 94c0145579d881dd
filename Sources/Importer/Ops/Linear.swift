import Graph
import ONNXProto

/// Gemm and MatMul.
enum Linear {
    static let table: [String: OpImporter] = [
        "Gemm": { ctx, node in
            let (a, b) = (try ctx.requiredInput(node, 0), try ctx.requiredInput(node, 1))
            let op = Op.gemm(alpha: node.float("alpha", default: 1), beta: node.float("beta", default: 1),
                             transA: node.int("transA", default: 0) != 0, transB: node.int("transB", default: 0) != 0)
            try ctx.emit(op, for: node, inputs: [a, b] + [ctx.input(node, 2)].compactMap { $0 })
        },
        "MatMul": { ctx, node in
            try ctx.emit(.matMul, for: node, inputs: [try ctx.requiredInput(node, 0), try ctx.requiredInput(node, 1)])
        },
    ]
}
