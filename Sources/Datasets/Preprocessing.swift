import Graph

/// How pixels become model inputs. The ImageNet presets (tf, torch, caffe_bgr, raw) first
/// resize the shorter side to round(size / 0.875) (bilinear, antialiased) and center-crop
/// size×size; the small-image presets (cifar10, mnist) take an image of the model's size as it
/// is and resize any other's shorter side to size before the crop. Then:
///
/// | preset    | value of a pixel p (0…255)                       | channels |
/// |-----------|--------------------------------------------------|----------|
/// | tf        | p / 127.5 − 1                                     | RGB      |
/// | torch     | (p / 255 − mean) / std, ImageNet mean and std    | RGB      |
/// | caffe_bgr | p − mean, mean (103.939, 116.779, 123.68)        | BGR      |
/// | cifar10   | (p / 255 − mean) / std, CIFAR-10 mean and std    | RGB      |
/// | mnist     | (p / 255 − 0.1307) / 0.3081                      | gray     |
/// | raw       | p                                                | as model |
///
/// Example: with `tf`, a pixel of 255 becomes 1.0 and 0 becomes −1.0.
public enum Preset: String, CaseIterable, Sendable {
    case tf, torch
    case caffeBGR = "caffe_bgr"
    case cifar10, mnist, raw

    /// One line per preset for `--help`.
    public static var helpText: String {
        "tf (RGB/127.5−1), torch (RGB/255 with ImageNet mean/std), caffe_bgr (BGR − mean), cifar10 (RGB/255 with " +
            "CIFAR-10 mean/std), mnist (gray/255 with MNIST mean/std), raw (pixel values 0–255); tf, torch, caffe_bgr and raw " +
            "resize the shorter side to size/0.875 and center-crop; cifar10 and mnist take images of the model's size as they are"
    }

    /// (scale, offset) per output channel: value = pixel · scale + offset.
    private var affine: [(Float, Float)] {
        func standardized(_ mean: [Float], _ std: [Float]) -> [(Float, Float)] {
            zip(mean, std).map { (1 / (255 * $1), -$0 / $1) }
        }
        switch self {
        case .tf: return Array(repeating: (1 / 127.5, -1), count: 3)
        case .torch: return standardized([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
        case .caffeBGR: return [(1, -103.939), (1, -116.779), (1, -123.68)]
        case .cifar10: return standardized([0.4914, 0.4822, 0.4465], [0.247, 0.243, 0.261])
        case .mnist: return [(1 / (255 * 0.3081), -0.1307 / 0.3081)]
        case .raw: return [(1, 0), (1, 0), (1, 0)]
        }
    }

    /// The share of the resized image's shorter side the center crop keeps: 0.875 for the
    /// ImageNet presets (224 from 256), 1 for the small-image ones (a 32×32 CIFAR image is used whole).
    public var cropFraction: Double {
        switch self {
        case .cifar10, .mnist: return 1
        case .tf, .torch, .caffeBGR, .raw: return 0.875
        }
    }

    /// CHW floats for a `channels`×`size`×`size` input from an image of any size.
    public func prepare(_ image: RGBImage, size: Int, channels: Int) throws -> [Float] {
        try prepare(image, height: size, width: size, channels: channels)
    }

    /// CHW floats for a `channels`×`height`×`width` input from an image of any size: resized so
    /// that it covers height/crop × width/crop (for a square input: the shorter side to
    /// size/crop), then center-cropped.
    public func prepare(_ image: RGBImage, height: Int, width: Int, channels: Int) throws -> [Float] {
        guard channels == 1 || channels == 3 else { throw DatasetError("models with \(channels) input channels take no images") }
        guard self != .mnist || channels == 1 else { throw DatasetError("preset mnist is for one-channel models") }
        if image.width == width, image.height == height, cropFraction == 1 {
            return normalize(image.pixels, plane: height * width, channels: channels)
        }
        let scale = max((Double(height) / cropFraction).rounded(.toNearestOrEven) / Double(image.height),
                        (Double(width) / cropFraction).rounded(.toNearestOrEven) / Double(image.width))
        let resizedWidth = max(width, Int((Double(image.width) * scale).rounded(.toNearestOrEven)))
        let resizedHeight = max(height, Int((Double(image.height) * scale).rounded(.toNearestOrEven)))
        guard Double(resizedWidth) * Double(resizedHeight) <= Double(RGBImage.maxPixels) else {
            throw DatasetError("a \(image.width)×\(image.height) image would be resized to \(resizedWidth)×\(resizedHeight) before the crop: its sides are too unequal for a \(width)×\(height) input")
        }
        let cropped = image.resized(width: resizedWidth, height: resizedHeight).centerCropped(width: width, height: height)
        return normalize(cropped.pixels, plane: height * width, channels: channels)
    }

    /// Normalizes interleaved RGB pixels (or gray ones, for `channels == 1`) of a size×size image.
    public func normalize(_ pixels: [UInt8], size: Int, channels: Int) -> [Float] {
        normalize(pixels, plane: size * size, channels: channels)
    }

    /// Normalizes interleaved RGB pixels (or gray ones) of an image of `plane` pixels.
    public func normalize(_ pixels: [UInt8], plane: Int, channels: Int) -> [Float] {
        let rgb = pixels.count == plane * 3
        var out = [Float](repeating: 0, count: channels * plane)
        let coefficients = affine
        for i in 0..<plane {
            if channels == 1 {
                let gray = rgb ? Self.luminance(pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]) : pixels[i]
                out[i] = Float(gray) * coefficients[0].0 + coefficients[0].1
                continue
            }
            for c in 0..<3 {
                let source = self == .caffeBGR ? 2 - c : c
                let pixel = rgb ? pixels[3 * i + source] : pixels[i]
                out[c * plane + i] = Float(pixel) * coefficients[c].0 + coefficients[c].1
            }
        }
        return out
    }

    /// Pillow's "L" conversion: (299 R + 587 G + 114 B) / 1000 in 16-bit fixed point.
    static func luminance(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        let weighted: Int = Int(r) * 19595 + Int(g) * 38470 + Int(b) * 7471
        return UInt8((weighted + 0x8000) >> 16)
    }
}
