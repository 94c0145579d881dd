import Graph

/// Forward and backward of every op on `Buffer`s, switched over `Op` in one place each; the
/// families live beside it (`ConvolutionGradients`, `LinearGradients`, …).
enum Differentiable {
    /// The op's output. `saved` receives what its backward needs beyond inputs and output.
    /// `training` makes BatchNorm normalize by the batch's statistics.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func forward<T: TrainingScalar>(_ op: Op, _ x: [Buffer<T>], outputShape: [Int], training: Bool,
                                           saved: inout [Int]) throws -> Buffer<T> {
        switch op {
        case .conv(let a):
            guard a.kernel.count == 2 else { throw notBuilt(op, "with \(a.kernel.count) spatial dimensions") }
            return ConvolutionGradients.forward(a, x: x[0], w: x[1], bias: x.count > 2 ? x[2] : nil, outputShape: outputShape)
        case .gemm(let alpha, let beta, let transA, let transB):
            return LinearGradients.gemm(x[0], x[1], x.count > 2 ? x[2] : nil, alpha: T(alpha), beta: T(beta), transA: transA,
                                        transB: transB, outputShape: outputShape)
        case .matMul:
            guard x[1].shape.count == 2, x[0].shape.count >= 2 else { throw notBuilt(op, "unless the second operand is 2-D") }
            return LinearGradients.matMul(x[0], x[1], outputShape: outputShape)
        case .add, .sub, .mul, .div, .pow:
            return ElementwiseGradients.binary(op, x[0], x[1], outputShape: outputShape)
        case .relu, .sigmoid, .sqrt, .erf, .exp, .tanh, .clip, .hardSigmoid, .hardSwish:
            return ElementwiseGradients.unary(op, x[0])
        case .softmax(let axis):
            return ElementwiseGradients.softmax(x[0], axis: axis)
        case .batchNorm(let epsilon):
            return training ? ElementwiseGradients.batchNormTraining(x, epsilon: T(epsilon))
                            : ElementwiseGradients.batchNorm(x, epsilon: T(epsilon))
        case .maxPool(let a), .averagePool(let a, _):
            guard a.kernel.count == 2 else { throw notBuilt(op, "with \(a.kernel.count) spatial dimensions") }
            if case .averagePool(_, let countIncludePad) = op {
                return PoolingGradients.average(a, x[0], countIncludePad: countIncludePad, outputShape: outputShape)
            }
            return PoolingGradients.maximum(a, x[0], outputShape: outputShape, positions: &saved)
        case .globalAveragePool:
            return PoolingGradients.mean(x[0], axes: Array(2..<x[0].shape.count), outputShape: outputShape)
        case .reduceMean(let axes, _):
            return PoolingGradients.mean(x[0], axes: axes.isEmpty ? Array(x[0].shape.indices) : axes, outputShape: outputShape)
        case .reshape, .flatten, .squeeze, .unsqueeze:
            return Buffer(shape: outputShape, values: x[0].values)
        case .transpose(let perm):
            return ShapeGradients.transpose(x[0], perm: perm)
        case .concat(let axis):
            return ShapeGradients.concat(x, axis: axis, outputShape: outputShape)
        case .convTranspose(let a, _):
            guard a.kernel.count == 2 else { throw notBuilt(op, "with \(a.kernel.count) spatial dimensions") }
            return ConvolutionGradients.transposedForward(a, x: x[0], w: x[1], bias: x.count > 2 ? x[2] : nil, outputShape: outputShape)
        case .slice, .pad, .resize:
            return GatherMap<T>.of(op, input: x[0].shape, output: outputShape).apply(x[0], outputShape: outputShape)
        }
    }

    /// The gradients of the op's inputs (nil for an input it does not depend on), given its
    /// output's gradient.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func backward<T: TrainingScalar>(_ op: Op, _ x: [Buffer<T>], output y: Buffer<T>, gradient dy: Buffer<T>,
                                            training: Bool, saved: [Int], parameters: Bool = true) throws -> [Buffer<T>?] {
        switch op {
        case .conv(let a):
            return ConvolutionGradients.backward(a, x: x[0], w: x[1], hasBias: x.count > 2, dy: dy, parameters: parameters)
        case .gemm(let alpha, let beta, let transA, let transB):
            return LinearGradients.gemmBackward(x[0], x[1], x.count > 2 ? x[2] : nil, alpha: T(alpha), beta: T(beta),
                                                transA: transA, transB: transB, dy: dy)
        case .matMul:
            return LinearGradients.matMulBackward(x[0], x[1], dy: dy)
        case .add, .sub, .mul, .div, .pow:
            return ElementwiseGradients.binaryBackward(op, x[0], x[1], dy: dy)
        case .relu, .sigmoid, .sqrt, .erf, .exp, .tanh, .clip, .hardSigmoid, .hardSwish:
            return [ElementwiseGradients.unaryBackward(op, x[0], y, dy: dy)]
        case .softmax(let axis):
            return [ElementwiseGradients.softmaxBackward(y, axis: axis, dy: dy)]
        case .batchNorm(let epsilon):
            return training ? ElementwiseGradients.batchNormTrainingBackward(x, epsilon: T(epsilon), dy: dy)
                            : ElementwiseGradients.batchNormBackward(x, epsilon: T(epsilon), dy: dy)
        case .maxPool:
            return [PoolingGradients.maxBackward(x[0], positions: saved, dy: dy)]
        case .averagePool(let a, let countIncludePad):
            return [PoolingGradients.averageBackward(a, x[0], countIncludePad: countIncludePad, dy: dy)]
        case .globalAveragePool:
            return [PoolingGradients.meanBackward(x[0], axes: Array(2..<x[0].shape.count), dy: dy)]
        case .reduceMean(let axes, _):
            return [PoolingGradients.meanBackward(x[0], axes: axes.isEmpty ? Array(x[0].shape.indices) : axes, dy: dy)]
        case .reshape, .flatten, .squeeze, .unsqueeze:
            return [Buffer(shape: x[0].shape, values: dy.values)]
        case .transpose(let perm):
            var inverse = perm
            for (i, p) in perm.enumerated() { inverse[p] = i }
            return [ShapeGradients.transpose(dy, perm: inverse)]
        case .concat(let axis):
            return ShapeGradients.split(dy, axis: axis, shapes: x.map(\.shape))
        case .convTranspose(let a, _):
            return ConvolutionGradients.transposedBackward(a, x: x[0], w: x[1], hasBias: x.count > 2, dy: dy)
        case .slice, .pad, .resize:
            return [GatherMap<T>.of(op, input: x[0].shape, output: dy.shape).adjoint(dy, inputShape: x[0].shape)]
        }
    }

    private static func notBuilt(_ op: Op, _ condition: String) -> EngineError {
        EngineError("training does not differentiate \(op.name) \(condition)")
    }
}
