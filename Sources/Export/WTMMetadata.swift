import Foundation
import Graph

/// What a `.wtm` knows about its own use, kept in its METADATA section as JSON so that `run`
/// needs no flags and a file found later says where it came from:
///
///     {"input": {"layout": "NCHW", "shape": [1, 3, 224, 224]},
///      "labels": {"967": "espresso"}, "ops": ["stem_conv", …], "plan": {…}, "preprocessing": {"preset": "tf"},
///      "source": {"bytes": 18868040, "file": "efficientnet-lite0-fp32.onnx", "sha256": "…"},
///      "whittle": "whittle-runtime 0.5 (wtm format 6)"}
public struct WTMMetadata: Codable, Equatable, Sendable {
    /// The float model's input, as the ONNX file gave it (the runtime's own tensor is NHWC).
    public struct Input: Codable, Equatable, Sendable {
        public var layout: String
        public var shape: [Int]
        public init(layout: String, shape: [Int]) { (self.layout, self.shape) = (layout, shape) }
    }

    /// How images become inputs: a preprocessing preset's name (`Datasets.Preset`).
    public struct Preprocessing: Codable, Equatable, Sendable {
        public var preset: String
        public init(preset: String) { self.preset = preset }
    }

    /// The ONNX file the model was made from.
    public struct Source: Codable, Equatable, Sendable {
        public var file: String
        public var bytes: Int
        public var sha256: String
    }

    public var input: Input
    /// nil when the job was not told how its inputs are prepared (calibration without data).
    public var preprocessing: Preprocessing?
    /// Class names by output index (as text: JSON keys are strings), for the classes known.
    public var labels: [String: String]?
    public var source: Source?
    /// The plan the model was lowered by.
    public var plan: Plan?
    /// The ONNX node each op comes from, in op order.
    public var ops: [String]?
    /// The runtime version that wrote it.
    public var whittle: String

    public init(input: Input, preprocessing: Preprocessing?, labels: [Int: String]?, source: Source?, plan: Plan?, ops: [String]?,
                whittle: String) {
        self.input = input
        self.preprocessing = preprocessing
        self.labels = labels.map { Dictionary(uniqueKeysWithValues: $0.map { (String($0.key), $0.value) }) }
        self.source = source
        self.plan = plan
        self.ops = ops
        self.whittle = whittle
    }

    /// The name of output class `index`, when known.
    public func label(_ index: Int) -> String? { labels?[String(index)] }

    /// The bytes stored: sorted keys, no insignificant whitespace.
    public func json() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(self))
    }

    static func read(_ json: [UInt8]) throws -> WTMMetadata {
        do {
            return try JSONDecoder().decode(WTMMetadata.self, from: Data(json))
        } catch {
            throw WTM.FormatError(description: "the .wtm's metadata is not valid: \(error)")
        }
    }

    /// `path`'s size and SHA-256, for `source`.
    public static func source(path: String) throws -> Source {
        guard let data = FileManager.default.contents(atPath: path) else { throw WTM.FormatError(description: "cannot read '\(path)'") }
        return Source(file: URL(fileURLWithPath: path).lastPathComponent, bytes: data.count, sha256: SHA256.hex(Array(data)))
    }
}
