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

    /// Decodes a JPEG (libjpeg-turbo, accurate DCT and fancy upsampling as Pillow uses) or a PNG
    /// (libpng; alpha is dropped, as Pillow's `convert("RGB")` does).
    public static func read(path: String) throws -> RGBImage {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError("cannot read '\(path)': no such file or not readable")
        }
        let bytes = [UInt8](data)
        do {
            if bytes.starts(with: [0xFF, 0xD8]) { return try decodeJPEG(bytes) }
            if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try decodePNG(bytes) }
        } catch let error as DatasetError {
            throw DatasetError("\(path): \(error.description)")
        }
        throw DatasetError("\(path): not a JPEG or PNG image")
    }

    static func decodeJPEG(_ bytes: [UInt8]) throws -> RGBImage {
        guard let handle = tjInitDecompress() else { throw DatasetError("libjpeg-turbo could not start") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        guard tjDecompressHeader3(handle, bytes, UInt(bytes.count), &width, &height, &subsampling, &colorspace) == 0,
              width > 0, height > 0, Int(width) * Int(height) <= 1 << 28
        else { throw DatasetError("bad JPEG header (\(String(cString: tjGetErrorStr2(handle))))") }
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * 3)
        let status = tjDecompress2(handle, bytes, UInt(bytes.count), &pixels, width, 0, height, Int32(TJPF_RGB.rawValue), 0)
        if status != 0 && tjGetErrorCode(handle) == TJERR_FATAL.rawValue {
            throw DatasetError("corrupt JPEG (\(String(cString: tjGetErrorStr2(handle))))")
        }
        return RGBImage(width: Int(width), height: Int(height), pixels: pixels)
    }

    static func decodePNG(_ bytes: [UInt8]) throws -> RGBImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_memory(&image, bytes, bytes.count) != 0 else {
            throw DatasetError("bad PNG (\(pngMessage(image)))")
        }
        defer { png_image_free(&image) }
        image.format = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
        let (width, height) = (Int(image.width), Int(image.height))
        guard width * height <= 1 << 28 else { throw DatasetError("PNG too large: \(width)×\(height)") }
        var rgba = [UInt8](repeating: 0, count: width * height * 4)
        guard png_image_finish_read(&image, nil, &rgba, 0, nil) != 0 else {
            throw DatasetError("corrupt PNG (\(pngMessage(image)))")
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
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
