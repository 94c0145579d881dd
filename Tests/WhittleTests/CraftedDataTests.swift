import Foundation
import WhittleRuntime
import XCTest

/// Crafted data files of the kinds that once trapped, allocated gigabytes or were used silently:
/// as calibration folders, `--input` and `--bn-statistics`, each gets a clear message naming the
/// problem, exit status 1, and no output file.
final class CraftedDataTests: ScratchDirectoryTestCase {
    func testMalformedDataFilesGetClearErrors() throws {
        let mnist = try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx")
        let lite0 = Paths.root.appendingPathComponent("models/efficientnet-lite0-fp32.onnx").path
        let photo = try Data(contentsOf: URL(fileURLWithPath: try Paths.shared("data/imagenet-eval/n01484850_great_white_shark.JPEG")))
        let claims: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0xFF, 0xFF, 0, 0, 0xFF, 0xFF] // 2^32 − 1 images of 65535×65535
        let idxImages = Data([0, 0, 8, 3] + claims + [UInt8](repeating: 0, count: 64))
        let idxLabels = Data([0, 0, 8, 1] + claims.prefix(4) + [UInt8](repeating: 0, count: 8))
        let npyHeader = Array("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999, 99999999), }          \n".utf8)
        let cases: [(name: String, files: [String: Data], arguments: [String], words: [String])] = [
            ("huge-png", ["huge.png": png(width: 30_000, height: 30_000)], ["run", mnist, "--input", "huge.png", "--prep", "mnist"],
             ["huge.png", "pixels"]),
            ("truncated-jpeg", ["cut.jpg": photo.prefix(photo.count / 2)], ["run", lite0, "--input", "cut.jpg", "--prep", "tf"],
             ["cut.jpg", "Premature end"]),
            ("empty-image", ["empty.png": Data()], ["run", lite0, "--input", "empty.png", "--prep", "tf"], ["empty.png"]),
            ("npy-overflow", ["big.npy": Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(npyHeader.count), 0] + npyHeader + [0, 0, 0, 0])],
             ["run", lite0, "--input", "big.npy"], ["big.npy", "2^30"]),
            ("idx-overflow", ["idx/train-images-idx3-ubyte": idxImages, "idx/train-labels-idx1-ubyte": idxLabels],
             [mnist, "--data", "idx", "--prep", "mnist", "-o", "out.wtm"], ["IDX sizes do not agree"]),
            ("empty-folder", ["nothing/readme.txt": Data("no images here".utf8)], [mnist, "--data", "nothing", "--prep", "mnist", "-o", "out.wtm"],
             ["has no images"]),
            ("labels-to-missing-files", ["table/labels.tsv": Data("file\tlabel\nabsent.png\t3\n".utf8)],
             [mnist, "--data", "table", "--prep", "mnist", "-o", "out.wtm"], ["absent.png"]),
            ("unreadable-calibration-image", ["broken/a.png": Data("not a png".utf8)],
             [mnist, "--data", "broken", "--prep", "mnist", "-o", "out.wtm"], ["a.png"]),
            ("statistics-not-npz", ["stats.npz": Data("PK not a zip".utf8)], [lite0, "--bn-statistics", "stats.npz", "-o", "out.wtm"],
             ["stats.npz"]),
        ]
        for (name, files, arguments, words) in cases {
            let folder = directory.appendingPathComponent(name)
            for (relative, bytes) in files {
                let url = folder.appendingPathComponent(relative)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try bytes.write(to: url)
            }
            let resolved = arguments.map { argument in
                files.keys.contains(where: { $0 == argument || $0.hasPrefix(argument + "/") }) || argument == "out.wtm"
                    ? folder.appendingPathComponent(argument).path : argument
            }
            let result = try runCompress(resolved)
            XCTAssertEqual(result.status, 1, "\(name): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("Fatal error") || result.stderr.contains("crashed"), "\(name): \(result.stderr)")
            for word in words { XCTAssertTrue(result.stderr.contains(word), "\(name): '\(word)' missing from \(result.stderr)") }
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out.wtm").path), "\(name): an output was written")
        }
    }

    /// A PNG whose header claims `width`×`height` RGB pixels, followed by one empty IDAT chunk.
    private func png(width: UInt32, height: UInt32) -> Data {
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + body
            let crc = wt_crc32(typed, typed.count)
            return bigEndian(UInt32(body.count)) + typed + bigEndian(crc)
        }
        let header = bigEndian(width) + bigEndian(height) + [8, 2, 0, 0, 0]
        return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", []) + chunk("IEND", []))
    }

    private func bigEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
}
