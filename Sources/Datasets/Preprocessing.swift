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
///
/// Any other normalization is written as a spec, value = (p / scale − mean) / std per channel:
/// `mean=0.5,0.5,0.5;std=0.5,0.5,0.5` is PP-OCR's (p / 255 − 0.5) / 0.5. Keys: `mean` and `std`
/// (one value, or one per channel; default 0 and 1), `scale` (default 255), `bgr` (channels in
/// BGR order), `crop` (the share of the shorter side kept, default 1: no crop beyond the aspect's).
public struct Preset: Hashable, Sendable {
    /// The preset's name, or the spec in a canonical form: what `--prep` takes and a `.wtm` records.
    public let rawValue: String
    /// value = pixel · scales[c] + offsets[c]; one entry for a gray preset.
    let scales: [Float]
    let offsets: [Float]
    let bgr: Bool
    /// The share of the resized image's shorter side the center crop keeps: 0.875 for the
    /// ImageNet presets (224 from 256), 1 for the small-image ones (a 32×32 CIFAR image is used whole).
    public let cropFraction: Double

    private init(_ name: String, mean: [Float], std: [Float], scale: Float, bgr: Bool = false, crop: Double) {
        rawValue = name
        scales = std.map { 1 / (scale * $0) }
        offsets = zip(mean, std).map { -$0 / $1 }
        self.bgr = bgr
        cropFraction = crop
    }

    public static let tf = Preset("tf", mean: [1, 1, 1], std: [1, 1, 1], scale: 127.5, crop: 0.875)
    public static let torch = Preset("torch", mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], scale: 255, crop: 0.875)
    public static let caffeBGR = Preset("caffe_bgr", mean: [103.939, 116.779, 123.68], std: [1, 1, 1], scale: 1, bgr: true, crop: 0.875)
    public static let cifar10 = Preset("cifar10", mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.243, 0.261], scale: 255, crop: 1)
    public static let mnist = Preset("mnist", mean: [0.1307], std: [0.3081], scale: 255, crop: 1)
    public static let raw = Preset("raw", mean: [0, 0, 0], std: [1, 1, 1], scale: 1, crop: 0.875)
    public static let allCases: [Preset] = [.tf, .torch, .caffeBGR, .cifar10, .mnist, .raw]

    /// A preset by name, or a spec (`mean=0.5;std=0.5`); nil for anything else.
    public init?(rawValue: String) {
        if let named = Self.allCases.first(where: { $0.rawValue == rawValue }) {
            self = named
            return
        }
        var values: [String: [Float]] = [:]
        var bgr = false
        for item in rawValue.split(separator: ";") {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts == ["bgr"] { bgr = true; continue }
            guard parts.count == 2, ["mean", "std", "scale", "crop"].contains(parts[0]), values[parts[0]] == nil else { return nil }
            let numbers = parts[1].split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard !numbers.isEmpty, numbers.allSatisfy({ $0?.isFinite ?? false }) else { return nil }
            values[parts[0]] = numbers.map { $0! }
        }
        let mean = values["mean"] ?? [0], std = values["std"] ?? [1]
        let scale = values["scale"] ?? [255], crop = values["crop"] ?? [1]
        guard !values.isEmpty || bgr, [1, 3].contains(mean.count), [1, 3].contains(std.count), std.allSatisfy({ $0 > 0 }),
              scale.count == 1, scale[0] > 0, crop.count == 1, crop[0] > 0, crop[0] <= 1 else { return nil }
        let widen = { (v: [Float]) in v.count == 3 ? v : Array(repeating: v[0], count: 3) }
        let (m, d) = (widen(mean), widen(std))
        let list = { (v: [Float]) in v.map { String($0) }.joined(separator: ",") }
        let canonical = "mean=\(list(m));std=\(list(d));scale=\(scale[0])" + (bgr ? ";bgr" : "") + ";crop=\(crop[0])"
        self.init(canonical, mean: m, std: d, scale: scale[0], bgr: bgr, crop: Double(crop[0]))
    }

    /// One line for `--help`.
    public static var helpText: String {
        "tf (RGB/127.5−1), torch (RGB/255 with ImageNet mean/std), caffe_bgr (BGR − mean), cifar10 (RGB/255 with " +
            "CIFAR-10 mean/std), mnist (gray/255 with MNIST mean/std), raw (pixel values 0–255); tf, torch, caffe_bgr and raw " +
            "resize the shorter side to size/0.875 and center-crop; cifar10 and mnist take images of the model's size as they are; " +
            "or a spec, value = (p/scale − mean)/std: 'mean=0.5;std=0.5' (one value or one per channel; scale 255, crop 1 and RGB " +
            "unless 'scale=…', 'crop=0.875' or 'bgr' say otherwise)"
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
        guard scales.count == 3 || channels == 1 else { throw DatasetError("preset \(rawValue) is for one-channel models") }
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
        for i in 0..<plane {
            if channels == 1 {
                let gray = rgb ? Self.luminance(pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]) : pixels[i]
                out[i] = Float(gray) * scales[0] + offsets[0]
                continue
            }
            for c in 0..<3 {
                let source = bgr ? 2 - c : c
                let pixel = rgb ? pixels[3 * i + source] : pixels[i]
                out[c * plane + i] = Float(pixel) * scales[c] + offsets[c]
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
