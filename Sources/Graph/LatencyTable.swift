import Foundation

/// Milliseconds per integer op measured by `compress profile --table` on one kernel set and
/// thread count, keyed by what decides an op's time: its kind, operand shapes (NHWC), weight
/// count and weight scheme. The cost model reads it to estimate a plan's latency before the
/// plan is built; a `5ms` budget needs one.
///
/// Example key: "Conv 1x56x56x24>1x56x56x144 w3456 int8" (a 1×1 conv from 24 to 144 channels).
/// As JSON: {"kernels": "avx2", "threads": 1, "milliseconds": {"Conv 1x56x56x24>…": 0.31, …}}.
public struct LatencyTable: Codable, Equatable, Sendable {
    public var kernels: String
    public var threads: Int
    public var milliseconds: [String: Double]

    public init(kernels: String, threads: Int, milliseconds: [String: Double] = [:]) {
        self.kernels = kernels
        self.threads = threads
        self.milliseconds = milliseconds
    }

    /// The key of an op: `kind` as `IntegerOp.kindName`, shapes as the integer tensors hold them.
    public static func key(kind: String, input: [Int], output: [Int], weights: Int, scheme: Scheme) -> String {
        func dims(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "x") }
        return "\(kind) \(dims(input))>\(dims(output)) w\(weights) \(scheme.rawValue)"
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads a table file.
    public static func read(path: String) throws -> LatencyTable {
        guard let data = FileManager.default.contents(atPath: path) else { throw Invalid(description: "cannot read the latency table '\(path)'") }
        guard let table = try? JSONDecoder().decode(LatencyTable.self, from: data) else {
            throw Invalid(description: "\(path) is not a latency table (write one with compress profile MODEL.wtm --table \(path))")
        }
        return table
    }

    /// This table with `other`'s entries added (a later measurement of the same key wins); both
    /// must be of one kernel set and thread count.
    public func merged(with other: LatencyTable) throws -> LatencyTable {
        guard other.kernels == kernels, other.threads == threads else {
            throw Invalid(description: "the latency table holds \(kernels) kernels on \(threads) thread(s); this profile ran \(other.kernels) on \(other.threads): write it to another table")
        }
        return LatencyTable(kernels: kernels, threads: threads, milliseconds: milliseconds.merging(other.milliseconds) { $1 })
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
