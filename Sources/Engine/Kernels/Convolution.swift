import COpenBLAS
import Graph

/// 2-D convolution: im2col + SGEMM per image and group, a direct loop for depthwise, and
/// SGEMM straight on the input for 1×1 stride-1 unpadded convolutions.
enum Convolution {
    static func isPointwise(_ a: ConvAttributes) -> Bool {
        a.kernel == [1, 1] && a.strides == [1, 1] && a.pads.allSatisfy { $0 == 0 }
    }

    static func isDepthwise(_ a: ConvAttributes, weight: [Int]) -> Bool {
        a.group > 1 && weight[1] == 1
    }

    static func columnsSize(_ a: ConvAttributes, input: [Int], weight: [Int], output: [Int]) -> Int {
        if isPointwise(a) || isDepthwise(a, weight: weight) { return 0 }
        return weight[1] * a.kernel[0] * a.kernel[1] * output[2] * output[3]
    }

    static func transposedColumnsSize(_ a: ConvAttributes, input: [Int], weight: [Int]) -> Int {
        (weight[1]) * a.kernel[0] * a.kernel[1] * input[2] * input[3]
    }

    static func conv(_ a: ConvAttributes, x: Operand, w: Operand, bias: Operand?, output: UnsafeMutablePointer<Float>,
                     outputShape: [Int], columns: UnsafeMutablePointer<Float>) {
        let (batch, inChannels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (outChannels, outHeight, outWidth) = (outputShape[1], outputShape[2], outputShape[3])
        let groupIn = inChannels / a.group, groupOut = outChannels / a.group
        let kernelSize = groupIn * a.kernel[0] * a.kernel[1]
        let outPlane = outHeight * outWidth, inPlane = height * width

        if isDepthwise(a, weight: w.shape) {
            depthwise(a, x: x, w: w, output: output, outputShape: outputShape)
        } else {
            for n in 0..<batch {
                for g in 0..<a.group {
                    let image = x.pointer + (n * inChannels + g * groupIn) * inPlane
                    let result = output + (n * outChannels + g * groupOut) * outPlane
                    let source: UnsafePointer<Float>
                    if isPointwise(a) {
                        source = image
                    } else {
                        im2col(a, image: image, channels: groupIn, height: height, width: width,
                               outHeight: outHeight, outWidth: outWidth, columns: columns)
                        source = UnsafePointer(columns)
                    }
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(groupOut), Int32(outPlane), Int32(kernelSize),
                                1, w.pointer + g * groupOut * kernelSize, Int32(kernelSize), source, Int32(outPlane),
                                0, result, Int32(outPlane))
                }
            }
        }
        if let bias { addBias(bias.pointer, output, batch: batch, channels: outChannels, plane: outPlane) }
    }

