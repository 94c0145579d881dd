import Datasets
import Export
import Foundation
import Graph
import Pipeline
import Quantize
import Runner
import WhittleRuntime
import XCTest

/// The int8 path: requantization arithmetic, budgets, the .wtm round trip and the loader's
/// refusal of corrupted files.
final class QuantizeTests: XCTestCase {
    func testRequantizationEncodesTheRealMultiplier() {
        XCTAssertEqual(Requantization(0.3), Requantization(multiplier: 1_288_490_189, shift: -1))
        XCTAssertEqual(Requantization(1.0), Requantization(multiplier: 1 << 30, shift: 1))
        var random = SeededRandom(seed: 7)
        for _ in 0..<2000 {
            let real = Double(pow(2, 8 * random.next())) * 0.37 // 0.0015 … 95
            let r = Requantization(real)
            let x = Int32(random.next() * 100_000)
            let exact = Double(x) * Double(r.multiplier) / 2_147_483_648 * pow(2, Double(r.shift))
            // Two roundings (high multiply, then the shift) stay within one step of the exact product.
            XCTAssertLessThanOrEqual(abs(Double(r.apply(x)) - exact), 1.0, "x \(x) real \(real)")
            XCTAssertLessThanOrEqual(abs(Double(r.multiplier) / 2_147_483_648 * pow(2, Double(r.shift)) - real), real * 1e-9)
        }
    }

    func testBudgetsParseWithUnits() throws {
        XCTAssertEqual(try Budget(parsing: "6MB"), .weightBytes(6_000_000))
        XCTAssertEqual(try Budget(parsing: "500KB"), .weightBytes(500_000))
        XCTAssertEqual(try Budget(parsing: "300MFLOPs"), .macs(300_000_000))
        XCTAssertEqual(try Budget(parsing: "1.5GMACs"), .macs(1_500_000_000))
        for bad in ["6", "MB", "-3MB", "5 parsecs", "abcMB", "1e30MFLOPs", "1e300MB", "0.1B", "nanMB", "infGBOPs"] {
            XCTAssertThrowsError(try Budget(parsing: bad), bad)
        }
    }

    func testArenaPlanReusesDeadTensors() {
        let tensors = (0..<3).map { IntegerTensor(name: "t\($0)", shape: [100], scale: 1, zeroPoint: 0) }
        let table = [UInt8](0...255)
        let model = IntegerModel(tensors: tensors, ops: [
            IntegerOp(name: "a", kind: .lookup(table), inputs: [0], output: 1),
            IntegerOp(name: "b", kind: .lookup(table), inputs: [1], output: 2),
        ], inputs: [0], outputs: [2])
        let plan = ArenaPlan(model)
        XCTAssertEqual(plan.size, 228)
        XCTAssertEqual(plan.peakLiveBytes, 200)
        XCTAssertEqual(plan.offsets[0], plan.offsets[2])
        XCTAssertEqual(plan.steps.map { [$0.from, $0.to] }, [[0, 1], [1, 2], [2, 3]], "input at step 0, op i at step i + 1, output to the end")
    }

    /// A small real model, calibrated on MNIST, written, read back and run.
    private func mnistModel() throws -> IntegerModel {
        let path = try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx")
        let data = try LabeledData(folder: try Paths.shared("data/mnist"))
        let graph = try ModelLoader.load(path: path).graph
        return try Compression.quantize(graph, data: data, preset: .mnist, limit: 20, observer: .minMax).integer
    }

    func testWTMRoundTripsThroughTheCLoader() throws {
        let model = try mnistModel()
        let read = try WTM.read(try WTM.write(model))
        var unnamed = model
        unnamed.tensors = model.tensors.enumerated().map { i, t in
            IntegerTensor(name: "t\(i)", shape: t.shape, scale: t.scale, zeroPoint: t.zeroPoint)
        }
        unnamed.ops = model.ops.enumerated().map { i, op in
            IntegerOp(name: "op\(i)", kind: op.kind, inputs: op.inputs, output: op.output, clamp: op.clamp)
        }
        XCTAssertEqual(read, unnamed)
    }

