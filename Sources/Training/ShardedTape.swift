import Engine
import Graph

/// One batch of `count` inputs split along N over tapes that run on threads of their own
/// (OpenBLAS on one thread each, inside `Engine.withSingleThreadedBLAS`): images
/// [bounds[s], bounds[s + 1]) go to tape s. Forward and backward run the shards concurrently;
/// a loss over the whole batch is computed from the shards' values and its gradient handed
/// back per shard (`slice`), so statistics, losses and gradients are the whole batch's.
/// Example: 8 inputs on 2 cores → shards of 4 and 4.
public struct ShardedTape {
    public let tapes: [Tape<Float>]
    public private(set) var bounds: [Int]
    public private(set) var count: Int

    public init(graph: Graph, count: Int, shards: Int) {
        let parts = max(1, min(shards, count))
        self.count = count
        bounds = (0...parts).map { $0 * count / parts }
        tapes = (0..<parts).map { _ in Tape<Float>(graph: graph) }
    }

    /// The tapes the current batch is split over: all of them, unless it has fewer inputs.
    public var shards: Int { bounds.count - 1 }

    /// Splits the next batches, of `count` inputs, over as many tapes as it fills.
    public mutating func split(_ count: Int) {
        let parts = max(1, min(tapes.count, count))
        self.count = count
        bounds = (0...parts).map { $0 * count / parts }
    }

    /// The shards' outputs joined along N, by name.
    public static func joined(_ parts: [[String: Buffer<Float>]]) -> [String: Buffer<Float>] {
        parts[0].keys.reduce(into: [:]) { joined, name in
            let pieces = parts.map { $0[name]! }
            joined[name] = Buffer(shape: [pieces.reduce(0) { $0 + $1.shape[0] }] + pieces[0].shape.dropFirst(), values: pieces.flatMap(\.values))
        }
    }

    /// Shard `s` of a batch-major buffer of `count` items.
    public func slice(_ b: Buffer<Float>, _ s: Int) -> Buffer<Float> {
        let size = b.count / count
        return Buffer(shape: [bounds[s + 1] - bounds[s]] + b.shape.dropFirst(), values: Array(b.values[bounds[s] * size..<bounds[s + 1] * size]))
    }

    /// Runs every shard forward on its part of `inputs` (batch-major buffers of `count`); returns each shard's outputs.
    public func forward(_ inputs: [String: Buffer<Float>]) throws -> [[String: Buffer<Float>]] {
        try concurrentMap(shards) { s in try tapes[s].forward(inputs.mapValues { slice($0, s) }) }
    }

    /// Runs every shard backward from its seeds; returns each shard's gradients.
    public func backward(_ seeds: [[String: Buffer<Float>]], parameters: Bool) throws -> [[String: Buffer<Float>]] {
        try concurrentMap(shards) { s in try tapes[s].backward(seeds[s], parameters: parameters) }
    }

    /// The shards' values of `name` after `forward`, in order.
    public func values(_ name: String) -> [Buffer<Float>] { tapes.prefix(shards).map { $0.values[name]! } }
}
