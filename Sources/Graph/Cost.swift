/// What one node costs: multiply-accumulates for one forward pass, and the parameters it owns.
///
/// "FLOPs" in a Whittle budget means MACs, the convention of the MobileNet and BCNet papers:
/// MobileNetV2-1.0 at 224×224 is 300M. A 3×3 conv from 32 to 64 channels on a 112×112 output
/// costs 64·112·112·32·9 = 231,211,008 MACs.
public struct LayerCost: Equatable, Sendable {
    public var node: String
    public var op: String
    public var outputShape: [Int]
    public var macs: Int
    /// Elements of the float initializers this node reads first (shared weights count once).
    public var params: Int
    /// Bytes of those parameters as stored (float32: 4 per parameter).
    public var bytes: Int
}

extension Graph {
    /// Per-node costs in node order, for the graph's input shapes.
    public func layerCosts() throws -> [LayerCost] {
        let shapes = try inferShapes()
        var counted = Set<String>()
        return nodes.map { node in
            var params = 0
            for input in node.inputs {
                guard let tensor = initializers[input], tensor.isFloat, counted.insert(input).inserted else { continue }
                params += tensor.count
            }
            let inputShapes = node.inputs.map { shapes[$0] ?? [] }
            let output = shapes[node.outputs[0]] ?? []
            return LayerCost(node: node.name, op: node.op.name, outputShape: output,
                             macs: node.op.macs(inputs: inputShapes, output: output),
                             params: params, bytes: params * MemoryLayout<Float>.size)
        }
    }
}

extension Op {
    /// Multiply-accumulates of one execution. Elementwise ops, pools and data movement count 0.
    public func macs(inputs: [[Int]], output: [Int]) -> Int {
        switch self {
        case .conv:
            // every output element sums (C/group)·kH·kW products
            return output.reduce(1, *) * inputs[1].dropFirst().reduce(1, *)
        case .convTranspose:
            // every input element scatters into (M/group)·kH·kW outputs
            return inputs[0].reduce(1, *) * inputs[1].dropFirst().reduce(1, *)
        case .gemm(_, _, let transA, _):
            let k = transA ? inputs[0][0] : inputs[0][1]
            return output.reduce(1, *) * k
        case .matMul:
            return output.reduce(1, *) * (inputs[0].last ?? 1)
        default:
            return 0
        }
    }
}
