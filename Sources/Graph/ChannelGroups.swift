/// Channels the graph ties together, so that they can only be removed all at once (DESIGN §5):
/// the output channels of a conv, every value they flow into unchanged in number (activations,
/// pools, BatchNorm, a depthwise conv, a spatial Slice or Pad), and the other convs' outputs a
/// residual Add or Mul joins them with. Removing channel c of a group removes it from every
/// weight that makes or reads it.
///
/// In EfficientNet-Lite0 each inverted residual block's expansion is a group (the 1×1 conv that
/// widens, the depthwise conv, the input of the 1×1 that projects back); the projections of a
/// stage's blocks and the residual Adds that join them are one more.
public struct ChannelGroup: Equatable, Sendable {
    /// One weight tensor's slice along an axis when channels go.
    public struct Slice: Hashable, Sendable {
        public var initializer: String
        public var axis: Int
    }

    /// How many channels the group has.
    public var channels: Int
    /// The conv and fully connected layers whose output channels are the group's, in node order.
    public var producers: [String]
    /// Depthwise convs the group's channels pass through: their outputs are the group's too.
    public var depthwise: [String]
    /// The conv and fully connected layers that read the group's channels as input channels.
    public var consumers: [String]
    /// Every weight, bias and per-channel constant cut when channels go.
    public var slices: [Slice]
    /// Reshapes of [N, C, 1, 1] to [N, C] whose target names the channel count.
    public var reshapes: [String] = []

    /// The weight layers whose output channels the group sets (`Plan.Layer.channels`): the
    /// producers and the depthwise convs.
    public var layers: [String] { producers + depthwise }
}

