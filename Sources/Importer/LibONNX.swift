import CONNX
import Foundation

/// Debian's libonnx (1.12) through the CONNX shim: checker, shape inference and opset
/// conversion on serialized model bytes. It knows IR ≤ `maxIRVersion` and opset ≤ `maxOpset`;
/// newer models are imported with Whittle's own shape inference alone.
public enum LibONNX {
    public static var maxIRVersion: Int { Int(connx_max_ir_version()) }
    public static var maxOpset: Int { Int(connx_max_opset()) }

    /// Runs `onnx::checker::check_model`; throws its message.
    public static func check(_ bytes: Data) throws {
        var error: UnsafeMutablePointer<CChar>?
        let status = bytes.withUnsafeBytes { connx_check($0.baseAddress, $0.count, &error) }
        try raise(status, error)
    }

    /// Converts the default-domain opset to `opset` (ONNX's version converter).
    public static func convert(_ bytes: Data, toOpset opset: Int) throws -> Data {
        try transform(bytes) { input, size, out, outSize, error in
            connx_convert_version(input, size, Int32(opset), out, outSize, error)
        }
    }

    /// Runs ONNX shape inference and returns the annotated model.
    public static func inferShapes(_ bytes: Data) throws -> Data {
        try transform(bytes) { input, size, out, outSize, error in
            connx_infer_shapes(input, size, out, outSize, error)
        }
    }

    private typealias Transform = (UnsafeRawPointer?, Int, UnsafeMutablePointer<UnsafeMutableRawPointer?>,
                                   UnsafeMutablePointer<Int>, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32

    private static func transform(_ bytes: Data, _ body: Transform) throws -> Data {
        var out: UnsafeMutableRawPointer?
        var outSize = 0
        var error: UnsafeMutablePointer<CChar>?
        let status = bytes.withUnsafeBytes { body($0.baseAddress, $0.count, &out, &outSize, &error) }
        try raise(status, error)
        defer { connx_free(out) }
        return Data(bytes: out!, count: outSize)
    }

    private static func raise(_ status: Int32, _ error: UnsafeMutablePointer<CChar>?) throws {
        guard status != 0 else { return }
        let message = error.map { String(cString: $0) } ?? "libonnx failed"
        connx_free(error)
        throw ImportError(message)
    }
}
