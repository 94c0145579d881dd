import Graph

/// The weight layouts the runtime's kernels read, as `Sources/Runtime/kernels/packing.h` defines
/// them: written by `WTM.write`, read back by `WTM.read`.
///
/// GEMM layout: output channels in blocks of 16, depth in groups of 4, each 16×4 tile 64 bytes,
/// zeros past the edges. For an FC with K = 6 and M = 3 there are 2 depth groups; w[2][5]
/// lands at byte (0·2 + 1)·64 + 2·4 + 1 = 73 of 128.
enum WeightPacking {
    static let blockOutputs = WeightLayout.blockOutputs, blockDepth = WeightLayout.blockDepth

    /// Packs row-major `weights` [outputs][depth] into the GEMM layout.
    static func packGEMM(_ weights: ArraySlice<Int8>, outputs: Int, depth: Int) -> [Int8] {
        let depthGroups = (depth + blockDepth - 1) / blockDepth
        var packed = [Int8](repeating: 0, count: gemmSize(outputs: outputs, depth: depth))
        let base = weights.startIndex
        for m in 0..<outputs {
            for k in 0..<depth {
                packed[gemmIndex(m, k, depthGroups)] = weights[base + m * depth + k]
            }
        }
        return packed
    }

    /// The row-major [outputs][depth] weights of a GEMM-packed group.
    static func unpackGEMM(_ packed: ArraySlice<Int8>, outputs: Int, depth: Int) -> [Int8] {
        let depthGroups = (depth + blockDepth - 1) / blockDepth
        return (0..<outputs * depth).map { packed[packed.startIndex + gemmIndex($0 / depth, $0 % depth, depthGroups)] }
    }

    static func gemmSize(outputs: Int, depth: Int) -> Int { WeightLayout.gemmCount(outputs: outputs, depth: depth) }

    private static func gemmIndex(_ m: Int, _ k: Int, _ depthGroups: Int) -> Int {
        ((m / blockOutputs) * depthGroups + k / blockDepth) * (blockOutputs * blockDepth) + (m % blockOutputs) * blockDepth + k % blockDepth
    }

    /// Conv weights [M][kh][kw][C/g] in the layout the runtime reads: [tap][M] when depthwise,
    /// else each group GEMM-packed with depth (ky, kx, c).
    static func packConv(_ weights: [Int8], group: Int, outputs: Int, depth: Int, depthwise: Bool) -> [Int8] {
        if depthwise { return transpose(weights, rows: outputs, columns: depth) }
        let perGroup = outputs / group
        return (0..<group).flatMap { g in
            packGEMM(weights[g * perGroup * depth..<(g + 1) * perGroup * depth], outputs: perGroup, depth: depth)
        }
    }

    /// The inverse of `packConv`.
    static func unpackConv(_ packed: [Int8], group: Int, outputs: Int, depth: Int, depthwise: Bool) -> [Int8] {
        if depthwise { return transpose(packed, rows: depth, columns: outputs) }
        let perGroup = outputs / group, groupBytes = gemmSize(outputs: perGroup, depth: depth)
        return (0..<group).flatMap { g in
            unpackGEMM(packed[g * groupBytes..<(g + 1) * groupBytes], outputs: perGroup, depth: depth)
        }
    }

    /// Levels in a runtime layout packed at `scheme`'s bits: two's complement codes, each byte
    /// filled from its low bits up (whittle_runtime.h). int8 is the bytes as they are. Example:
    /// int4 levels [−1, 3] → one byte 0x3F; ternary [1, 0, −1, 1] → 0b01_11_00_01 = 0x71.
    static func packCodes(_ levels: [Int8], scheme: Scheme) -> [UInt8] {
        guard scheme.bits < 8 else { return levels.map { UInt8(bitPattern: $0) } }
        let bits = scheme.bits, mask = UInt8((1 << bits) - 1)
        var packed = [UInt8](repeating: 0, count: scheme.bytes(levels.count))
        for (i, level) in levels.enumerated() {
            packed[i * bits / 8] |= (UInt8(bitPattern: level) & mask) << UInt8(i * bits % 8)
        }
        return packed
    }

    /// The inverse of `packCodes`: `count` levels, sign-extended.
    static func unpackCodes(_ packed: [UInt8], count: Int, scheme: Scheme) -> [Int8] {
        guard scheme.bits < 8 else { return packed.prefix(count).map { Int8(bitPattern: $0) } }
        let bits = scheme.bits, unused = 8 - bits
        return (0..<count).map { i in
            let code = packed[i * bits / 8] >> UInt8(i * bits % 8)
            return Int8(bitPattern: code << UInt8(unused)) >> Int8(unused)
        }
    }

    /// bias − zx · Σk w[m][k]: the bias with the input zero point folded in (what the file stores),
    /// or, with `sign` −1, its inverse. Example: bias 100, zx 128, row sum 3 → 100 − 384 = −284.
    static func foldZeroPoint(_ bias: [Int32], weights: [Int8], depth: Int, zeroPoint: Int32, sign: Int64 = 1) throws -> [Int32] {
        try bias.enumerated().map { m, b in
            let sum = weights[m * depth..<(m + 1) * depth].reduce(Int64(0)) { $0 + Int64($1) }
            let folded = Int64(b) - sign * Int64(zeroPoint) * sum
            guard abs(folded) <= 1 << 30 else {
                throw WTM.FormatError(description: "a bias of \(b) with the zero point folded in (\(folded)) exceeds ±2^30")
            }
            return Int32(folded)
        }
    }

    private static func transpose(_ values: [Int8], rows: Int, columns: Int) -> [Int8] {
        (0..<rows * columns).map { values[($0 % rows) * columns + $0 / rows] }
    }
}
