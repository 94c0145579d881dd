import Graph

/// The [C, H, W, N] layout (channels outermost, images innermost) in which the Engine runs the
/// small-plane tail of a batch.
///
/// Run one image at a time, a 7×7 pointwise layer is a matrix product with 49 columns, and
/// OpenBLAS packs the whole weight matrix again for each image's 49 columns. Stored
/// [C, H, W, N], the same layer over N images is one product with 49·N columns and the weights
/// are packed once; a depthwise layer takes each tap on a vector of N images, whatever the
/// plane's size. Example: EfficientNet-Lite0's 192 → 1152 expansions at 7×7 read 884 KB of
/// weights for 10.8 M multiply-adds per image; over 16 images they read them once for 173 M.
enum ChannelMajor {
    /// The tail starts where the activations' planes have at most this many pixels (14×14 and
    /// smaller). On EfficientNet-Lite0 at batch 32, paired runs took 0.83 of the image-by-image
    /// time starting at 14×14, against 0.87 at 28×28 and 1.05 at 56×56 (the tail's activations
    /// then leave the caches).
    static let largestPlane = 196
    /// Images per run of the tail: two vectors of eight floats per pixel (32 took 0.93).
    static let images = 16

    /// The first node of the tail: the first node before which one activation alone, of at most
    /// `largestPlane` pixels per plane, is read later (so the head hands the tail that value).
    /// `shapes` are the graph's at batch 1. Nil when no such point exists.
    static func cut(_ graph: Graph, shapes: [String: [Int]]) -> (node: Int, value: String)? {
        var lastRead: [String: Int] = [:]
        for (index, node) in graph.nodes.enumerated() { for input in node.inputs { lastRead[input] = index } }
        for output in graph.outputs { lastRead[output] = graph.nodes.count }
        var live = Set(graph.inputs.map(\.name).filter { lastRead[$0] != nil && graph.initializers[$0] == nil })
        for (index, node) in graph.nodes.enumerated() {
            if index > 0, live.count == 1, let shape = shapes[live.first!], shape.count == 4,
               (2...largestPlane).contains(shape[2] * shape[3]) {
                return (index, live.first!)
            }
            for input in node.inputs where lastRead[input] == index { live.remove(input) }
            for output in node.outputs where lastRead[output] != nil { live.insert(output) }
        }
        return nil
    }

    /// Whether `step` writes [C, H, W, N] when the values in `channelMajor` are stored so:
    /// pointwise and depthwise convolutions and elementwise ops keep the layout, the spatial
    /// mean writes [N, C]. Throws for a step that cannot read the layout.
    static func output(of step: Step, shapes: [String: [Int]], channelMajor: Set<String>) throws -> Bool {
        guard step.reads.contains(where: channelMajor.contains) else { return false }
        let x = step.inputs[0]
        let output = shapes[step.output]!
        switch step.op {
        case .conv(let a) where channelMajor.contains(x) && step.inputs.dropFirst().allSatisfy { !channelMajor.contains($0) }:
            if Convolution.isPointwise(a) || Convolution.isDepthwise(a, weight: shapes[step.inputs[1]]!) {
                return true
            }
        case .relu, .clip, .sigmoid, .sqrt, .erf, .exp, .tanh, .hardSigmoid, .hardSwish:
            return true
        case .add, .sub, .mul, .div, .pow:
            // Same-shaped operands (a residual connection) or a scalar: the layout does not matter.
            if step.inputs.allSatisfy({ channelMajor.contains($0) ? shapes[$0] == output : shapes[$0]!.reduce(1, *) == 1 }) {
                return true
            }
        case .globalAveragePool where channelMajor.contains(x) && shapes[x]!.count == 4:
            return false
        case .reduceMean(let axes, _) where channelMajor.contains(x) && shapes[x]!.count == 4 && Set(axes) == [2, 3]:
            return false
        default:
            break
        }
        throw EngineError("\(step.op.name) '\(step.name)' does not read the [C, H, W, N] layout")
    }
}
