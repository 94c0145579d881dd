import Graph

/// Gemm (Y = alpha · op(A) · op(B) + beta · C) and MatMul ([…, N, K] · [K, M]) for training.
enum LinearGradients {
    static func gemm<T: TrainingScalar>(_ a: Buffer<T>, _ b: Buffer<T>, _ c: Buffer<T>?, alpha: T, beta: T, transA: Bool, transB: Bool,
                                        outputShape: [Int]) -> Buffer<T> {
        let (n, m) = (outputShape[0], outputShape[1]), k = transA ? a.shape[0] : a.shape[1]
        var y = Buffer<T>(zeros: outputShape)
        a.values.withUnsafeBufferPointer { pa in b.values.withUnsafeBufferPointer { pb in y.values.withUnsafeMutableBufferPointer { py in
            T.gemm(transA: transA, transB: transB, m: n, n: m, k: k, alpha: alpha, a: pa.baseAddress!, lda: transA ? n : k,
                   b: pb.baseAddress!, ldb: transB ? k : m, beta: 0, c: py.baseAddress!, ldc: m)
        } } }
        if let c {
            let index = ElementwiseGradients.broadcastIndex(c.shape, to: outputShape)
            for i in y.values.indices { y.values[i] += beta * c.values[index[i]] }
        }
        return y
    }

    static func gemmBackward<T: TrainingScalar>(_ a: Buffer<T>, _ b: Buffer<T>, _ c: Buffer<T>?, alpha: T, beta: T, transA: Bool,
                                                transB: Bool, dy: Buffer<T>) -> [Buffer<T>?] {
        let (n, m) = (dy.shape[0], dy.shape[1]), k = transA ? a.shape[0] : a.shape[1]
        var da = Buffer<T>(zeros: a.shape), db = Buffer<T>(zeros: b.shape)
        a.values.withUnsafeBufferPointer { pa in b.values.withUnsafeBufferPointer { pb in dy.values.withUnsafeBufferPointer { pdy in
            da.values.withUnsafeMutableBufferPointer { pda in db.values.withUnsafeMutableBufferPointer { pdb in
                if transA { // dA [K, N] = alpha · op(B) · dYᵀ
                    T.gemm(transA: transB, transB: true, m: k, n: n, k: m, alpha: alpha, a: pb.baseAddress!, lda: transB ? k : m,
                           b: pdy.baseAddress!, ldb: m, beta: 0, c: pda.baseAddress!, ldc: n)
                } else { // dA [N, K] = alpha · dY · op(B)ᵀ
                    T.gemm(transA: false, transB: !transB, m: n, n: k, k: m, alpha: alpha, a: pdy.baseAddress!, lda: m,
                           b: pb.baseAddress!, ldb: transB ? k : m, beta: 0, c: pda.baseAddress!, ldc: k)
                }
                if transB { // dB [M, K] = alpha · dYᵀ · op(A)
                    T.gemm(transA: true, transB: transA, m: m, n: k, k: n, alpha: alpha, a: pdy.baseAddress!, lda: m,
                           b: pa.baseAddress!, ldb: transA ? n : k, beta: 0, c: pdb.baseAddress!, ldc: k)
                } else { // dB [K, M] = alpha · op(A)ᵀ · dY
                    T.gemm(transA: !transA, transB: false, m: k, n: m, k: n, alpha: alpha, a: pa.baseAddress!, lda: transA ? n : k,
                           b: pdy.baseAddress!, ldb: m, beta: 0, c: pdb.baseAddress!, ldc: m)
                }
            } }
        } } }
        guard let c else { return [da, db] }
        var dc = ElementwiseGradients.reduce(dy, to: c.shape)
        for i in dc.values.indices { dc.values[i] *= beta }
        return [da, db, dc]
    }

    static func matMul<T: TrainingScalar>(_ a: Buffer<T>, _ b: Buffer<T>, outputShape: [Int]) -> Buffer<T> {
        let (k, m) = (b.shape[0], b.shape[1]), rows = a.count / max(k, 1)
        var y = Buffer<T>(zeros: outputShape)
        a.values.withUnsafeBufferPointer { pa in b.values.withUnsafeBufferPointer { pb in y.values.withUnsafeMutableBufferPointer { py in
            T.gemm(transA: false, transB: false, m: rows, n: m, k: k, alpha: 1, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: m,
                   beta: 0, c: py.baseAddress!, ldc: m)
        } } }
        return y
    }

    static func matMulBackward<T: TrainingScalar>(_ a: Buffer<T>, _ b: Buffer<T>, dy: Buffer<T>) -> [Buffer<T>?] {
        let (k, m) = (b.shape[0], b.shape[1]), rows = a.count / max(k, 1)
        var da = Buffer<T>(zeros: a.shape), db = Buffer<T>(zeros: b.shape)
        a.values.withUnsafeBufferPointer { pa in b.values.withUnsafeBufferPointer { pb in dy.values.withUnsafeBufferPointer { pdy in
            da.values.withUnsafeMutableBufferPointer { pda in db.values.withUnsafeMutableBufferPointer { pdb in
                T.gemm(transA: false, transB: true, m: rows, n: k, k: m, alpha: 1, a: pdy.baseAddress!, lda: m, b: pb.baseAddress!, ldb: m,
                       beta: 0, c: pda.baseAddress!, ldc: k)
                T.gemm(transA: true, transB: false, m: k, n: m, k: rows, alpha: 1, a: pa.baseAddress!, lda: k, b: pdy.baseAddress!, ldb: m,
                       beta: 0, c: pdb.baseAddress!, ldc: m)
            } }
        } } }
        return [da, db]
    }
}
