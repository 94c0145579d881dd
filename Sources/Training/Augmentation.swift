import Graph

/// Random crop and flip applied to a prepared NCHW batch: each image is padded by `padding`
/// pixels on every side (with the value 0 has after preprocessing, the dataset mean for
/// standardized presets), a window of the original size is cut at a random offset, and it is
/// mirrored left–right with probability ½ when `flip` is set.
/// Example: padding 2 on a 28×28 digit shifts it by up to 2 pixels in each direction.
public struct Augmentation: Sendable {
    public var padding: Int
    public var flip: Bool

    public init(padding: Int, flip: Bool) {
        self.padding = padding
        self.flip = flip
    }

    public static let none = Augmentation(padding: 0, flip: false)

    func apply(_ pixels: inout [Float], shape: [Int], random: inout SplitMix) {
        guard padding > 0 || flip else { return }
        let (channels, height, width) = (shape[1], shape[2], shape[3])
        let plane = height * width, image = channels * plane
        for n in 0..<shape[0] {
            let dy = padding > 0 ? random.below(2 * padding + 1) - padding : 0
            let dx = padding > 0 ? random.below(2 * padding + 1) - padding : 0
            let mirror = flip && random.below(2) == 1
            let source = Array(pixels[n * image..<(n + 1) * image])
            for c in 0..<channels { for y in 0..<height { for x in 0..<width {
                let sy = y + dy, sx0 = x + dx
                let sx = mirror ? width - 1 - sx0 : sx0
                let inside = sy >= 0 && sy < height && sx >= 0 && sx < width
                pixels[n * image + c * plane + y * width + x] = inside ? source[c * plane + sy * width + sx] : 0
            } } }
        }
    }
}