    /// Truncations, flipped bytes and out-of-range fields (with the CRC recomputed, so the
    /// structural checks are what stops them) each give a loader error; a mutation the loader
    /// accepts must run without a crash.
    func testCorruptedWTMIsRefused() throws {
        let good = try WTM.write(try mnistModel())
        XCTAssertNoThrow(try Runner(bytes: good))
        for length in [0, 10, 63, 64, 200, good.count / 2, good.count - 1] {
            XCTAssertThrowsError(try Runner(bytes: Array(good.prefix(length))), "truncated to \(length)")
        }
        var flipped = good
        flipped[good.count / 3] ^= 0x10
        assertRefused(flipped, "checksum")

        // Section table entry 0 (tensors) starts at byte 64: kind, count, offset, size.
        assertRefused(patched(good, at: 64 + 8, UInt64(1 << 40)), "section out of the file")
        assertRefused(patched(good, at: 64 + 4, UInt32(1_000_000)), "tensor count")
        let tensors = Int(readUInt64(good, at: 64 + 8)), ops = Int(readUInt64(good, at: 64 + 24 + 8))
        assertRefused(patched(good, at: tensors + 32, UInt32.max - 8), "tensor arena offset")
        assertRefused(patched(good, at: tensors + 8, UInt32(0)), "zero dimension")
        assertRefused(patched(good, at: ops + 8, UInt32(9999)), "op input index")
        assertRefused(patched(good, at: ops, UInt32(77)), "op kind")
        assertRefused(patched(good, at: ops + 84, UInt32.max - 3), "blob offset")

        // Random single-byte changes in the records with a correct CRC: refused or harmless.
        var random = SeededRandom(seed: 11)
        let input = [UInt8](repeating: 128, count: 28 * 28)
        var accepted = 0
        for _ in 0..<400 {
            var bytes = good
            let at = Int((random.next() + 1) / 2 * Float(min(good.count, 4096)))
            bytes[min(at, good.count - 1)] ^= UInt8(truncatingIfNeeded: Int((random.next() + 1) * 127) + 1)
            fixCRC(&bytes)
            if let runner = try? Runner(bytes: bytes) {
                accepted += 1
                _ = try? runner.run(input)
            }
        }
        XCTAssertLessThan(accepted, 400, "no mutation was refused: the loader checks nothing")
    }

    /// Header fields outside the checksum and the tensors' lifetimes are checked: an op's output
    /// placed on its own input, a lifetime that misses a use, a larger arena, a reserved word.
    func testLifetimesAndHeaderAreChecked() throws {
        let good = try WTM.write(try mnistModel())
        let tensors = Int(readUInt64(good, at: 64 + 8)), ops = Int(readUInt64(good, at: 64 + 24 + 8))
        func word(_ offset: Int) -> Int { Int(readUInt32(good, at: offset)) }
        let (input, output) = (word(ops + 8), word(ops + 24)) // op 0's first input and its output
        let record = MemoryLayout<wt_tensor>.stride, arenaOffset = MemoryLayout<wt_tensor>.offset(of: \.arena_offset)!
        let (from, to) = (MemoryLayout<wt_tensor>.offset(of: \.live_from)!, MemoryLayout<wt_tensor>.offset(of: \.live_to)!)
        XCTAssertEqual(word(tensors + record * output + from), 1, "op 0's output is written at step 1")
        XCTAssertEqual(word(tensors + record * input + from), 0, "the model input at step 0")
        assertRefused(patched(good, at: tensors + record * output + arenaOffset, UInt32(word(tensors + record * input + arenaOffset))), "output on its input")
        assertRefused(patched(good, at: tensors + record * output + from, UInt32(2)), "written at another step")
        assertRefused(patched(good, at: tensors + record * output + to, UInt32(1)), "read after its lifetime")
        assertRefused(patched(good, at: tensors + record * input + to, UInt32(0)), "the input dies before op 0 reads it")
        assertRefused(patched(good, at: 28, UInt32(word(28) + 64)), "arena size past the last tensor")
        assertRefused(patched(good, at: 32, UInt32(1)), "reserved header word")
        assertRefused(patched(good, at: ops + 120, UInt32(1)), "reserved op word")
    }

    private func assertRefused(_ bytes: [UInt8], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Runner(bytes: bytes), what, file: file, line: line)
    }

    private func patched<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, _ value: T) -> [UInt8] {
        var copy = bytes
        withUnsafeBytes(of: value.littleEndian) { copy.replaceSubrange(offset..<offset + $0.count, with: $0) }
        fixCRC(&copy)
        return copy
    }

    private func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    private func readUInt64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        bytes[offset..<offset + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Recomputes the header's payload CRC (bytes 24…27) so a patched file passes the checksum.
    private func fixCRC(_ bytes: inout [UInt8]) {
        guard bytes.count > 64 else { return }
        let crc = bytes[64...].withUnsafeBytes { wt_crc32($0.baseAddress, $0.count) }
        withUnsafeBytes(of: crc.littleEndian) { bytes.replaceSubrange(24..<28, with: $0) }
    }
}
