import Graph

/// Unary maps and numpy-broadcast binary ops.
enum Elementwise {
    @inline(__always)
    static func unary(_ x: Operand, _ output: UnsafeMutablePointer<Float>, _ f: (Float) -> Float) {
        for i in 0..<x.count { output[i] = f(x.pointer[i]) }
    }

    @inline(__always)
    static func binary(_ a: Operand, _ b: Operand, _ output: UnsafeMutablePointer<Float>, _ shape: [Int], _ f: (Float, Float) -> Float) {
        let count = shape.reduce(1, *)
        if a.count == count && b.count == count {
            for i in 0..<count { output[i] = f(a.pointer[i], b.pointer[i]) }
            return
        }
        if a.count == count && b.count == 1 {
            let y = b.pointer[0]
            for i in 0..<count { output[i] = f(a.pointer[i], y) }
            return
        }
        guard let inner = shape.last, inner > 0 else { return }
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
        let outerShape = Array(shape.dropLast())
        let (ia, ib) = (sa.last!, sb.last!)
        var index = Array(repeating: 0, count: outerShape.count)
        var out = output
        for _ in 0..<count / inner {
            var pa = a.pointer, pb = b.pointer
            for d in index.indices { pa += index[d] * sa[d]; pb += index[d] * sb[d] }
            for i in 0..<inner { out[i] = f(pa[i * ia], pb[i * ib]) }
            out += inner
            advance(&index, shape: outerShape)
        }
    }

    /// Writes `source` broadcast to `shape`.
    static func broadcastCopy(_ source: Operand, to shape: [Int], output: UnsafeMutablePointer<Float>) {
        var zero: Float = 0
        withUnsafePointer(to: &zero) { binary(source, Operand(pointer: $0, shape: [1]), output, shape) { x, _ in x } }
    }

    /// Clamps in place, written as selects so the loop vectorizes.
    @inline(__always)
    static func clamp(_ values: UnsafeMutablePointer<Float>, count: Int, low: Float, high: Float) {
        guard low > -.infinity || high < .infinity else { return }
        for i in 0..<count {
            let v = values[i]
            values[i] = v < low ? low : (v > high ? high : v)
        }
    }
}
