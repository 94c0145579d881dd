import Foundation
import Datasets
import Graph
import Pipeline
import WhittleRuntime
import XCTest

final class DatasetsTests: XCTestCase {
    func testNpyRoundTrip() throws {
        let tensor = Tensor(shape: [2, 1, 3], floats: [0, -1.5, 2, 3.25, 1e-7, -8])
        XCTAssertEqual(try Npy.decode(Npy.encode(tensor)), tensor)
        XCTAssertThrowsError(try Npy.decode(Npy.encode(tensor).prefix(90)))
    }

    func testNpzStoredAndDeflated() throws {
        for name in ["stored", "deflated"] {
            let arrays = try Npz.read(path: Paths.fixture("datasets/\(name).npz"))
            XCTAssertEqual(arrays["a"], Tensor(shape: [2, 3], floats: [0, 0.25, 0.5, 0.75, 1, 1.25]), name)
            XCTAssertEqual(arrays["b"], Tensor(shape: [4], int64s: [3, -1, 4, 1]), name)
        }
    }

    /// Decoding and preprocessing agree with Pillow (ort_reference.py's `preprocess`) to the
    /// last 8-bit step; JPEG decoders may round a few pixels differently.
    func testPreprocessingMatchesPillow() throws {
        for (image, prep) in [("china.jpg", "tf"), ("chelsea.png", "torch"), ("coffee.png", "caffe_bgr"), ("rocket.jpg", "tf")] {
            let decoded = try RGBImage.read(path: try Paths.shared("data/package-samples/\(image)"))
            let ours = try Preset(rawValue: prep)!.prepare(decoded, size: 64, channels: 3)
            let stem = (image as NSString).deletingPathExtension
            let pillow = try Npy.read(path: Paths.fixture("datasets/\(stem)_\(prep)_64.npy")).floats
            let step: Float = prep == "tf" ? 1 / 127.5 : prep == "torch" ? 1 / (255 * 0.225) : 1
            let worst = zip(ours, pillow).map { abs($0 - $1) }.max()!
            let mean = zip(ours, pillow).map { abs($0 - $1) }.reduce(0, +) / Float(ours.count)
            XCTAssertLessThanOrEqual(worst, 2.01 * step, image)
            XCTAssertLessThan(mean, 0.05 * step, image)
        }
    }

    /// A spec is (p / scale − mean) / std per channel; its canonical form parses to itself, and
    /// the presets are specs too (tf is mean 1, std 1, scale 127.5).
    func testPreprocessingSpecs() throws {
        let ocr = try XCTUnwrap(Preset(rawValue: "mean=0.5; std=0.5"))
        XCTAssertEqual(ocr.normalize([0, 128, 255], plane: 1, channels: 3), [-1, Float(128) / 127.5 - 1, 1])
        XCTAssertEqual(Preset(rawValue: ocr.rawValue), ocr)
        XCTAssertEqual(ocr.cropFraction, 1)
        let tfSpec = try XCTUnwrap(Preset(rawValue: "mean=1;std=1;scale=127.5;crop=0.875"))
        let pixels: [UInt8] = [0, 7, 200, 255, 31, 64]
        XCTAssertEqual(tfSpec.normalize(pixels, plane: 2, channels: 3), Preset.tf.normalize(pixels, plane: 2, channels: 3))
        let bgr = try XCTUnwrap(Preset(rawValue: "scale=1;bgr"))
        XCTAssertEqual(bgr.normalize([1, 2, 3], plane: 1, channels: 3), [3, 2, 1])
        for bad in ["", "std=0", "mean=1,2", "gamma=1", "scale=-1", "crop=2", "mean=nan", "mean=1;mean=2", "tff"] {
            XCTAssertNil(Preset(rawValue: bad), bad)
        }
    }

