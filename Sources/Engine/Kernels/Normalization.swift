import Foundation
import Graph

/// BatchNormalization (inference form) and Softmax.
enum Normalization {
    /// y = (x − mean) / √(var + ε) · scale + bias, per channel (axis 1).
    static func batchNorm(_ inputs: [Operand], epsilon: Float, output: UnsafeMutablePointer<Float>) {
        let x = inputs[0]
        let (scale, bias, mean, variance) = (inputs[1].pointer, inputs[2].pointer, inputs[3].pointer, inputs[4].pointer)
        let channels = x.shape.count > 1 ? x.shape[1] : 1
        let plane = x.shape.dropFirst(2).reduce(1, *)
        for n in 0..<x.shape[0] {
            for c in 0..<channels {
                let factor = scale[c] / (variance[c] + epsilon).squareRoot()
                let shift = bias[c] - mean[c] * factor
                let offset = (n * channels + c) * plane
                for i in offset..<offset + plane { output[i] = x.pointer[i] * factor + shift }
            }
        }
    }

    static func softmax(_ x: Operand, axis: Int, output: UnsafeMutablePointer<Float>) {
        let length = x.shape[axis]
        let inner = x.shape.dropFirst(axis + 1).reduce(1, *)
        let outer = x.shape.prefix(axis).reduce(1, *)
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var largest = -Float.infinity
                for j in 0..<length { largest = max(largest, x.pointer[base + j * inner]) }
                var total: Float = 0
                for j in 0..<length {
                    let e = Foundation.exp(x.pointer[base + j * inner] - largest)
                    output[base + j * inner] = e
                    total += e
                }
                for j in 0..<length { output[base + j * inner] /= total }
            }
        }
    }
}
