import Foundation

/// Every decision of the main job, layer by layer (DESIGN §1, "the plan is the spine"): for each
/// conv and fully connected layer, its kept output channels, its weight scheme and scale rule,
/// its activation bits and the observer of its output's range. A search produces a plan, the
/// quantizer lowers each layer by it, the cost model prices it; int8 everywhere is the first plan.
///
/// As JSON (`--plan`, and the `plan` of a `--report`), the layers in node order; a layer left out
/// of a plan read from a file is int8, and a field left out takes its default:
///
///     {"layers": [{"name": "conv_stem", "weights": "int8"},
///                 {"name": "blocks.1.conv_pwl", "weights": "int4", "weight_scale": "mse"}]}
public struct Plan: Hashable, Codable, Sendable {
    public struct Layer: Hashable, Codable, Sendable {
        /// The node's name in the simplified graph.
        public var name: String
        public var weights: Scheme
        /// nil: the scheme's standard rule (`WeightScale.standard`).
        public var weightScale: WeightScale?
        public var activationBits: Int
        /// The observer of the layer's output range; nil: the job's.
        public var observer: Observer?
        /// Kept output channels; nil: all of them.
        public var channels: Int?

        public init(name: String, weights: Scheme = .int8, weightScale: WeightScale? = nil, activationBits: Int = 8,
                    observer: Observer? = nil, channels: Int? = nil) {
            self.name = name
            self.weights = weights
            self.weightScale = weightScale
            self.activationBits = activationBits
            self.observer = observer
            self.channels = channels
        }

        /// The scale rule in force.
        public var scaleRule: WeightScale { weightScale ?? WeightScale.standard(for: weights) }

        enum CodingKeys: String, CodingKey {
            case name, weights, weightScale = "weight_scale", activationBits = "activation_bits", observer, channels
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(name: try c.decode(String.self, forKey: .name),
                      weights: try c.decodeIfPresent(Scheme.self, forKey: .weights) ?? .int8,
                      weightScale: try c.decodeIfPresent(WeightScale.self, forKey: .weightScale),
                      activationBits: try c.decodeIfPresent(Int.self, forKey: .activationBits) ?? 8,
                      observer: try c.decodeIfPresent(Observer.self, forKey: .observer),
                      channels: try c.decodeIfPresent(Int.self, forKey: .channels))
        }
    }

    public var layers: [Layer]

    public init(layers: [Layer]) { self.layers = layers }

    /// The layer named `name`, if the plan has it.
    public subscript(name: String) -> Layer? { layers.first { $0.name == name } }

    /// One scheme for every weight layer of `graph`, with `rule` (nil: the scheme's standard one);
    /// the first and last layers keep int8 unless `everywhere`.
    public static func uniform(_ graph: Graph, scheme: Scheme, rule: WeightScale? = nil, everywhere: Bool = false) -> Plan {
        let names = graph.weightLayers().map(\.name)
        return Plan(layers: names.enumerated().map { i, name in
            let end = i == 0 || i == names.count - 1
            return end && !everywhere ? Layer(name: name) : Layer(name: name, weights: scheme, weightScale: rule)
        })
    }

