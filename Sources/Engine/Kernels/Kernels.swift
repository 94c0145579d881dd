import Foundation
import Graph

/// The float kernels, one entry point switched over `Op`.
enum Kernels {
    /// Floats of scratch memory the op needs (im2col columns and the like).
    static func scratchSize(_ op: Op, inputs: [[Int]], output: [Int]) throws -> Int {
        switch op {
        case .conv(let a):
            try requireTwoDimensional(a, op)
            return Convolution.columnsSize(a, input: inputs[0], weight: inputs[1], output: output)
        case .convTranspose(let a, _):
            try requireTwoDimensional(a, op)
            return Convolution.transposedColumnsSize(a, input: inputs[0], weight: inputs[1])
        case .maxPool(let a), .averagePool(let a, _):
            guard a.kernel.count == 2 else { throw EngineError("\(op.name) with \(a.kernel.count) spatial dimensions is not supported (2 are)") }
            return 0
        case .resize:
            guard output.count == 4 else { throw EngineError("Resize of rank \(output.count) is not supported (NCHW is)") }
            return 0
        default:
            return 0
        }
    }

    private static func requireTwoDimensional(_ a: ConvAttributes, _ op: Op) throws {
        guard a.kernel.count == 2 else { throw EngineError("\(op.name) with \(a.kernel.count) spatial dimensions is not supported (2 are)") }
    }

    /// Runs `op`; `activation`, folded in from a following Relu/Clip, only comes with Conv and
    /// Gemm, and `addend`, folded in from a following Add, only with Conv (see `Plan.fuseEpilogues`).
    static func run(_ op: Op, inputs: [Operand], output: UnsafeMutablePointer<Float>, outputShape: [Int],
                    activation: Activation?, addend: UnsafePointer<Float>?, scratch: UnsafeMutablePointer<Float>) {
        let count = outputShape.reduce(1, *)
        switch op {
        case .conv(let a):
            Convolution.conv(a, x: inputs[0], w: inputs[1], bias: inputs.count > 2 ? inputs[2] : nil, output: output,
                             outputShape: outputShape, activation: activation, addend: addend, columns: scratch)
        case .convTranspose(let a, _):
            Convolution.convTranspose(a, x: inputs[0], w: inputs[1], bias: inputs.count > 2 ? inputs[2] : nil,
                                      output: output, outputShape: outputShape, columns: scratch)
        case .gemm(let alpha, let beta, let transA, let transB):
            Linear.gemm(a: inputs[0], b: inputs[1], c: inputs.count > 2 ? inputs[2] : nil, alpha: alpha, beta: beta,
                        transA: transA, transB: transB, output: output, outputShape: outputShape)
            activation?.apply(output, count: count)
        case .matMul:
            Linear.matMul(a: inputs[0], b: inputs[1], output: output, outputShape: outputShape)
        case .add: Elementwise.binary(inputs[0], inputs[1], output, outputShape, +)
        case .sub: Elementwise.binary(inputs[0], inputs[1], output, outputShape, -)
        case .mul: Elementwise.binary(inputs[0], inputs[1], output, outputShape, *)
        case .div: Elementwise.binary(inputs[0], inputs[1], output, outputShape, /)
        case .pow: Elementwise.binary(inputs[0], inputs[1], output, outputShape) { Foundation.pow($0, $1) }
        case .relu: Elementwise.unary(inputs[0], output) { max($0, 0) }
        case .sigmoid: Elementwise.unary(inputs[0], output) { 1 / (1 + Foundation.exp(-$0)) }
        case .sqrt: Elementwise.unary(inputs[0], output) { $0.squareRoot() }
        case .erf: Elementwise.unary(inputs[0], output) { Foundation.erf($0) }
        case .exp: Elementwise.unary(inputs[0], output) { Foundation.exp($0) }
        case .tanh: Elementwise.unary(inputs[0], output) { Foundation.tanh($0) }
        case .clip(let low, let high): Elementwise.unary(inputs[0], output) { $0 < low ? low : ($0 > high ? high : $0) }
        case .hardSigmoid(let alpha, let beta): Elementwise.unary(inputs[0], output) { min(max(alpha * $0 + beta, 0), 1) }
        case .hardSwish: Elementwise.unary(inputs[0], output) { $0 * min(max($0 / 6 + 0.5, 0), 1) }
        case .softmax(let axis): Normalization.softmax(inputs[0], axis: axis, output: output)
        case .batchNorm(let epsilon): Normalization.batchNorm(inputs, epsilon: epsilon, output: output)
        case .maxPool(let a): Pooling.pool(a, max: true, countIncludePad: false, x: inputs[0], output: output, outputShape: outputShape)
        case .averagePool(let a, let countIncludePad):
            Pooling.pool(a, max: false, countIncludePad: countIncludePad, x: inputs[0], output: output, outputShape: outputShape)
        case .globalAveragePool: Pooling.globalAverage(inputs[0], output: output)
        case .reduceMean(let axes, _): Pooling.reduceMean(inputs[0], axes: axes, output: output)
        case .reshape, .flatten, .squeeze, .unsqueeze: output.update(from: inputs[0].pointer, count: count)
        case .transpose(let perm): DataMovement.transpose(inputs[0], perm: perm, output: output)
        case .concat(let axis): DataMovement.concat(inputs, axis: axis, output: output, outputShape: outputShape)
        case .slice(let starts, let ends, let axes, let steps):
            DataMovement.slice(inputs[0], starts: starts, ends: ends, axes: axes, steps: steps, output: output, outputShape: outputShape)
        case .pad(let pads, let value, let mode): DataMovement.pad(inputs[0], pads: pads, value: value, mode: mode, output: output, outputShape: outputShape)
        case .resize(let a): DataMovement.resize(inputs[0], a, output: output, outputShape: outputShape)
        }
    }
}
