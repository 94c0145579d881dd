import COpenBLAS
import Graph

/// Gemm and MatMul on OpenBLAS.
enum Linear {
    static func gemm(a: Operand, b: Operand, c: Operand?, alpha: Float, beta: Float, transA: Bool, transB: Bool,
                     output: UnsafeMutablePointer<Float>, outputShape: [Int]) {
        let (m, n) = (outputShape[0], outputShape[1])
        let k = transA ? a.shape[0] : a.shape[1]
        var accumulate: Float = 0
        if let c, beta != 0 {
            Elementwise.broadcastCopy(c, to: outputShape, output: output)
            if beta != 1 { for i in 0..<m * n { output[i] *= beta } }
            accumulate = 1
        }
        if m == 1 {
            // One row (a batch of one): a matrix-vector product reads B once and packs nothing.
            cblas_sgemv(CblasRowMajor, transB ? CblasNoTrans : CblasTrans, Int32(b.shape[0]), Int32(b.shape[1]), alpha,
                        b.pointer, Int32(b.shape[1]), a.pointer, 1, accumulate, output, 1)
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a.pointer, Int32(a.shape[1]), b.pointer, Int32(b.shape[1]),
                    accumulate, output, Int32(n))
    }

    /// Numpy matmul with broadcast batch dimensions; a 2-D right operand shares one SGEMM.
    static func matMul(a: Operand, b: Operand, output: UnsafeMutablePointer<Float>, outputShape: [Int]) {
        let left = a.shape.count == 1 ? [1] + a.shape : a.shape
        let right = b.shape.count == 1 ? b.shape + [1] : b.shape
        let (m, k, n) = (left[left.count - 2], left[left.count - 1], right[right.count - 1])
        if right.count == 2 {
            let rows = left.dropLast().reduce(1, *)
            if rows == 1 {
                cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(n), 1, b.pointer, Int32(n), a.pointer, 1, 0, output, 1)
                return
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(n), Int32(k), 1, a.pointer, Int32(k),
                        b.pointer, Int32(n), 0, output, Int32(n))
            return
        }
        let batchShape = Array(outputShape.dropLast(a.shape.count > 1 && b.shape.count > 1 ? 2 : 1))
        let leftStrides = broadcastStrides(Array(left.dropLast(2)), to: batchShape, elementStride: m * k)
        let rightStrides = broadcastStrides(Array(right.dropLast(2)), to: batchShape, elementStride: k * n)
        var index = Array(repeating: 0, count: batchShape.count)
        for batch in 0..<batchShape.reduce(1, *) {
            var offsetA = 0, offsetB = 0
            for d in index.indices { offsetA += index[d] * leftStrides[d]; offsetB += index[d] * rightStrides[d] }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a.pointer + offsetA, Int32(k),
                        b.pointer + offsetB, Int32(n), 0, output + batch * m * n, Int32(n))
            advance(&index, shape: batchShape)
        }
    }
}