extension Graph {
    /// The groups whose channels can be removed, in the order of their first producer. Channels
    /// that reach a graph output or input, a Concat, a Transpose, a reshape that mixes them with
    /// other dimensions, a grouped (not depthwise) conv, or any op not listed here are fixed and
    /// in no group; so are channels whose weights another node also reads.
    public func channelGroups() throws -> [ChannelGroup] {
        let shapes = try inferShapes()
        var parent: [Int] = []
        var space: [String: Int] = [:]
        var fixed = Set<Int>()
        var producers: [Int: [String]] = [:], depthwise: [Int: [String]] = [:], consumers: [Int: [String]] = [:]
        var slices: [Int: [ChannelGroup.Slice]] = [:]
        var reshapes: [Int: [String]] = [:]

        func find(_ s: Int) -> Int {
            var s = s
            while parent[s] != s { parent[s] = parent[parent[s]]; s = parent[s] }
            return s
        }
        func newSpace() -> Int { parent.append(parent.count); return parent.count - 1 }
        func channelsOf(_ value: String) -> Int? {
            guard let shape = shapes[value], shape.count >= 2 else { return nil }
            return shape[1]
        }
        /// The space of `value`'s channels; a value that has none yet gets a fixed one.
        func spaceOf(_ value: String) -> Int {
            if let s = space[value] { return s }
            let s = newSpace()
            space[value] = s
            fixed.insert(s)
            return s
        }
        func fix(_ values: [String]) { for v in values where initializers[v] == nil { fixed.insert(spaceOf(v)) } }
        func union(_ a: Int, _ b: Int) { let (ra, rb) = (find(a), find(b)); if ra != rb { parent[rb] = ra } }
        func slice(_ s: Int, _ initializer: String, _ axis: Int) { slices[s, default: []].append(.init(initializer: initializer, axis: axis)) }

        /// A conv or fully connected layer reads its input's channels along `inputAxis` of its
        /// weight and makes channels of its own along `outputAxis`.
        func weightLayer(_ node: Node, inputAxis: Int, outputAxis: Int, bias: ChannelGroup.Slice?) {
            let s = spaceOf(node.inputs[0])
            consumers[s, default: []].append(node.name)
            slice(s, node.inputs[1], inputAxis)
            let made = newSpace()
            space[node.outputs[0]] = made
            producers[made] = [node.name]
            slice(made, node.inputs[1], outputAxis)
            if let bias { slice(made, bias.initializer, bias.axis) }
        }

        for input in inputs { fix([input.name]) }
        for node in nodes {
            let values = node.inputs.filter { initializers[$0] == nil && !$0.isEmpty }
            let output = node.outputs[0]
            let outShape = shapes[output] ?? []
            /// The output carries the channels of input value `from` unchanged in number.
            func passes(_ from: String) {
                guard let c = channelsOf(from), outShape.count >= 2, outShape[1] == c else { return fix(values + [output]) }
                space[output] = spaceOf(from)
            }
            switch node.op {
            case .conv(let a):
                guard values == [node.inputs[0]], let w = initializers[node.inputs[1]], w.shape.count >= 3, let c = channelsOf(values[0]) else {
                    fix(values + [output]); continue
                }
                let bias = node.inputs.count > 2 ? node.inputs[2] : nil
                if a.group == 1 {
                    weightLayer(node, inputAxis: 1, outputAxis: 0, bias: bias.map { .init(initializer: $0, axis: 0) })
                } else if a.group == c, w.shape[0] == c, w.shape[1] == 1 {
                    passes(values[0])
                    let s = spaceOf(values[0])
                    depthwise[s, default: []].append(node.name)
                    slice(s, node.inputs[1], 0)
                    if let bias { slice(s, bias, 0) }
                } else {
                    fix(values + [output])
                }
            case .gemm(_, _, let transA, let transB):
                guard !transA, values == [node.inputs[0]], let w = initializers[node.inputs[1]], w.shape.count == 2,
                      shapes[values[0]]?.count == 2 else { fix(values + [output]); continue }
                let c = node.inputs.count > 2 ? initializers[node.inputs[2]] : nil
                weightLayer(node, inputAxis: transB ? 1 : 0, outputAxis: transB ? 0 : 1,
                            bias: c.flatMap { $0.count > 1 ? .init(initializer: node.inputs[2], axis: $0.shape.count - 1) : nil })
            case .matMul:
                guard values == [node.inputs[0]], node.inputs.count == 2, initializers[node.inputs[1]]?.shape.count == 2,
                      shapes[values[0]]?.count == 2 else { fix(values + [output]); continue }
                weightLayer(node, inputAxis: 0, outputAxis: 1, bias: nil)
            case .add, .sub, .mul, .div, .pow:
                let rank = outShape.count
                guard rank >= 2, !values.isEmpty, values.allSatisfy({ shapes[$0]?.count == rank }) else { fix(values + [output]); continue }
                let joined = values.filter { channelsOf($0) == outShape[1] }
                guard !joined.isEmpty, joined.count + values.filter({ channelsOf($0) == 1 }).count == values.count else {
                    fix(values + [output]); continue
                }
                passes(joined[0])
                for other in joined.dropFirst() { union(spaceOf(joined[0]), spaceOf(other)) }
                for name in node.inputs where initializers[name] != nil {
                    let shape = initializers[name]!.shape
                    let axis = 1 - (rank - shape.count)
                    if axis >= 0, axis < shape.count, shape[axis] == outShape[1], outShape[1] > 1 { slice(spaceOf(joined[0]), name, axis) }
                }
            case .batchNorm:
                guard values.count == 1 else { fix(values + [output]); continue }
                passes(values[0])
                for name in node.inputs.dropFirst() { slice(spaceOf(values[0]), name, 0) }
            case .relu, .sigmoid, .sqrt, .erf, .exp, .tanh, .clip, .hardSigmoid, .hardSwish,
                 .maxPool, .averagePool, .globalAveragePool, .resize:
                guard values.count == 1 else { fix(values + [output]); continue }
                passes(values[0])
            case .reduceMean(let axes, _):
                guard values.count == 1, !axes.isEmpty, !axes.contains(0), !axes.contains(1) else { fix(values + [output]); continue }
                passes(values[0])
            case .slice(_, _, let axes, _):
                guard values.count == 1, !axes.contains(1) else { fix(values + [output]); continue }
                passes(values[0])
            case .pad(let pads, _, _):
                let rank = outShape.count
                guard values.count == 1, rank >= 2, pads.count == 2 * rank, pads[1] == 0, pads[rank + 1] == 0 else { fix(values + [output]); continue }
                passes(values[0])
            case .reshape, .flatten, .squeeze, .unsqueeze:
                // Only [N, C, 1, …] ↔ [N, C]: the channels stay whole and alone.
                guard values.count == 1, let shape = shapes[values[0]], shape.count >= 2, outShape.count >= 2,
                      shape.prefix(2) == outShape.prefix(2), shape.dropFirst(2).allSatisfy({ $0 == 1 }),
                      outShape.dropFirst(2).allSatisfy({ $0 == 1 }) else { fix(values + [output]); continue }
                passes(values[0])
                if case .reshape(let target) = node.op, target.count > 1, target[1] > 0 { reshapes[spaceOf(values[0]), default: []].append(node.name) }
            case .convTranspose, .softmax, .transpose, .concat:
                fix(values + [output])
            }
        }
        fix(outputs)

        // Gather by root; a group any fixed space joined is fixed.
        var roots: [Int: ChannelGroup] = [:]
        let fixedRoots = Set(fixed.map(find))
        for s in 0..<parent.count where !fixedRoots.contains(find(s)) {
            let r = find(s)
            var group = roots[r] ?? ChannelGroup(channels: 0, producers: [], depthwise: [], consumers: [], slices: [])
            group.producers += producers[s] ?? []
            group.depthwise += depthwise[s] ?? []
            group.consumers += consumers[s] ?? []
            group.slices += slices[s] ?? []
            group.reshapes += reshapes[s] ?? []
            roots[r] = group
        }
        // Weights read by any node other than the one slicing them stay whole.
        let readers = self.consumers()
        let order = Dictionary(uniqueKeysWithValues: nodes.enumerated().map { ($0.element.name, $0.offset) })
        return roots.values.compactMap { group -> ChannelGroup? in
            guard let first = group.producers.first, let c = channelsOf(nodes[order[first]!].outputs[0]) else { return nil }
            let cut = Dictionary(grouping: group.slices, by: \.initializer)
            guard cut.allSatisfy({ $0.value.count == 1 && readers[$0.key]?.count == 1 && quantization[$0.key] == nil }) else { return nil }
            var sorted = group
            sorted.channels = c
            sorted.producers.sort { order[$0]! < order[$1]! }
            sorted.depthwise.sort { order[$0]! < order[$1]! }
            sorted.consumers.sort { order[$0]! < order[$1]! }
            return sorted
        }.sorted { order[$0.producers[0]]! < order[$1.producers[0]]! }
    }
}

