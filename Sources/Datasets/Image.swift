import CPNG
import CTurboJPEG
import Foundation

/// An 8-bit RGB image, rows top to bottom, pixels interleaved R, G, B.
public struct RGBImage: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3)
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Decodes a JPEG (libjpeg-turbo, accurate DCT and fancy upsampling as Pillow uses; CMYK and
    /// YCCK through Pillow's CMYK → RGB; a truncated file is an error, as in Pillow) or a PNG
    /// (libpng; alpha is dropped, as Pillow's `convert("RGB")` does; 16-bit samples as Pillow reads
    /// them: colour by their high byte, plain gray clipped to 255). Images above `maxPixels` are
    /// refused before anything is allocated for them.
    public static func read(path: String) throws -> RGBImage {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError("cannot read '\(path)': no such file or not readable")
        }
        do {
            return try decode([UInt8](data))
        } catch let error as DatasetError {
            throw DatasetError("\(path): \(error.description)")
        }
    }

    /// A JPEG or PNG file's bytes decoded, as `read` decodes them.
    public static func decode(_ bytes: [UInt8]) throws -> RGBImage {
        if bytes.starts(with: [0xFF, 0xD8]) { return try decodeJPEG(bytes) }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try decodePNG(bytes) }
        throw DatasetError("not a JPEG or PNG image")
    }

    /// The most pixels an image may have: Pillow's decompression-bomb limit (2 × 89,478,485).
    public static let maxPixels = 178_956_970

    static func checkSize(_ width: Int, _ height: Int) throws {
        guard width > 0, height > 0, width <= maxPixels, height <= maxPixels, width * height <= maxPixels else {
            throw DatasetError("the image claims \(width)×\(height) pixels, more than the \(maxPixels) an image may have")
        }
    }

    static func decodeJPEG(_ bytes: [UInt8]) throws -> RGBImage {
        guard let handle = tjInitDecompress() else { throw DatasetError("libjpeg-turbo could not start") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        guard tjDecompressHeader3(handle, bytes, UInt(bytes.count), &width, &height, &subsampling, &colorspace) == 0 else {
            throw DatasetError("bad JPEG header (\(String(cString: tjGetErrorStr2(handle))))")
        }
        try checkSize(Int(width), Int(height))
        let cmyk = colorspace == TJCS_CMYK.rawValue || colorspace == TJCS_YCCK.rawValue
        let channels = cmyk ? 4 : 3
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * channels)
        let format = Int32(cmyk ? TJPF_CMYK.rawValue : TJPF_RGB.rawValue)
        if tjDecompress2(handle, bytes, UInt(bytes.count), &pixels, width, 0, height, format, 0) != 0 {
            let message = String(cString: tjGetErrorStr2(handle))
            if tjGetErrorCode(handle) == TJERR_FATAL.rawValue { throw DatasetError("corrupt JPEG (\(message))") }
            if message.contains("Premature end") { throw DatasetError("the JPEG is truncated (\(message))") }
        }
        if cmyk && hasAdobeMarker(bytes) { pixels = pixels.map { 255 - $0 } }
        return RGBImage(width: Int(width), height: Int(height), pixels: cmyk ? rgb(cmyk: pixels) : pixels)
    }

    /// Whether the JPEG has an Adobe APP14 segment before its scan: Adobe (and Pillow) store CMYK
    /// inverted then, and Pillow reads it back inverted ("CMYK;I").
    static func hasAdobeMarker(_ bytes: [UInt8]) -> Bool {
        var at = 2
        while at + 4 <= bytes.count, bytes[at] == 0xFF {
            let marker = bytes[at + 1], length = Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
            if marker == 0xDA || length < 2 { return false }
            if marker == 0xEE, at + 9 <= bytes.count, Array(bytes[at + 4..<at + 9]) == Array("Adobe".utf8) { return true }
            at += 2 + length
        }
        return false
    }

    /// Pillow's CMYK → RGB: each channel (255 − K) − X·(255 − K)/255, the product rounded as
    /// Pillow's MULDIV255. Example: C = 69, K = 0 → R = 186.
    static func rgb(cmyk: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: cmyk.count / 4 * 3)
        for p in 0..<cmyk.count / 4 {
            let notK = 255 - Int(cmyk[4 * p + 3])
            for c in 0..<3 {
                let product = Int(cmyk[4 * p + c]) * notK + 128
                out[3 * p + c] = UInt8(max(0, min(255, notK - ((product >> 8) + product) >> 8)))
            }
        }
        return out
    }

    static func decodePNG(_ bytes: [UInt8]) throws -> RGBImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_memory(&image, bytes, bytes.count) != 0 else {
            throw DatasetError("bad PNG (\(pngMessage(image)))")
        }
        defer { png_image_free(&image) }
        let (width, height) = (Int(image.width), Int(image.height))
        try checkSize(width, height)
        let stored = image.format
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        if stored & UInt32(PNG_FORMAT_FLAG_LINEAR) != 0 {
            // 16-bit samples, read unchanged (linear in, linear out): Pillow keeps colour's high byte
            // and clips plain gray ("I;16") at 255.
            image.format = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA | PNG_FORMAT_FLAG_LINEAR)
            var rgba = [UInt16](repeating: 0, count: width * height * 4)
            guard png_image_finish_read(&image, nil, &rgba, 0, nil) != 0 else { throw DatasetError("corrupt PNG (\(pngMessage(image)))") }
            let clipped = stored & UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA) == 0
            for i in 0..<width * height {
                for c in 0..<3 { pixels[3 * i + c] = UInt8(clipped ? min(rgba[4 * i + c], 255) : rgba[4 * i + c] >> 8) }
            }
            return RGBImage(width: width, height: height, pixels: pixels)
        }
        image.format = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
        var rgba = [UInt8](repeating: 0, count: width * height * 4)
        guard png_image_finish_read(&image, nil, &rgba, 0, nil) != 0 else {
            throw DatasetError("corrupt PNG (\(pngMessage(image)))")
        }
        for i in 0..<width * height {
            pixels[3 * i] = rgba[4 * i]
            pixels[3 * i + 1] = rgba[4 * i + 1]
            pixels[3 * i + 2] = rgba[4 * i + 2]
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    private static func pngMessage(_ image: png_image) -> String {
        var message = image.message
        return withUnsafeBytes(of: &message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
