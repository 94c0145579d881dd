import Foundation
import Graph

/// NumPy `.npy` files (format 1.0–3.0, C order): float32/float64 read as floats,
/// int8…int64/uint8 as integers; written as little-endian float32.
public enum Npy {
    public static func read(path: String) throws -> Tensor {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError("cannot read '\(path)': no such file or not readable")
        }
        do { return try decode(data) } catch let error as DatasetError {
            throw DatasetError("\(path): \(error.description)")
        }
    }

    /// Example header: `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }`.
    public static func decode(_ data: Data) throws -> Tensor {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw DatasetError("not a .npy file (bad magic)")
        }
        let major = bytes[6]
        let (headerLength, start) = major == 1
            ? (Int(bytes[8]) | Int(bytes[9]) << 8, 10)
            : (bytes.count >= 12 ? (Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24, 12) : (Int.max, 12))
        guard headerLength <= bytes.count - start else { throw DatasetError("truncated .npy header") }
        let header = String(decoding: bytes[start..<start + headerLength], as: UTF8.self)
        guard let descr = field("descr", in: header), let shapeText = field("shape", in: header) else {
            throw DatasetError("malformed .npy header: \(header)")
        }
        guard !header.contains("'fortran_order': True") else { throw DatasetError("Fortran-order arrays are not supported") }
        let shape = shapeText.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        let count: Int
        do { count = try checkedElementCount(shape) } catch let error as ShapeError { throw DatasetError(".npy header: \(error.description)") }
        let payload = Data(bytes[(start + headerLength)...])
        let kinds: [String: (size: Int, float: Bool)] = [
            "<f4": (4, true), "<f8": (8, true), "|u1": (1, false), "|i1": (1, false), "<i2": (2, false),
            "<i4": (4, false), "<i8": (8, false), "|b1": (1, false),
        ]
        guard let kind = kinds[descr] else { throw DatasetError("element type '\(descr)' is not supported") }
        guard payload.count >= count * kind.size else {
            throw DatasetError("truncated: shape \(shape) needs \(count * kind.size) bytes, found \(payload.count)")
        }
        return payload.withUnsafeBytes { raw in
            func load<T>(_: T.Type) -> [T] { (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * kind.size, as: T.self) } }
            switch descr {
            case "<f4": return Tensor(shape: shape, floats: load(Float.self))
            case "<f8": return Tensor(shape: shape, floats: load(Double.self).map { Float($0) })
            case "|u1", "|b1": return Tensor(shape: shape, int64s: load(UInt8.self).map { Int64($0) })
            case "|i1": return Tensor(shape: shape, int64s: load(Int8.self).map { Int64($0) })
            case "<i2": return Tensor(shape: shape, int64s: load(Int16.self).map { Int64($0) })
            case "<i4": return Tensor(shape: shape, int64s: load(Int32.self).map { Int64($0) })
            default: return Tensor(shape: shape, int64s: load(Int64.self))
            }
        }
    }

    private static func field(_ name: String, in header: String) -> String? {
        guard let key = header.range(of: "'\(name)':") else { return nil }
        let rest = header[key.upperBound...].drop { $0 == " " }
        if rest.first == "(" { return rest.firstIndex(of: ")").map { String(rest[...$0]) } }
        guard rest.first == "'" else { return nil }
        let body = rest.dropFirst()
        return body.firstIndex(of: "'").map { String(body[..<$0]) }
    }

    /// Encodes floats as a version-1.0 `.npy` file.
    public static func encode(_ tensor: Tensor) -> Data {
        let shapeText = tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)])
        data.append(contentsOf: Array(header.utf8))
        tensor.floats.withUnsafeBufferPointer { data.append(Data(buffer: $0)) }
        return data
    }

    public static func write(_ tensor: Tensor, path: String) throws {
        try OutputFile.write(encode(tensor), to: path)
    }
}
