import Graph
import WhittleRuntime

/// Where each tensor of an `IntegerModel` lives in the runtime's arena.
///
/// A tensor is live from the op that writes it (the model input: from the start) to the last op
/// that reads it (model outputs: to the end). Tensors are placed largest first, each at the lowest
/// 64-byte-aligned offset that overlaps no placed tensor whose lifetime overlaps its own, the
/// greedy-by-size strategy of TFLite's arena planner.
///
/// Example: a chain a → b → c of 100-byte tensors needs 228 bytes: a and c never live together,
/// so they share offset 0, and b sits at offset 128, the next aligned offset past them.
public struct ArenaPlan: Sendable {
    public let offsets: [Int]
    /// The steps each tensor is live over, both included (step 0: the model input; step i + 1: op
    /// i; the last step, op count + 1, for the model outputs), as the `.wtm` records them; empty
    /// (1...0 as bounds) for a tensor no op uses.
    public let steps: [(from: Int, to: Int)]
    /// Bytes the arena must have.
    public let size: Int
    /// The largest sum of the sizes of tensors live at one op: no plan can beat it.
    public let peakLiveBytes: Int

    public init(_ model: IntegerModel) {
        let count = model.tensors.count
        var first = [Int](repeating: Int.max, count: count), last = [Int](repeating: -1, count: count)
        for input in model.inputs { first[input] = -1 }
        for (i, op) in model.ops.enumerated() {
            first[op.output] = min(first[op.output], i)
            last[op.output] = max(last[op.output], i)
            for input in op.inputs { last[input] = max(last[input], i) }
        }
        for output in model.outputs { last[output] = model.ops.count }
        let sizes = model.tensors.map(\.byteCount)
        func overlaps(_ a: Int, _ b: Int) -> Bool { first[a] <= last[b] && first[b] <= last[a] }

        var offsets = [Int](repeating: 0, count: count)
        var placed: [Int] = []
        let alignment = Int(WT_ALIGNMENT)
        for t in (0..<count).sorted(by: { (sizes[$0], $1) > (sizes[$1], $0) }) where first[t] <= last[t] {
            var offset = 0
            for other in placed.filter({ overlaps($0, t) }).sorted(by: { offsets[$0] < offsets[$1] }) {
                if offset + sizes[t] <= offsets[other] { break }
                offset = max(offset, (offsets[other] + sizes[other] + alignment - 1) / alignment * alignment)
            }
            offsets[t] = offset
            placed.append(t)
        }
        self.offsets = offsets
        steps = (0..<count).map { first[$0] <= last[$0] ? (first[$0] + 1, last[$0] + 1) : (1, 0) }
        size = (0..<count).map { offsets[$0] + sizes[$0] }.max() ?? 0
        peakLiveBytes = (-1...model.ops.count).map { i in
            (0..<count).filter { first[$0] <= i && i <= last[$0] }.reduce(0) { $0 + sizes[$1] }
        }.max() ?? 0
    }
}
