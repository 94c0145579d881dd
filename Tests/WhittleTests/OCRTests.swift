import Datasets
import Foundation
import XCTest

/// The PP-OCR models (../shared/models/ocr) through the main job in int8: Conv biases and
/// BatchNorms written as separate Add/Mul/BatchNormalization nodes fold into the convs, SE blocks
/// (HardSigmoid × input) and per-channel constants run as tables, and the detector's nearest
/// Resize and ConvTranspose have kernels, and the recognizer's transformer neck runs as a float
/// island. Calibrated and checked on printed-word images that
/// `make ocr-fixtures` renders into .build/ocr-fixtures (Tests/Fixtures/ocr/make_text_images.py).
final class OCRTests: XCTestCase {
    private var fixtures: String {
        get throws {
            let path = Paths.root.appendingPathComponent(".build/ocr-fixtures").path
            guard FileManager.default.fileExists(atPath: path) else {
                throw XCTSkip(".build/ocr-fixtures is absent: `make ocr-fixtures` renders the OCR test images (Pillow)")
            }
            return path
        }
    }

    private func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("whittle-\(getpid())-\(name)").path
    }

    private func succeed(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> CommandResult {
        let result = try runCompress(arguments)
        XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
        return result
    }

    /// The direction classifier, prepared as PP-OCR prepares it, (p / 255 − 0.5) / 0.5: int8
    /// answers as float on the 12 evaluation crops (all right).
    func testDirectionClassifierKeepsItsAnswers() throws {
        let fixtures = try self.fixtures
        let model = try Paths.shared("models/ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx"), wtm = temporary("cls.wtm")
        defer { try? FileManager.default.removeItem(atPath: wtm) }
        let summary = try succeed([model, "--input-shape", "1x3x48x192", "--data", fixtures + "/cls/calib", "--prep", "mean=0.5;std=0.5", "-o", wtm,
                                   "--json"])
        // 127,251 weights: the 18 conv biases written as Adds fold into their convs instead of becoming 256-byte tables per channel.
        let bytes = (try JSONSerialization.jsonObject(with: Data(summary.stdout.utf8)) as? [String: Any])?["weight_bytes"] as? Int ?? .max
        XCTAssertLessThan(bytes, 200_000)
        for path in [model, wtm] {
            let extra = path == model ? ["--input-shape", "1x3x48x192"] : []
            let eval = try succeed(["eval", path, "--data", fixtures + "/cls/eval", "--prep", "mean=0.5;std=0.5", "--json"] + extra)
            let top1 = (try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])?["top1"] as? Double
            XCTAssertEqual(top1, 1.0, path)
        }
    }

    /// The text detector: its probability map thresholded at 0.3 (PP-OCR's default) agrees with
    /// float's on at least 94 % of the pixels of every evaluation page, the text regions' mean
    /// IoU is at least 0.8 (measured: 0.89), and the runtime is bit-exact on every
    /// kernel set.
    func testTextDetectorMapsAgreeWithFloat() throws {
        let fixtures = try self.fixtures
        let model = try Paths.shared("models/ocr/ch_PP-OCRv4_det_infer.onnx"), wtm = temporary("det.wtm")
        defer { try? FileManager.default.removeItem(atPath: wtm) }
        _ = try succeed([model, "--input-shape", "1x3x224x224", "--data", fixtures + "/det/calib", "--prep", "torch", "-o", wtm])
        var ious: [Double] = []
        for i in 0..<6 {
            let page = fixtures + "/det/eval/page\(i).png", float = temporary("float.npy"), int8 = temporary("int8.npy")
            defer { for p in [float, int8] { try? FileManager.default.removeItem(atPath: p) } }
            _ = try succeed(["run", model, "--input-shape", "1x3x224x224", "--input", page, "--prep", "torch", "--output", float])
            _ = try succeed(["run", wtm, "--input", page, "--output", int8]) // the .wtm records its preprocessing
            let f = try Npy.read(path: float).floats.map { $0 > 0.3 }, q = try Npy.read(path: int8).floats.map { $0 > 0.3 }
            XCTAssertEqual(f.count, 224 * 224)
            let agree = Double(zip(f, q).filter { $0 == $1 }.count) / Double(f.count)
            let both = zip(f, q).filter { $0 && $1 }.count, either = zip(f, q).filter { $0 || $1 }.count
            XCTAssertGreaterThan(either, 1000, "page \(i) has text")
            ious.append(Double(both) / Double(max(either, 1)))
            XCTAssertGreaterThanOrEqual(agree, 0.94, "page \(i)")
        }
        print("PP-OCRv4 detector int8 against float: text IoU per page \(ious.map { String(format: "%.3f", $0) })")
        XCTAssertGreaterThanOrEqual(ious.reduce(0, +) / Double(ious.count), 0.8)
        for kernels in ["ref", "avx2", "avx512vnni"] {
            let verified = try runCompress(["verify", wtm, "--data", fixtures + "/det/eval", "--prep", "torch", "--count", "2",
                                            "--kernels", kernels, "--json"])
            if verified.stderr.contains("cannot run") { continue }
            XCTAssertEqual(verified.status, 0, verified.stderr)
            let mismatches = (try JSONSerialization.jsonObject(with: Data(verified.stdout.utf8)) as? [String: Any])?["mismatches"] as? Int
            XCTAssertEqual(mismatches, 0, kernels)
        }
    }

    /// The text recognizer (a CNN, then two transformer blocks and a 6,625-class CTC head over 40
    /// steps): the ops int8 has no kernel for (attention's MatMuls of two activations and its
    /// Softmax, the layer norms, the windowed AveragePool) run as float islands inside the `.wtm`,
    /// bit-exact with QuantSim on every kernel set, while the MatMuls by constant weights (the
    /// 3-D head included) run in int8. Its CTC-decoded class sequences on the 8 evaluation lines
    /// differ from float's by at most 12 % of their characters (measured: 14 edits in 159; the
    /// int8 CNN before the island is what loses them, its SQNR falling to about 9 dB).
    func testTextRecognizerRunsItsNeckInFloat() throws {
        let fixtures = try self.fixtures
        let model = try Paths.shared("models/ocr/ch_PP-OCRv4_rec_infer.onnx"), wtm = temporary("rec.wtm")
        defer { try? FileManager.default.removeItem(atPath: wtm) }
        let prep = ["--prep", "mean=0.5;std=0.5"]
        let summary = try succeed([model, "--input-shape", "1x3x48x320", "--data", fixtures + "/rec/calib", "-o", wtm, "--json"] + prep)
        let floatOps = (try JSONSerialization.jsonObject(with: Data(summary.stdout.utf8)) as? [String: Any])?["float_ops"] as? [[String: String]] ?? []
        XCTAssertEqual(floatOps.first?["name"], "p2o.AveragePool.0")
        XCTAssertEqual(floatOps.filter { $0["op"] == "MatMul" }.count, 4, "attention's, two in each of the two blocks")
        XCTAssertFalse(floatOps.contains { $0["op"] == "Conv" }, "every conv stays int8")
        var characters = 0, edits = 0
        for i in 0..<8 {
            let line = fixtures + "/rec/eval/line\(i).png", float = temporary("float.npy"), int8 = temporary("int8.npy")
            defer { for p in [float, int8] { try? FileManager.default.removeItem(atPath: p) } }
            _ = try succeed(["run", model, "--input-shape", "1x3x48x320", "--input", line, "--output", float] + prep)
            _ = try succeed(["run", wtm, "--input", line, "--output", int8])
            let f = ctcDecode(try Npy.read(path: float).floats, classes: 6625), q = ctcDecode(try Npy.read(path: int8).floats, classes: 6625)
            XCTAssertGreaterThan(f.count, 5, "line \(i) reads as text")
            characters += f.count
            edits += editDistance(f, q)
        }
        print("PP-OCRv4 recognizer int8 with a float island against float: \(edits) edits in \(characters) characters")
        XCTAssertLessThanOrEqual(Double(edits), 0.12 * Double(characters))
        for kernels in ["ref", "avx2", "avx512vnni"] {
            let verified = try runCompress(["verify", wtm, "--data", fixtures + "/rec/eval", "--count", "2", "--kernels", kernels, "--json"] + prep)
            if verified.stderr.contains("cannot run") { continue }
            XCTAssertEqual(verified.status, 0, verified.stderr)
            let mismatches = (try JSONSerialization.jsonObject(with: Data(verified.stdout.utf8)) as? [String: Any])?["mismatches"] as? Int
            XCTAssertEqual(mismatches, 0, kernels)
        }
    }

    /// Greedy CTC decoding: each step's best class, repeats merged, blanks (class 0) dropped.
    private func ctcDecode(_ scores: [Float], classes: Int) -> [Int] {
        var decoded: [Int] = [], previous = -1
        for step in 0..<scores.count / classes {
            let row = scores[step * classes..<(step + 1) * classes]
            let best = row.indices.max { row[$0] < row[$1] }! - step * classes
            if best != previous && best != 0 { decoded.append(best) }
            previous = best
        }
        return decoded
    }

    private func editDistance(_ a: [Int], _ b: [Int]) -> Int {
        var row = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var next = [i + 1]
            for (j, y) in b.enumerated() { next.append(min(row[j + 1] + 1, next[j] + 1, row[j] + (x == y ? 0 : 1))) }
            row = next
        }
        return row[b.count]
    }
}