    /// Unfolds receptive fields: row (c·kH + ky)·kW + kx, column oy·outWidth + ox.
    private static func im2col(_ a: ConvAttributes, image: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                               outHeight: Int, outWidth: Int, columns: UnsafeMutablePointer<Float>) {
        let (kh, kw) = (a.kernel[0], a.kernel[1])
        let (sh, sw) = (a.strides[0], a.strides[1])
        let (dh, dw) = (a.dilations[0], a.dilations[1])
        let (top, left) = (a.pads[0], a.pads[1])
        var row = columns
        for c in 0..<channels {
            let plane = image + c * height * width
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let (first, last) = validRange(offset: kx * dw - left, stride: sw, input: width, outputs: outWidth)
                    for oy in 0..<outHeight {
                        let iy = oy * sh + ky * dh - top
                        let out = row + oy * outWidth
                        guard iy >= 0 && iy < height else {
                            out.update(repeating: 0, count: outWidth)
                            continue
                        }
                        let line = plane + iy * width + kx * dw - left
                        if first > 0 { out.update(repeating: 0, count: first) }
                        if sw == 1 {
                            if last > first { (out + first).update(from: line + first, count: last - first) }
                        } else {
                            var ox = first
                            while ox < last { out[ox] = line[ox * sw]; ox += 1 }
                        }
                        if last < outWidth { (out + max(last, first)).update(repeating: 0, count: outWidth - max(last, first)) }
                    }
                    row += outHeight * outWidth
                }
            }
        }
    }

    /// Output positions o in [first, last) whose input o·stride + offset lies inside [0, input).
    /// Example: offset −1, stride 2, input 5, outputs 3 → [1, 3) (inputs 1 and 3).
    static func validRange(offset: Int, stride: Int, input: Int, outputs: Int) -> (Int, Int) {
        let first = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let last = input - offset <= 0 ? 0 : (input - 1 - offset) / stride + 1
        return (min(first, outputs), max(min(last, outputs), min(first, outputs)))
    }

    /// Group convolution with one input channel per group (depthwise, with any multiplier).
    private static func depthwise(_ a: ConvAttributes, x: Operand, w: Operand, output: UnsafeMutablePointer<Float>, outputShape: [Int]) {
        let (batch, inChannels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (outChannels, outHeight, outWidth) = (outputShape[1], outputShape[2], outputShape[3])
        let (kh, kw) = (a.kernel[0], a.kernel[1])
        let (sh, sw) = (a.strides[0], a.strides[1])
        let (dh, dw) = (a.dilations[0], a.dilations[1])
        let (top, left) = (a.pads[0], a.pads[1])
        let multiplier = outChannels / a.group
        let ranges = (0..<kw).map { kx in validRange(offset: kx * dw - left, stride: sw, input: width, outputs: outWidth) }
        for n in 0..<batch {
            for oc in 0..<outChannels {
                let plane = x.pointer + (n * inChannels + oc / multiplier) * height * width
                let out = output + (n * outChannels + oc) * outHeight * outWidth
                let kernel = w.pointer + oc * kh * kw
                out.update(repeating: 0, count: outHeight * outWidth)
                for oy in 0..<outHeight {
                    let row = out + oy * outWidth
                    for ky in 0..<kh {
                        let iy = oy * sh + ky * dh - top
                        guard iy >= 0 && iy < height else { continue }
                        let line = plane + iy * width
                        for kx in 0..<kw {
                            let weight = kernel[ky * kw + kx]
                            let (first, last) = ranges[kx]
                            let base = line + kx * dw - left
                            if sw == 1 {
                                for ox in first..<last { row[ox] += weight * base[ox] }
                            } else {
                                for ox in first..<last { row[ox] += weight * base[ox * sw] }
                            }
                        }
                    }
                }
            }
        }
    }

    static func convTranspose(_ a: ConvAttributes, x: Operand, w: Operand, bias: Operand?, output: UnsafeMutablePointer<Float>,
                              outputShape: [Int], columns: UnsafeMutablePointer<Float>) {
        let (batch, inChannels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (outChannels, outHeight, outWidth) = (outputShape[1], outputShape[2], outputShape[3])
        let groupIn = inChannels / a.group, groupOut = outChannels / a.group
        let (kh, kw) = (a.kernel[0], a.kernel[1])
        let rows = groupOut * kh * kw, plane = height * width
        output.update(repeating: 0, count: outputShape.reduce(1, *))
        for n in 0..<batch {
            for g in 0..<a.group {
                // columns[(m·kH + ky)·kW + kx, pixel] = Σ_c w[c, m, ky, kx] · x[c, pixel]
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(rows), Int32(plane), Int32(groupIn),
                            1, w.pointer + g * groupIn * rows, Int32(rows), x.pointer + (n * inChannels + g * groupIn) * plane,
                            Int32(plane), 0, columns, Int32(plane))
                let result = output + (n * outChannels + g * groupOut) * outHeight * outWidth
                for m in 0..<groupOut {
                    for ky in 0..<kh {
                        for kx in 0..<kw {
                            let column = columns + ((m * kh + ky) * kw + kx) * plane
                            for iy in 0..<height {
                                let oy = iy * a.strides[0] + ky * a.dilations[0] - a.pads[0]
                                guard oy >= 0 && oy < outHeight else { continue }
                                let out = result + (m * outHeight + oy) * outWidth
                                for ix in 0..<width {
                                    let ox = ix * a.strides[1] + kx * a.dilations[1] - a.pads[1]
                                    if ox >= 0 && ox < outWidth { out[ox] += column[iy * width + ix] }
                                }
                            }
                        }
                    }
                }
            }
        }
        if let bias { addBias(bias.pointer, output, batch: batch, channels: outChannels, plane: outHeight * outWidth) }
    }

    static func addBias(_ bias: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, batch: Int, channels: Int, plane: Int) {
        for n in 0..<batch {
            for c in 0..<channels {
                let out = output + (n * channels + c) * plane
                let b = bias[c]
                for i in 0..<plane { out[i] += b }
            }
        }
    }
}
