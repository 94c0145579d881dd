import Foundation
import Graph
import Importer
import Rewrite

/// Loads a model file for the commands: an ONNX file is imported and simplified.
public enum ModelLoader {
    public struct Loaded {
        public var graph: Graph
        public var notes: [String]
    }

    /// Parses "1x3x224x224" into [1, 3, 224, 224].
    public static func parseShape(_ text: String) throws -> [Int] {
        let dims = text.lowercased().split(separator: "x").map { Int($0) }
        guard !dims.isEmpty, dims.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ImportError("'\(text)' is not a shape; write it as 1x3x224x224")
        }
        return dims.map { $0! }
    }

    public static func load(path: String, inputShape: [Int]? = nil, simplify: Bool = true) throws -> Loaded {
        guard path.lowercased().hasSuffix(".onnx") else {
            throw ImportError("'\(path)' is not an .onnx file")
        }
        let imported = try ONNXImporter.load(path: path, inputShape: inputShape)
        var graph = imported.graph
        var notes = imported.notes
        if simplify { notes += try Simplify.run(&graph).flatMap(\.notes) }
        return Loaded(graph: graph, notes: notes)
    }
}
