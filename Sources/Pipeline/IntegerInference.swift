import Export
import Foundation
import Graph
import Quantize
import Runner

/// A `.wtm` model on the C runtime, with float in and float out: the input is quantized with the
/// model's input scale (NCHW floats → uint8 NHWC) and the output dequantized back.
public final class IntegerInference {
    public let model: IntegerModel
    public let bytes: [UInt8]
    /// How the file says it is used (preprocessing, class names, source); nil for a file without.
    public let metadata: WTMMetadata?
    /// The C runtime holding the model (for callers that drive ops themselves, like `Profile`).
    public let runner: Runner

    /// `kernels` picks the runtime's kernel set (default: the fastest this CPU runs); `threads`
    /// splits convolutions across a pool (1: the caller's thread only).
    public init(path: String, kernels: Runner.Kernels = .auto, threads: Int = 1) throws {
        guard path.lowercased().hasSuffix(".wtm") else { throw Runner.RuntimeError(description: "'\(path)' is not a .wtm file") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw Runner.RuntimeError(description: "cannot read '\(path)': \(error.localizedDescription)")
        }
        bytes = Array(data)
        do {
            runner = try Runner(bytes: bytes, kernels: kernels, threads: threads)
            model = try WTM.read(bytes)
            metadata = try WTM.metadata(bytes)
        } catch { throw Runner.RuntimeError(description: "\(path): \(error)") }
    }

    public var inputTensor: IntegerTensor { model.tensors[model.inputs[0]] }
    public var outputTensor: IntegerTensor { model.tensors[model.outputs[0]] }

    /// The input as the float graph would name it: NCHW for images.
    public var input: ValueInfo {
        let s = inputTensor.shape
        return ValueInfo(name: "input", shape: s.count == 4 ? [s[0], s[3], s[1], s[2]] : s)
    }

    /// The runtime's uint8 output for a quantized input.
    public func runQuantized(_ input: [UInt8]) throws -> [UInt8] { try runner.run(input) }

    /// Runs one image (NCHW floats) and returns the dequantized output (NCHW for 4-D outputs).
    public func run(_ nchw: [Float]) throws -> [Float] {
        outputTensor.dequantize(nhwc: try runner.run(inputTensor.quantize(nchw: nchw)))
    }

    /// The output's float shape (NCHW for 4-D).
    public var outputShape: [Int] {
        let s = outputTensor.shape
        return s.count == 4 ? [s[0], s[3], s[1], s[2]] : s
    }
}
