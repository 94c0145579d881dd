/// How many weight slots the runtime's layouts give a layer (`Sources/Runtime/kernels/packing.h`),
/// padding included: the count `Export.WeightPacking` writes and the cost model prices, times
/// `Scheme.bytes` for the bytes.
///
/// GEMM layout (fully connected, and conv unless depthwise): per group, output channels in blocks
/// of 16 and depth in groups of 4, zeros past the edges. A 1×1 conv from 24 to 144 channels:
/// 144 · 24 = 3,456 slots; an FC from 1280 to 1000: 1008 · 1280 = 1,290,240. Depthwise: one slot
/// per weight, no padding.
public enum WeightLayout {
    public static let blockOutputs = 16, blockDepth = 4

    /// Slots of one GEMM-packed group of `outputs` rows of `depth` weights.
    public static func gemmCount(outputs: Int, depth: Int) -> Int {
        (outputs + blockOutputs - 1) / blockOutputs * blockOutputs * ((depth + blockDepth - 1) / blockDepth * blockDepth)
    }

    /// Slots of a conv (`group` groups of `outputs / group` rows of `depth`) or, with group 1, an FC.
    public static func count(outputs: Int, depth: Int, group: Int, depthwise: Bool) -> Int {
        depthwise ? outputs * depth : group * gemmCount(outputs: outputs / max(group, 1), depth: depth)
    }
}
