import Graph

/// What a plan costs, per integer op and in total: multiply-accumulates, bit operations and the
/// bytes of constant data exactly as the `.wtm` stores them. The one cost model: budgets are
/// checked against it before any calibration, and a search prices its candidates with it.
///
/// BOPs are MACs × weight bits × activation bits: a 1×1 conv of 1,000,000 MACs with int4 weights
/// and 8-bit activations costs 32,000,000 BOPs. A conv's or FC's bytes are its packed weights
/// (`WeightLayout` slots × the scheme's bits / 8) plus 12 per output channel (int32 bias,
/// multiplier and shift); a lookup table is 256 bytes (256 per channel for a per-channel constant),
/// a softmax table 1,024; other ops carry none.
public struct Cost: Equatable, Sendable {
    public struct Layer: Equatable, Sendable {
        public var name: String
        /// The integer op's family: "Conv", "GroupConv", "FullyConnected", "Add", …
        public var kind: String
        public var macs: Int
        /// The weight scheme of a conv or fully connected layer; nil for other ops.
        public var weights: Scheme?
        public var bops: Int
        public var bytes: Int
        /// The latency table's entry for the op; nil without a table or an entry.
        public var milliseconds: Double?
    }

    public var layers: [Layer]
    public var macs: Int { layers.reduce(0) { $0 + $1.macs } }
    public var bops: Int { layers.reduce(0) { $0 + $1.bops } }
    public var bytes: Int { layers.reduce(0) { $0 + $1.bytes } }
    /// The estimated latency: the sum of the ops' table entries; nil when any op has none.
    public var milliseconds: Double? {
        layers.reduce(Double?(0)) { sum, layer in sum.flatMap { s in layer.milliseconds.map { s + $0 } } }
    }

    /// The cost of `plan` (resolved for `graph`) on `graph`, its latency from `latency` if given.
    public static func of(_ graph: Graph, _ plan: Plan, latency: LatencyTable? = nil) throws -> Cost {
        try CostModel(try QuantPlan(graph)).cost(plan, latency: latency)
    }
}

/// The per-op facts a cost is summed from, gathered once from a `QuantPlan` so that pricing a
/// plan is a sum (a search prices thousands).
public struct CostModel: Sendable {
    struct Entry: Sendable {
        var name: String
        var kind: String
        var macs: Int
        /// Weight slots in the runtime's layout; 0 for ops without weights.
        var slots: Int
        var outputs: Int
        /// Bytes that do not depend on the plan: tables.
        var fixedBytes: Int
        /// Operand shapes as the integer tensors hold them, and the weight count: the latency key.
        var input: [Int], output: [Int], weights: Int
    }

    let entries: [Entry]

    public init(_ quantPlan: QuantPlan) throws {
        let costs = try quantPlan.graph.layerCosts()
        let macs = Dictionary(costs.map { ($0.node, $0.macs) }, uniquingKeysWith: +)
        entries = quantPlan.steps.map { step in
            var entry = Entry(name: step.name, kind: step.kind.name, macs: macs[step.name] ?? 0, slots: 0, outputs: 0, fixedBytes: 0,
                              input: QuantPlan.nhwc(quantPlan.shapes[step.inputs[0]] ?? []),
                              output: QuantPlan.nhwc(quantPlan.shapes[step.output] ?? []), weights: 0)
            switch step.kind {
            case .conv(let a, let w, _):
                let outputs = w.shape[0], depth = w.count / max(outputs, 1)
                let inputChannels = quantPlan.shapes[step.inputs[0]]?[1] ?? 0
                let depthwise = inputChannels == a.group && outputs == a.group
                entry.slots = WeightLayout.count(outputs: outputs, depth: depth, group: a.group, depthwise: depthwise)
                entry.outputs = outputs
                entry.weights = w.count
                if a.group > 1 { entry.kind = "GroupConv" }
            case .fullyConnected(let w, let outputs, _):
                entry.slots = WeightLayout.count(outputs: outputs, depth: w.count / max(outputs, 1), group: 1, depthwise: false)
                entry.outputs = outputs
                entry.weights = w.count
            case .convTranspose(_, let w, let outputs, _):
                entry.fixedBytes = w.count + 12 * outputs // int8, no plan layer
                entry.weights = w.count
            case .unary: entry.fixedBytes = 256
            case .perChannel(let channels, _): entry.fixedBytes = 256 * channels
            case .softmax: entry.fixedBytes = 256 * 4
            case .island(.matMul(let constant, let bias)): entry.fixedBytes = 4 * ((constant?.values.count ?? 0) + (bias?.count ?? 0))
            case .island(.binary(_, let constant?)): entry.fixedBytes = 4 * constant.values.count
            default: break
            }
            return entry
        }
    }

    /// The cost of `plan`: a weight layer the plan leaves out is int8, as `Plan.resolved` makes it.
    public func cost(_ plan: Plan, latency: LatencyTable? = nil) -> Cost {
        let byName = Dictionary(plan.layers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        return Cost(layers: entries.map { e in
            let layer = byName[e.name] ?? Plan.Layer(name: e.name)
            let scheme = e.slots > 0 ? layer.weights : .int8
            let ms = latency?.milliseconds[LatencyTable.key(kind: e.kind, input: e.input, output: e.output, weights: e.weights, scheme: scheme)]
            guard e.slots > 0 else {
                return Cost.Layer(name: e.name, kind: e.kind, macs: e.macs, weights: nil, bops: 0, bytes: e.fixedBytes, milliseconds: ms)
            }
            return Cost.Layer(name: e.name, kind: e.kind, macs: e.macs, weights: layer.weights,
                              bops: e.macs * layer.weights.bits * layer.activationBits,
                              bytes: layer.weights.bytes(e.slots) + 12 * e.outputs, milliseconds: ms)
        })
    }

    /// The plan that, layer by layer, takes the scheme of least `measure` (nil: not an option),
    /// int8 where no scheme has one: the cheapest any plan gets by that measure, since layers
    /// cost independently. Example: by bytes, 2-bit weights everywhere.
    public func cheapest(by measure: (Cost.Layer) -> Double?, latency: LatencyTable? = nil) -> Plan {
        let options = Scheme.allCases.map { scheme in
            (scheme, cost(Plan(layers: entries.filter { $0.slots > 0 }.map { Plan.Layer(name: $0.name, weights: scheme) }), latency: latency))
        }
        return Plan(layers: entries.indices.filter { entries[$0].slots > 0 }.map { i in
            let best = options.compactMap { scheme, cost in measure(cost.layers[i]).map { (scheme, $0) } }.min { $0.1 < $1.1 }
            return Plan.Layer(name: entries[i].name, weights: best?.0 ?? .int8)
        })
    }
}

extension QuantPlan.Step.Kind {
    /// The integer op family the step becomes, as `IntegerOp.kindName` names it (group convs aside).
    var name: String {
        switch self {
        case .conv: return "Conv"
        case .fullyConnected: return "FullyConnected"
        case .add: return "Add"
        case .mul: return "Mul"
        case .unary, .perChannel: return "Lookup"
        case .maxPool: return "MaxPool"
        case .mean: return "Mean"
        case .concat: return "Concat"
        case .reshape: return "Reshape"
        case .softmax: return "Softmax"
        case .slice: return "Slice"
        case .pad: return "Pad"
        case .resize: return "Resize"
        case .convTranspose: return "ConvTranspose"
        case .island(let op): return op.name
        }
    }
}
