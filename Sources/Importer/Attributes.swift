import ONNXProto

/// Typed access to a node's attributes, with ONNX defaults.
extension Onnx_NodeProto {
    func attribute(_ name: String) -> Onnx_AttributeProto? {
        attribute.first { $0.name == name }
    }

    func int(_ name: String, default value: Int) -> Int {
        attribute(name).map { Int($0.i) } ?? value
    }

    func ints(_ name: String) -> [Int]? {
        attribute(name).map { $0.ints.map { Int($0) } }
    }

    func float(_ name: String, default value: Float) -> Float {
        attribute(name)?.f ?? value
    }

    func string(_ name: String, default value: String) -> String {
        attribute(name).map { String(decoding: $0.s, as: UTF8.self) } ?? value
    }

    /// A readable label: "Conv 'stem/conv'", or "Conv producing 'y'" for an unnamed node.
    var label: String {
        let first = output.first ?? ""
        return !name.isEmpty ? "\(opType) '\(name)'" : first.isEmpty ? "an unnamed \(opType) with no output" : "\(opType) producing '\(first)'"
    }
}
