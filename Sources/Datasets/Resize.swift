/// Bilinear resampling with antialiasing when shrinking, in Pillow's fixed-point arithmetic
/// (`Image.resize(size, BILINEAR)`): the filter widens by the shrink factor, coefficients are
/// 22-bit fixed point, and each pass (horizontal, then vertical) rounds to 8 bits.
///
/// Example: shrinking 512 → 256 columns, output column 0 has center 1.0 and support 2, so it
/// reads input columns 0–2 with weights 0.75·, 0.75·, 0.25· normalized to 3/7, 3/7, 1/7.
extension RGBImage {
    public func resized(width newWidth: Int, height newHeight: Int) -> RGBImage {
        var image = self
        if newWidth != width { image = image.resampledRows(to: newWidth) }
        if newHeight != height { image = image.transposed().resampledRows(to: newHeight).transposed() }
        return image
    }

    private static let precisionBits = 22

    /// Fixed-point weights per output position: (first input index, weights).
    static func coefficients(input: Int, output: Int) -> [(Int, [Int32])] {
        let scale = Double(input) / Double(output)
        let filterScale = max(scale, 1)
        let support = 1.0 * filterScale
        return (0..<output).map { o in
            let center = (Double(o) + 0.5) * scale
            let first = max(Int(center - support + 0.5), 0)
            let last = min(Int(center + support + 0.5), input)
            var weights = (first..<last).map { x -> Double in
                let t = abs((Double(x) - center + 0.5) / filterScale)
                return t < 1 ? 1 - t : 0
            }
            let total = weights.reduce(0, +)
            if total != 0 { weights = weights.map { $0 / total } }
            let fixed = weights.map { w in
                Int32(w < 0 ? -0.5 + w * Double(1 << precisionBits) : 0.5 + w * Double(1 << precisionBits))
            }
            return (first, fixed)
        }
    }

    private func resampledRows(to newWidth: Int) -> RGBImage {
        let table = RGBImage.coefficients(input: width, output: newWidth)
        var out = [UInt8](repeating: 0, count: newWidth * height * 3)
        let half = Int32(1) << (RGBImage.precisionBits - 1)
        pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for (x, (first, weights)) in table.enumerated() {
                    weights.withUnsafeBufferPointer { w in
                        for y in 0..<height {
                            let base = (y * width + first) * 3
                            // Sums stay below 2^31: 255 · 2^22 · (Σ|w| ≤ 1 + rounding).
                            var (r, g, b) = (half, half, half)
                            for k in 0..<w.count {
                                let p = base + k * 3
                                r &+= Int32(source[p]) &* w[k]
                                g &+= Int32(source[p + 1]) &* w[k]
                                b &+= Int32(source[p + 2]) &* w[k]
                            }
                            let o = (y * newWidth + x) * 3
                            target[o] = UInt8(clamping: r >> RGBImage.precisionBits)
                            target[o + 1] = UInt8(clamping: g >> RGBImage.precisionBits)
                            target[o + 2] = UInt8(clamping: b >> RGBImage.precisionBits)
                        }
                    }
                }
            }
        }
        return RGBImage(width: newWidth, height: height, pixels: out)
    }

    private func transposed() -> RGBImage {
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for y in 0..<height {
                    for x in 0..<width {
                        let (from, to) = ((y * width + x) * 3, (x * height + y) * 3)
                        target[to] = source[from]
                        target[to + 1] = source[from + 1]
                        target[to + 2] = source[from + 2]
                    }
                }
            }
        }
        return RGBImage(width: height, height: width, pixels: out)
    }

    /// The `size`×`size` window at the center (left/top offsets rounded down).
    public func centerCropped(width cropWidth: Int, height cropHeight: Int) -> RGBImage {
        let left = (width - cropWidth) / 2, top = (height - cropHeight) / 2
        var out = [UInt8]()
        out.reserveCapacity(cropWidth * cropHeight * 3)
        for y in top..<top + cropHeight {
            out += pixels[((y * width + left) * 3)..<((y * width + left + cropWidth) * 3)]
        }
        return RGBImage(width: cropWidth, height: cropHeight, pixels: out)
    }
}
