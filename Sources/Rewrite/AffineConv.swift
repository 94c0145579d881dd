import Graph

/// A linear map written as one dense 2-D convolution on the zero-padded input: the common form
/// into which branch fusion turns convolutions, BatchNorms, average pools and identities.
///
/// `weight` is [outChannels, inChannels, kernelH, kernelW] (dense: a grouped convolution keeps
/// zeros off its block diagonal); y = conv(pad(x, pads), weight, stride) + bias.
/// Example: the identity on 4 channels is a 1×1 kernel with weight[o, i] = (o == i ? 1 : 0).
struct AffineConv {
    var weight: [Float]
    var outChannels: Int
    var inChannels: Int
    var kernel: (h: Int, w: Int)
    var bias: [Float]
    var stride: [Int]
    /// top, left, bottom, right
    var pads: [Int]

    func index(_ o: Int, _ i: Int, _ y: Int, _ x: Int) -> Int {
        ((o * inChannels + i) * kernel.h + y) * kernel.w + x
    }

    static func identity(channels: Int) -> AffineConv {
        var weight = [Float](repeating: 0, count: channels * channels)
        for c in 0..<channels { weight[c * channels + c] = 1 }
        return AffineConv(weight: weight, outChannels: channels, inChannels: channels, kernel: (1, 1),
                          bias: Array(repeating: 0, count: channels), stride: [1, 1], pads: [0, 0, 0, 0])
    }

    /// A grouped convolution made dense. Nil for dilated or non-2-D convolutions.
    static func conv(_ a: ConvAttributes, weight: Tensor, bias: Tensor?) -> AffineConv? {
        guard a.kernel.count == 2, a.dilations == [1, 1] else { return nil }
        let (outChannels, perGroup) = (weight.shape[0], weight.shape[1])
        let inChannels = perGroup * a.group, outPerGroup = outChannels / a.group
        var dense = AffineConv(weight: Array(repeating: 0, count: outChannels * inChannels * a.kernel[0] * a.kernel[1]),
                               outChannels: outChannels, inChannels: inChannels, kernel: (a.kernel[0], a.kernel[1]),
                               bias: bias?.floats ?? Array(repeating: 0, count: outChannels), stride: a.strides, pads: a.pads)
        let source = weight.floats
        for o in 0..<outChannels {
            for i in 0..<perGroup {
                for y in 0..<a.kernel[0] {
                    for x in 0..<a.kernel[1] {
                        dense.weight[dense.index(o, (o / outPerGroup) * perGroup + i, y, x)] =
                            source[((o * perGroup + i) * a.kernel[0] + y) * a.kernel[1] + x]
                    }
                }
            }
        }
        return dense
    }

    /// Average pooling that counts the padding: a 1/(kH·kW) kernel on the channel diagonal.
    static func averagePool(_ a: PoolAttributes, channels: Int) -> AffineConv {
        let area = Float(a.kernel[0] * a.kernel[1])
        var pool = AffineConv(weight: Array(repeating: 0, count: channels * channels * a.kernel[0] * a.kernel[1]),
                              outChannels: channels, inChannels: channels, kernel: (a.kernel[0], a.kernel[1]),
                              bias: Array(repeating: 0, count: channels), stride: a.strides, pads: a.pads)
        for c in 0..<channels {
            for y in 0..<a.kernel[0] { for x in 0..<a.kernel[1] { pool.weight[pool.index(c, c, y, x)] = 1 / area } }
        }
        return pool
    }

    /// This map followed by a per-channel affine y·scale + shift (a BatchNorm).
    func scaled(_ scale: [Float], shift: [Float]) -> AffineConv {
        var result = self
        let block = inChannels * kernel.h * kernel.w
        for o in 0..<outChannels {
            for j in 0..<block { result.weight[o * block + j] *= scale[o] }
            result.bias[o] = bias[o] * scale[o] + shift[o]
        }
        return result
    }

    /// `next` applied after this map, when this map is 1×1 with stride 1. Nil when that is not
    /// exact: `next` pads its input with zeros, and this map's bias would have to be there.
    /// `biasTolerance` is the largest bias still taken for zero.
    func followed(by next: AffineConv, biasTolerance: Float) -> AffineConv? {
        guard kernel == (1, 1), stride == [1, 1], next.inChannels == outChannels else { return nil }
        let padsAfter = next.pads.contains { $0 != 0 }
        if padsAfter && bias.contains(where: { abs($0) > biasTolerance }) { return nil }
        var result = AffineConv(weight: Array(repeating: 0, count: next.outChannels * inChannels * next.kernel.h * next.kernel.w),
                                outChannels: next.outChannels, inChannels: inChannels, kernel: next.kernel,
                                bias: next.bias, stride: next.stride, pads: zip(pads, next.pads).map(+))
        for o in 0..<next.outChannels {
            for m in 0..<outChannels {
                for y in 0..<next.kernel.h {
                    for x in 0..<next.kernel.w {
                        let w = next.weight[next.index(o, m, y, x)]
                        guard w != 0 else { continue }
                        result.bias[o] += w * bias[m]
                        for i in 0..<inChannels { result.weight[result.index(o, i, y, x)] += w * weight[index(m, i, 0, 0)] }
                    }
                }
            }
        }
        return result
    }

    /// The same map on a larger kernel with larger padding: zero rows and columns around the old
    /// kernel. Nil when the old kernel does not sit inside the new window at its padding.
    /// Example: a 1×1 kernel with pads 0 inside a 3×3 with pads 1 lands at the center.
    func embedded(kernel target: (h: Int, w: Int), pads targetPads: [Int]) -> AffineConv? {
        let top = targetPads[0] - pads[0], left = targetPads[1] - pads[1]
        let bottom = targetPads[2] - pads[2], right = targetPads[3] - pads[3]
        guard top >= 0, left >= 0, bottom >= 0, right >= 0,
              top + kernel.h + bottom == target.h, left + kernel.w + right == target.w else { return nil }
        var result = AffineConv(weight: Array(repeating: 0, count: outChannels * inChannels * target.h * target.w),
                                outChannels: outChannels, inChannels: inChannels, kernel: target, bias: bias,
                                stride: stride, pads: targetPads)
        for o in 0..<outChannels {
            for i in 0..<inChannels {
                for y in 0..<kernel.h {
                    for x in 0..<kernel.w { result.weight[result.index(o, i, y + top, x + left)] = weight[index(o, i, y, x)] }
                }
            }
        }
        return result
    }

    /// The grouped weight [out, in/group, kH, kW], or nil when the dense weight has entries off
    /// the group's block diagonal.
    func groupedWeight(group: Int) -> Tensor? {
        guard inChannels % group == 0, outChannels % group == 0 else { return nil }
        let perGroup = inChannels / group, outPerGroup = outChannels / group
        var values = [Float](repeating: 0, count: outChannels * perGroup * kernel.h * kernel.w)
        for o in 0..<outChannels {
            let g = o / outPerGroup
            for i in 0..<inChannels {
                for y in 0..<kernel.h {
                    for x in 0..<kernel.w {
                        let w = weight[index(o, i, y, x)]
                        if i / perGroup == g {
                            values[((o * perGroup + i % perGroup) * kernel.h + y) * kernel.w + x] = w
                        } else if w != 0 {
                            return nil
                        }
                    }
                }
            }
        }
        return Tensor(shape: [outChannels, perGroup, kernel.h, kernel.w], floats: values)
    }
}
