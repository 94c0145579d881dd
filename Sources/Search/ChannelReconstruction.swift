import COpenBLAS
import Engine
import Foundation
import Graph

/// Which channels of a group to keep and how its consumers make up for the rest, from the
/// statistics of the values the consumers read (channel means and second moments over a batch
/// of inputs), as channel-pruning methods do without training (He et al. 2017, "Channel
/// pruning for accelerating very deep neural networks"; ThiNet):
///
/// - a channel's importance is what removing it costs the consumers' outputs if its value were
///   replaced by its mean: Var(x_c) · Σ over consumers of Σ W[·, c]²;
/// - a 1×1 conv or fully connected consumer with a bias is refitted by least squares: the
///   removed channels x_R are predicted from the kept x_K by linear regression (Z = Σ_KK⁻¹ Σ_KR
///   on the centered moments, a ridge of 10⁻³ of Σ_KK's mean diagonal), so W'_K = W_K + W_R Zᵀ
///   and b' = b + W_R (μ_R − Zᵀ μ_K); it needs at least 4 samples (pixels × images) per kept
///   channel, else it gets the mean alone: b' = b + W_R μ_R;
/// - any other consumer with a bias gets the means through its taps: b' = b + Σ_taps W_R μ_R.
///
/// Example: a removed channel that is constant (a dead ReLU's bias) is replaced exactly.
final class ChannelReconstruction {
    /// A consumer input's channel statistics.
    struct Statistics {
        var mean: [Double]
        /// E[x xᵀ], C×C row-major.
        var moment: [Double]
        /// Samples: images × pixels.
        var samples: Int
    }

    /// One group cut to one width: the kept channels and the consumers' refitted tensors.
    struct Cut {
        var kept: [Int]
        var replacing: [String: Tensor]
    }

    let graph: Graph
    let groups: [ChannelGroup]
    private let statistics: [String: Statistics]
    private let importance: [[Double]]
    private var cache: [Int: [Int: Cut]] = [:]

