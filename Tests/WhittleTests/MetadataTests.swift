@testable import Export
import Foundation
import XCTest

/// A `.wtm` records how it is used: `run` prepares images as the model was calibrated and names
/// its classes without flags; `inspect` shows what the file records.
final class MetadataTests: ScratchDirectoryTestCase {
    func testSHA256KnownDigests() {
        XCTAssertEqual(SHA256.hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testRunUsesTheRecordedPreprocessingAndNames() throws {
        let model = Paths.root.appendingPathComponent("models/efficientnet-lite0-fp32.onnx").path
        let photo = try Paths.shared("data/package-samples/coffee.png")
        let labels = directory.appendingPathComponent("labels.txt").path
        try (0..<1000).map { $0 == 967 ? "espresso" : "class \($0)" }.joined(separator: "\n").write(toFile: labels, atomically: true, encoding: .utf8)
        let wtm = directory.appendingPathComponent("lite0.wtm").path
        let made = try runCompress([model, "--data", try Paths.shared("data/imagenet-calib"), "--prep", "tf", "--calibration-count", "4",
                                    "--labels", labels, "-o", wtm])
        XCTAssertEqual(made.status, 0, made.stderr)

        func topClasses(_ arguments: [String]) throws -> [(index: Int, line: String)] {
            let result = try runCompress(["run"] + arguments + ["--input", photo, "--top", "5"])
            XCTAssertEqual(result.status, 0, result.stderr)
            return result.stdout.split(separator: "\n").dropFirst().map { (Int($0.split(separator: " ")[0])!, String($0)) }
        }
        let recorded = try topClasses([wtm])
        XCTAssertEqual(recorded.map(\.index), try topClasses([model, "--prep", "tf"]).map(\.index))
        XCTAssertEqual(recorded.first?.index, 967)
        XCTAssertTrue(recorded.first?.line.hasSuffix("espresso") ?? false, "\(recorded)")
        XCTAssertNotEqual(recorded.map(\.index), try topClasses([wtm, "--prep", "caffe_bgr"]).map(\.index), "--prep must still win")

        let inspected = try runCompress(["inspect", wtm, "--json"])
        XCTAssertEqual(inspected.status, 0, inspected.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8)) as! [String: Any]
        let metadata = object["metadata"] as! [String: Any], source = metadata["source"] as! [String: Any]
        XCTAssertEqual(source["sha256"] as? String, try sha256sum(model))
        XCTAssertEqual((metadata["preprocessing"] as? [String: Any])?["preset"] as? String, "tf")

        // The same model without metadata: an image needs --prep again.
        let bare = directory.appendingPathComponent("bare.wtm").path
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: wtm)))
        XCTAssertNotNil(try WTM.metadata(bytes))
        try Data(try WTM.write(try WTM.read(bytes))).write(to: URL(fileURLWithPath: bare))
        XCTAssertNil(try WTM.metadata(Array(try Data(contentsOf: URL(fileURLWithPath: bare)))))
        let refused = try runCompress(["run", bare, "--input", photo])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("--prep"), refused.stderr)
    }

    private func sha256sum(_ path: String) throws -> String {
        String(try runProcess("/usr/bin/sha256sum", [path]).stdout.prefix(64))
    }
}