/// The graph's MACs for any widths of its channel groups, without cutting it: a conv or fully
/// connected layer costs its full MACs × kept/all output channels × kept/all input channels
/// (a depthwise conv: × kept/all channels), exactly what `layerCosts` counts once cut.
/// Example: a 1×1 conv from 96 to 24 channels on 56×56 costs 7,225,344 MACs; with its input
/// group at 48 channels it costs 3,612,672.
public struct WidthCost: Sendable {
    /// Per weight layer: full MACs, output group (or nil) and its channels, input group likewise.
    private var layers: [(macs: Int, out: (group: Int, channels: Int)?, input: (group: Int, channels: Int)?)] = []
    /// The MACs of layers no width changes.
    public private(set) var fixedMACs = 0

    public init(_ graph: Graph, groups: [ChannelGroup]) throws {
        // Depthwise convs are among a group's layers, not its consumers: they scale with it once.
        var output: [String: Int] = [:], input: [String: Int] = [:]
        for (g, group) in groups.enumerated() {
            for name in group.layers { output[name] = g }
            for name in group.consumers { input[name] = g }
        }
        for cost in try graph.withBatch(1).layerCosts() where cost.macs > 0 {
            let out = output[cost.node].map { ($0, groups[$0].channels) }
            let read = input[cost.node].map { ($0, groups[$0].channels) }
            if out == nil && read == nil { fixedMACs += cost.macs } else { layers.append((cost.macs, out, read)) }
        }
    }

    /// The MACs with group g at `widths[g]` channels.
    public func macs(_ widths: [Int]) -> Int {
        layers.reduce(fixedMACs) { total, layer in
            var macs = layer.macs
            if let out = layer.out { macs = macs / out.channels * widths[out.group] }
            if let input = layer.input { macs = macs / input.channels * widths[input.group] }
            return total + macs
        }
    }
}
