import CZlib
import Foundation
import Graph

/// NumPy `.npz` archives: a zip of `.npy` members, stored or deflated (`np.savez_compressed`).
public enum Npz {
    /// Every array in the archive, by member name without `.npy`.
    public static func read(path: String) throws -> [String: Tensor] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError("cannot read '\(path)': no such file or not readable")
        }
        do { return try decode([UInt8](data)) } catch let error as DatasetError {
            throw DatasetError("\(path): \(error.description)")
        }
    }

    /// An archive's bytes decoded, as `read` decodes them.
    public static func decode(_ bytes: [UInt8]) throws -> [String: Tensor] {
        func u16(_ at: Int) throws -> Int {
            guard at >= 0, at + 2 <= bytes.count else { throw DatasetError("truncated zip") }
            return Int(bytes[at]) | Int(bytes[at + 1]) << 8
        }
        func u32(_ at: Int) throws -> Int { try u16(at) | u16(at + 2) << 16 }
        // End of central directory: signature 0x06054b50 within the last 64 KiB + 22 bytes.
        guard let end = stride(from: bytes.count - 22, through: max(0, bytes.count - 22 - 65_535), by: -1)
            .first(where: { (try? u32($0)) == 0x0605_4b50 })
        else { throw DatasetError("not a zip archive") }
        let entries = try u16(end + 10)
        var position = try u32(end + 16)
        var result: [String: Tensor] = [:]
        for _ in 0..<entries {
            guard try u32(position) == 0x0201_4b50 else { throw DatasetError("bad zip central directory") }
            let method = try u16(position + 10)
            let (compressed, size) = (try u32(position + 20), try u32(position + 24))
            let (nameLength, extraLength, commentLength) = (try u16(position + 28), try u16(position + 30), try u16(position + 32))
            let local = try u32(position + 42)
            guard position + 46 + nameLength <= bytes.count else { throw DatasetError("truncated zip") }
            let name = String(decoding: bytes[position + 46..<position + 46 + nameLength], as: UTF8.self)
            position += 46 + nameLength + extraLength + commentLength
            guard try u32(local) == 0x0403_4b50 else { throw DatasetError("bad zip entry for '\(name)'") }
            let start = local + 30 + (try u16(local + 26)) + (try u16(local + 28))
            guard start + compressed <= bytes.count else { throw DatasetError("truncated zip entry '\(name)'") }
            let payload = Array(bytes[start..<start + compressed])
            let member: [UInt8]
            switch method {
            case 0: member = payload
            case 8:
                // Deflate expands at most 1032-fold: a larger claim is a lie, refused before allocating.
                guard size <= compressed * 1032 + 64 else {
                    throw DatasetError("zip entry '\(name)' claims \(size) bytes from \(compressed) compressed, more than deflate can give")
                }
                member = try inflate(payload, size: size)
            default: throw DatasetError("zip entry '\(name)' uses compression method \(method)")
            }
            let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
            result[key] = try Npy.decode(Data(member))
        }
        return result
    }

    private static func inflate(_ input: [UInt8], size: Int) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: max(size, 1))
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DatasetError("zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var input = input
        let status = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = UInt32(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = UInt32(size)
                return CZlib.inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END, Int(stream.total_out) == size else { throw DatasetError("corrupt deflate data") }
        return Array(output.prefix(size))
    }
}