    /// Gathers the statistics of every value a group's consumer reads over `batches`.
    init(graph: Graph, groups: [ChannelGroup], batches: [Tensor]) throws {
        self.graph = graph
        self.groups = groups
        var watch = graph
        watch.outputs = Array(Set(groups.flatMap(\.consumers).map { ChannelReconstruction.node(graph, $0).inputs[0] })).sorted()
        let engine = Engine(graph: watch)
        var gathered: [String: Statistics] = [:]
        for batch in batches {
            for (name, value) in try engine.run([graph.inputs[0].name: batch]) {
                let c = value.shape[1], plane = value.count / max(value.shape[0] * c, 1)
                var s = gathered[name] ?? Statistics(mean: [Double](repeating: 0, count: c), moment: [Double](repeating: 0, count: c * c), samples: 0)
                let sums = value.channelSums()
                for i in 0..<c { s.mean[i] += sums[i] }
                var moment = [Float](repeating: 0, count: c * c)
                value.floats.withUnsafeBufferPointer { x in
                    // Σ over images of X Xᵀ, X the image's [C, pixels] matrix.
                    for n in 0..<value.shape[0] {
                        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(c), Int32(plane), 1, x.baseAddress! + n * c * plane,
                                    Int32(plane), 1, &moment, Int32(c))
                    }
                }
                for i in 0..<c { for j in i..<c { s.moment[i * c + j] += Double(moment[i * c + j]) } }
                s.samples += value.shape[0] * plane
                gathered[name] = s
            }
        }
        statistics = gathered.mapValues { s in
            let c = s.mean.count, n = Double(max(s.samples, 1))
            var full = s
            full.mean = s.mean.map { $0 / n }
            for i in 0..<c { for j in i..<c {
                full.moment[i * c + j] = s.moment[i * c + j] / n
                full.moment[j * c + i] = full.moment[i * c + j]
            } }
            return full
        }
        let statistics = self.statistics
        importance = groups.map { group in
            var score = [Double](repeating: 0, count: group.channels)
            for name in group.consumers {
                let node = ChannelReconstruction.node(graph, name)
                guard let s = statistics[node.inputs[0]], let axis = group.slices.first(where: { $0.initializer == node.inputs[1] })?.axis else { continue }
                let energy = graph.initializers[node.inputs[1]]!.sums(along: axis) { Double($0 * $0) }, c = energy.count
                for i in 0..<c { score[i] += energy[i] * max(s.moment[i * c + i] - s.mean[i] * s.mean[i], 0) }
            }
            return score
        }
    }

    private static func node(_ graph: Graph, _ name: String) -> Node { graph.nodes.first { $0.name == name }! }

    /// Group `g` cut to `width` channels (cached: a group's cut does not depend on the others').
    func cut(group g: Int, width: Int) -> Cut {
        if let done = cache[g]?[width] { return done }
        let group = groups[g]
        let order = importance[g].indices.sorted { importance[g][$0] != importance[g][$1] ? importance[g][$0] > importance[g][$1] : $0 < $1 }
        let kept = Array(order.prefix(width)).sorted(), removed = Array(order.dropFirst(width)).sorted()
        var replacing: [String: Tensor] = [:]
        for name in group.consumers where !removed.isEmpty {
            let node = ChannelReconstruction.node(graph, name)
            guard let s = statistics[node.inputs[0]], node.inputs.count > 2, let bias = graph.initializers[node.inputs[2]],
                  let axis = group.slices.first(where: { $0.initializer == node.inputs[1] })?.axis else { continue }
            let w = graph.initializers[node.inputs[1]]!
            var factor = 1.0
            if case .gemm(let alpha, let beta, _, _) = node.op { factor = Double(alpha / beta) }
            let refit = Self.refit(node.op, weight: w, axis: axis, kept: kept, removed: removed, statistics: s)
            if let weight = refit.weight { replacing[node.inputs[1]] = weight }
            guard bias.count == refit.shift.count else { continue }
            replacing[node.inputs[2]] = Tensor(shape: bias.shape, floats: zip(bias.floats, refit.shift).map { $0 + Float($1 * factor) })
        }
        let done = Cut(kept: kept, replacing: replacing)
        cache[g, default: [:]][width] = done
        return done
    }

    /// The consumer's new weight (nil: only its bias moves) and the shift of its bias per output.
    private static func refit(_ op: Op, weight w: Tensor, axis: Int, kept: [Int], removed: [Int],
                              statistics s: Statistics) -> (weight: Tensor?, shift: [Double]) {
        let outAxis = w.shape.count == 2 ? 1 - axis : 0
        let outputs = w.shape[outAxis], channels = w.shape[axis]
        let inner = w.shape.dropFirst(axis + 1).reduce(1, *), outInner = w.shape.dropFirst(outAxis + 1).reduce(1, *)
        let values = w.floats
        // W summed over taps, [outputs][channels].
        var summed = [Double](repeating: 0, count: outputs * channels)
        for (i, v) in values.enumerated() { summed[((i / outInner) % outputs) * channels + (i / inner) % channels] += Double(v) }
        var pointwise = w.shape.count == 2
        if case .conv = op { pointwise = w.shape.dropFirst(2).allSatisfy { $0 == 1 } }
        let (k, r) = (kept.count, removed.count)
        // The removed channels' means alone, through every tap: b' = b + Σ_taps W_R μ_R.
        func meansOnly() -> (Tensor?, [Double]) { (nil, (0..<outputs).map { o in removed.reduce(0) { $0 + summed[o * channels + $1] * s.mean[$1] } }) }
        guard pointwise, s.samples >= 4 * k else { return meansOnly() }
        // Centered moments: Σ_KK (k×k) and Σ_KR (k×r, one column per removed channel).
        let c = channels
        func cov(_ i: Int, _ j: Int) -> Double { s.moment[i * c + j] - s.mean[i] * s.mean[j] }
        var a = [Double](repeating: 0, count: k * k), z = [Double](repeating: 0, count: k * r)
        for (x, i) in kept.enumerated() { for (y, j) in kept.enumerated() { a[x * k + y] = cov(i, j) } }
        let ridge = 1e-3 * (0..<k).reduce(0.0) { $0 + a[$1 * k + $1] } / Double(max(k, 1))
        for x in 0..<k { a[x * k + x] += max(ridge, 1e-12) }
        for (col, j) in removed.enumerated() { for (x, i) in kept.enumerated() { z[col * k + x] = cov(i, j) } }
        var (n, nrhs, info) = (Int32(k), Int32(r), Int32(0))
        var uplo = Int8(UInt8(ascii: "U"))
        var lda = n, ldb = n
        dposv_(&uplo, &n, &nrhs, &a, &lda, &z, &ldb, &info)
        guard info == 0 else { return meansOnly() }
        // W'[o, kept[x]] = W[o, kept[x]] + Σ_col W[o, removed[col]] · Z[x, col]; b' = b + W_R μ_R − (W'_K − W_K) μ_K.
        var updated = values
        var (_, shift) = meansOnly()
        for o in 0..<outputs {
            for (x, i) in kept.enumerated() {
                var add = 0.0
                for (col, j) in removed.enumerated() { add += summed[o * channels + j] * z[col * k + x] }
                // A pointwise weight is [outputs, channels] (conv, Gemm with transB) or [channels, outputs].
                updated[outAxis == 0 ? o * outInner + i * inner : i * inner + o * outInner] += Float(add)
                shift[o] -= add * s.mean[i]
            }
        }
        return (Tensor(shape: w.shape, floats: updated), shift)
    }
}