    /// The schemes in a few words: "int8", "int4 (first and last layers int8)", or "mixed".
    public var schemes: String {
        let used = Set(layers.map(\.weights))
        if used.count == 1, let only = used.first { return only.rawValue }
        let inner = Set(layers.dropFirst().dropLast().map(\.weights))
        if inner.count == 1, let only = inner.first, layers.first?.weights == .int8, layers.last?.weights == .int8 {
            return only.rawValue + " (first and last layers int8)"
        }
        return "mixed"
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// This plan checked against `graph` and completed: one layer per weight layer in node order
    /// (int8 where the plan had none), every field set, `observer` where the plan left it open.
    /// Throws for a name the graph has no weight layer of, a duplicate, activations other than
    /// 8-bit, a scale rule the scheme does not take, or kept channels out of range, different
    /// within a channel group (`Graph.channelGroups`: the layers a depthwise conv or a residual
    /// Add ties share one number), or fewer than all where the channels are in no group. Every
    /// layer of a group takes the number any of them was given.
    public func resolved(for graph: Graph, observer: Observer) throws -> Plan {
        let weightLayers = graph.weightLayers()
        let known = Dictionary(uniqueKeysWithValues: weightLayers.map { ($0.name, $0.outputs) })
        var given: [String: Layer] = [:]
        for layer in layers {
            guard let outputs = known[layer.name] else {
                let some = weightLayers.prefix(3).map { "'\($0.name)'" }.joined(separator: ", ")
                throw Invalid(description: "the plan names '\(layer.name)', which is no conv or fully connected layer of the model (its \(weightLayers.count) are named like \(some))")
            }
            guard given.updateValue(layer, forKey: layer.name) == nil else {
                throw Invalid(description: "the plan names layer '\(layer.name)' twice")
            }
            guard layer.activationBits == 8 else {
                throw Invalid(description: "layer '\(layer.name)': \(layer.activationBits)-bit activations do not run; activations are 8-bit")
            }
            if [.absMean, .absMedian].contains(layer.scaleRule), layer.weights != .ternary {
                throw Invalid(description: "layer '\(layer.name)': weight_scale \(layer.scaleRule.rawValue) is for ternary weights; \(layer.weights.rawValue) takes max or mse")
            }
            if let channels = layer.channels, !(1...outputs).contains(channels) {
                throw Invalid(description: "layer '\(layer.name)' keeps \(channels) channels: it has \(outputs), so keep 1 to \(outputs)")
            }
        }
        // Layers whose channels are tied keep one number; channels in no group stay whole. A plan
        // that removes no channel (every plan a bit-width search probes) needs no groups.
        var width: [String: Int] = [:]
        let cuts = layers.contains { layer in layer.channels.map { $0 != known[layer.name] } ?? false }
        for group in cuts ? try graph.channelGroups() : [] {
            let asked = group.layers.compactMap { name in given[name]?.channels.map { (name, $0) } }
            if let (first, channels) = asked.first, let (other, differs) = asked.first(where: { $0.1 != channels }) {
                throw Invalid(description: "layers '\(first)' and '\(other)' share their channels (\(group.channels), joined by a depthwise conv, residual Add or Mul) and must keep one number of them, not \(channels) and \(differs)")
            }
            for name in group.layers { width[name] = asked.first?.1 ?? group.channels }
        }
        for layer in layers {
            if let channels = layer.channels, channels != known[layer.name], width[layer.name] == nil {
                throw Invalid(description: "layer '\(layer.name)' must keep all its \(known[layer.name]!) channels: they reach the model's output, a Concat, a reshape or a grouped conv, or its weights are shared")
            }
        }
        return Plan(layers: weightLayers.map { w in
            var layer = given[w.name] ?? Layer(name: w.name)
            layer.weightScale = layer.scaleRule
            layer.observer = layer.observer ?? observer
            layer.channels = width[w.name] ?? w.outputs
            return layer
        })
    }

    /// Reads a plan file (`read(json:)`).
    public static func read(path: String) throws -> Plan {
        guard let data = FileManager.default.contents(atPath: path) else { throw Invalid(description: "cannot read the plan file '\(path)'") }
        do { return try read(json: data) } catch let error as Invalid { throw Invalid(description: "\(path): \(error.description)") }
    }

    /// Reads a plan from JSON: a plan, or a `--report` that holds one under "plan".
    public static func read(json data: Data) throws -> Plan {
        struct Report: Decodable { var plan: Plan }
        do {
            if let report = try? JSONDecoder().decode(Report.self, from: data) { return report.plan }
            return try JSONDecoder().decode(Plan.self, from: data)
        } catch let error as DecodingError {
            throw Invalid(description: "not a plan: \(Plan.explain(error))")
        }
    }

    /// The JSON form, layers in order, keys sorted.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    private static func explain(_ error: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String { keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined() }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context.codingPath)) has no \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return String(describing: error)
        }
    }
}

extension Graph {
    /// The conv, Gemm and MatMul nodes with constant weights, in node order, with the value they
    /// read, their output channels, the initializer holding their weights, and their op: the
    /// layers a plan speaks of.
    public func weightLayers() -> [(name: String, input: String, outputs: Int, weight: String, op: Op)] {
        nodes.compactMap { node in
            guard node.inputs.count > 1, let w = initializers[node.inputs[1]] else { return nil }
            let outputs: Int
            switch node.op {
            case .conv where w.shape.count >= 3: outputs = w.shape[0]
            case .gemm(_, _, _, let transB) where w.shape.count == 2: outputs = transB ? w.shape[0] : w.shape[1]
            case .matMul where w.shape.count == 2: outputs = w.shape[1]
            default: return nil
            }
            return (node.name, node.inputs[0], outputs, node.inputs[1], node.op)
        }
    }

    /// Groups of `weightLayers()` indices that read one weight tensor and so must share its
    /// scheme; layers with weights of their own are in no group.
    public func tiedWeightLayers() -> [[Int]] {
        let readers = Dictionary(grouping: weightLayers().enumerated().map { ($0.offset, $0.element.weight) }, by: \.1)
        return readers.values.map { $0.map(\.0).sorted() }.filter { $0.count > 1 }.sorted { $0[0] < $1[0] }
    }
}
