import Datasets
import Foundation
import Graph
import XCTest

/// Bytes of a real model flipped or cut at random: `compress run` may accept the result or
/// refuse it with a message, but it must never crash.
final class MutatedModelTests: XCTestCase {
    func testMutatedModelsNeverCrash() throws {
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try Paths.shared("models/mnist/mnist-opt-opset8.onnx"))))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("whittle-mutated-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("digit.npy").path
        try Npy.write(Tensor(shape: [1, 1, 28, 28], floats: (0..<784).map { Float($0 % 255) }), path: input)

        var random = SeededRandom(seed: 2026)
        func position(_ count: Int) -> Int { Int((random.next() + 1) / 2 * Float(count)) % count }
        var refused = 0
        for trial in 0..<60 {
            var bytes = original
            if trial % 4 == 3 {
                bytes = Array(bytes.prefix(position(bytes.count)))
            } else {
                for _ in 0...(trial % 8) { bytes[position(bytes.count)] = UInt8(truncatingIfNeeded: position(256)) }
            }
            let path = directory.appendingPathComponent("mutated-\(trial).onnx").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let result = try runCompress(["run", path, "--input", input, "--top", "1"])
            XCTAssertTrue(result.status == 0 || result.status == 1, "trial \(trial): status \(result.status)\n\(result.stderr)")
            XCTAssertFalse(result.stderr.contains("Fatal error") || result.stderr.contains("crashed"), "trial \(trial): \(result.stderr)")
            if result.status != 0 { refused += 1 }
        }
        XCTAssertGreaterThan(refused, 10, "most truncations must be refused")
    }
}