    /// Archives and arrays that claim more than they hold are refused before anything is allocated.
    func testInflatedClaimsAreRefused() throws {
        var zip = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Paths.fixture("datasets/deflated.npz"))))
        let end = (0...zip.count - 4).last { zip[$0..<$0 + 4] == [0x50, 0x4B, 0x05, 0x06] }!
        let directory = Int(zip[end + 16]) | Int(zip[end + 17]) << 8 | Int(zip[end + 18]) << 16 | Int(zip[end + 19]) << 24
        zip.replaceSubrange(directory + 24..<directory + 28, with: [0xF0, 0xFF, 0xFF, 0xFF]) // 4 GB uncompressed
        let bomb = FileManager.default.temporaryDirectory.appendingPathComponent("whittle-bomb-\(UUID().uuidString).npz")
        defer { try? FileManager.default.removeItem(at: bomb) }
        try Data(zip).write(to: bomb)
        XCTAssertThrowsError(try Npz.read(path: bomb.path)) { error in XCTAssertTrue("\(error)".contains("more than deflate can give"), "\(error)") }
        let header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999, 99999999), }          \n".utf8)
        let npy = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count), 0] + header + [0, 0, 0, 0])
        XCTAssertThrowsError(try Npy.decode(npy)) { error in XCTAssertTrue("\(error)".contains("2^30"), "\(error)") }
    }

    /// A CMYK JPEG and 16-bit PNGs decode to Pillow's `convert("RGB")` pixels (the PNGs exactly;
    /// the JPEG within the decoders' rounding), a truncated JPEG is refused, as Pillow refuses it,
    /// and an image claiming more pixels than Pillow's limit is refused before it is decoded.
    /// `make decoding-fixtures` writes the images and Pillow's pixels (not committed).
    func testImagesDecodeAsPillowDoes() throws {
        let folder = Paths.root.appendingPathComponent(".build/decoding-fixtures")
        guard FileManager.default.fileExists(atPath: folder.path) else {
            throw XCTSkip(".build/decoding-fixtures is absent: `make decoding-fixtures` writes the decoding test images (Pillow)")
        }
        for (image, tolerance) in [("cmyk.jpg", 2), ("gray16.png", 0), ("rgb16.png", 0)] {
            let decoded = try RGBImage.read(path: folder.appendingPathComponent(image).path)
            let pillow = try Data(contentsOf: folder.appendingPathComponent((image as NSString).deletingPathExtension + ".rgb"))
            XCTAssertEqual(decoded.pixels.count, pillow.count, image)
            let worst = zip(decoded.pixels, pillow).map { abs(Int($0) - Int($1)) }.max() ?? 99
            XCTAssertLessThanOrEqual(worst, tolerance, image)
        }
        XCTAssertThrowsError(try RGBImage.read(path: folder.appendingPathComponent("truncated.jpg").path)) { error in
            XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
        }
        var png = [UInt8](try Data(contentsOf: folder.appendingPathComponent("rgb16.png")))
        png.replaceSubrange(16..<24, with: [0, 0, 0x4E, 0x20, 0, 0, 0x4E, 0x20]) // IHDR: 20000 × 20000, its CRC made good
        let crc = png[12..<29].withUnsafeBytes { wt_crc32($0.baseAddress, $0.count) }
        png.replaceSubrange(29..<33, with: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: crc >> $0) })
        let bomb = FileManager.default.temporaryDirectory.appendingPathComponent("whittle-bomb-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: bomb) }
        try Data(png).write(to: bomb)
        XCTAssertThrowsError(try RGBImage.read(path: bomb.path)) { error in XCTAssertTrue("\(error)".contains("20000×20000"), "\(error)") }
        let sliver = RGBImage(width: 20_000, height: 1, pixels: [UInt8](repeating: 9, count: 60_000))
        XCTAssertThrowsError(try Preset.tf.prepare(sliver, size: 224, channels: 3)) { error in
            XCTAssertTrue("\(error)".contains("too unequal"), "\(error)")
        }
    }

    func testClassSubfolders() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("whittle-classes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, image) in [("cat", "chelsea.png"), ("coffee", "coffee.png"), ("coffee", "china.jpg")] {
            let directory = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: try Paths.shared("data/package-samples/\(image)"),
                                             toPath: directory.appendingPathComponent(image).path)
        }
        let data = try LabeledData(folder: folder.path)
        XCTAssertEqual(data.samples.map(\.label), [0, 1, 1])
        XCTAssertEqual(try data.input(2, preset: .tf, size: 32, channels: 3).count, 3 * 32 * 32)
    }

    /// A folder of images without labels is enough to calibrate, and evaluating on it says why not.
    func testUnlabeledFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("whittle-unlabeled-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for image in ["chelsea.png", "china.jpg"] {
            try FileManager.default.copyItem(atPath: try Paths.shared("data/package-samples/\(image)"), toPath: folder.appendingPathComponent(image).path)
        }
        try Data("not an image".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        let data = try LabeledData(folder: folder.path)
        XCTAssertEqual(data.samples.map(\.label), [LabeledData.unlabeled, LabeledData.unlabeled])
        let mnist = try ModelLoader.load(path: try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx")).graph
        XCTAssertThrowsError(try Evaluation.accuracy(of: mnist, on: data, preset: .mnist)) { error in
            XCTAssertTrue("\(error)".contains("no labels"), "\(error)")
        }
        let empty = folder.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        XCTAssertThrowsError(try LabeledData(folder: empty.path)) { error in
            XCTAssertTrue("\(error)".contains("JPEG/PNG"), "\(error)")
        }
    }

    func testLabeledFolders() throws {
        let eval = try LabeledData(folder: try Paths.shared("data/imagenet-eval"))
        XCTAssertEqual(eval.samples.count, 500)
        let mnist = try LabeledData(folder: try Paths.shared("data/mnist"))
        XCTAssertEqual(mnist.samples.count, 10_000)
        let digit = try mnist.input(0, preset: .raw, size: 28, channels: 1)
        XCTAssertEqual(digit.count, 784)
        XCTAssertEqual(digit.max(), 255)
        XCTAssertEqual(mnist.samples[0].label, 7)
    }
}
