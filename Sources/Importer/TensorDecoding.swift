import Foundation
import Graph
import ONNXProto

/// ONNX TensorProto element types Whittle reads.
enum ONNXType: Int32 {
    case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7
    case bool = 9, float16 = 10, double = 11, uint32 = 12, uint64 = 13

    var byteSize: Int {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16, .float16: return 2
        case .float, .int32, .uint32: return 4
        case .int64, .double, .uint64: return 8
        }
    }

    var isFloatingPoint: Bool { self == .float || self == .float16 || self == .double }
}

extension Tensor {
    /// Decodes an ONNX TensorProto: floating types become float storage, integers int64.
    /// Sizes are checked against the dims, so a truncated tensor is an error, not a crash.
    init(onnx proto: Onnx_TensorProto) throws {
        let name = proto.name.isEmpty ? "(unnamed)" : "'\(proto.name)'"
        guard proto.dataLocation != .external else {
            throw ImportError("tensor \(name) keeps its data in an external file, which is not supported")
        }
        guard let type = ONNXType(rawValue: proto.dataType) else {
            throw ImportError("tensor \(name) has unsupported element type \(proto.dataType)")
        }
        guard proto.dims.allSatisfy({ $0 >= 0 && $0 < Int64(Int32.max) }) else {
            throw ImportError("tensor \(name) has invalid dims \(proto.dims)")
        }
        let shape = proto.dims.map { Int($0) }
        let count = try checkedCount(shape, of: "tensor \(name)")

        func checkCount(_ found: Int) throws {
            guard found == count else {
                throw ImportError("tensor \(name) has \(found) elements but its dims \(shape) need \(count)")
            }
        }

        if !proto.rawData.isEmpty || proto.hasRawData {
            try checkCount(proto.rawData.count / type.byteSize)
            guard proto.rawData.count == count * type.byteSize else {
                throw ImportError("tensor \(name) has \(proto.rawData.count) bytes of data, dims \(shape) need \(count * type.byteSize)")
            }
            self = Tensor.decodeRaw(proto.rawData, type: type, shape: shape)
            return
        }
        switch type {
        case .float:
            try checkCount(proto.floatData.count)
            self.init(shape: shape, floats: proto.floatData)
        case .double:
            try checkCount(proto.doubleData.count)
            self.init(shape: shape, floats: proto.doubleData.map { Float($0) })
        case .float16:
            try checkCount(proto.int32Data.count)
            self.init(shape: shape, floats: proto.int32Data.map { Float(Float16(bitPattern: UInt16(truncatingIfNeeded: $0))) })
        case .int64:
            try checkCount(proto.int64Data.count)
            self.init(shape: shape, int64s: proto.int64Data)
        case .uint32, .uint64:
            try checkCount(proto.uint64Data.count)
            self.init(shape: shape, int64s: proto.uint64Data.map { Int64(truncatingIfNeeded: $0) })
        case .uint8, .int8, .uint16, .int16, .int32, .bool:
            try checkCount(proto.int32Data.count)
            self.init(shape: shape, int64s: proto.int32Data.map { Int64($0) })
        }
    }

    private static func decodeRaw(_ data: Data, type: ONNXType, shape: [Int]) -> Tensor {
        data.withUnsafeBytes { raw in
            func load<T>(_: T.Type) -> [T] {
                (0..<raw.count / MemoryLayout<T>.size).map { raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) }
            }
            switch type {
            case .float: return Tensor(shape: shape, floats: load(Float.self))
            case .double: return Tensor(shape: shape, floats: load(Double.self).map { Float($0) })
            case .float16: return Tensor(shape: shape, floats: load(UInt16.self).map { Float(Float16(bitPattern: $0)) })
            case .uint8, .bool: return Tensor(shape: shape, int64s: load(UInt8.self).map { Int64($0) })
            case .int8: return Tensor(shape: shape, int64s: load(Int8.self).map { Int64($0) })
            case .uint16: return Tensor(shape: shape, int64s: load(UInt16.self).map { Int64($0) })
            case .int16: return Tensor(shape: shape, int64s: load(Int16.self).map { Int64($0) })
            case .int32: return Tensor(shape: shape, int64s: load(Int32.self).map { Int64($0) })
            case .uint32: return Tensor(shape: shape, int64s: load(UInt32.self).map { Int64($0) })
            case .int64: return Tensor(shape: shape, int64s: load(Int64.self))
            case .uint64: return Tensor(shape: shape, int64s: load(UInt64.self).map { Int64(truncatingIfNeeded: $0) })
            }
        }
    }
}
