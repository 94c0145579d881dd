import Foundation
import XCTest

/// `compress inspect --json` totals against the published figures.
final class InspectTests: XCTestCase {
    private func inspect(_ model: String, _ extra: [String] = []) throws -> [String: Any] {
        let result = try runCompress(["inspect", model, "--json"] + extra)
        XCTAssertEqual(result.status, 0, result.stderr)
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
    }

    func testImageNetModelCosts() throws {
        let lite0 = try inspect(try Paths.shared("models/imagenet/efficientnet-lite0-fp32.onnx"))
        XCTAssertEqual(Double(lite0["macs"] as! Int), 385e6, accuracy: 385e4)
        XCTAssertEqual(Double(lite0["params"] as! Int), 4.63e6, accuracy: 4.63e4)
        XCTAssertEqual(lite0["bytes"] as? Int, (lite0["params"] as! Int) * 4)
        let mobilenet = try inspect(try Paths.shared("models/imagenet/mobilenetv2-12-dequantized-fp32.onnx"))
        XCTAssertEqual(Double(mobilenet["macs"] as! Int), 300e6, accuracy: 300e4)
        XCTAssertEqual(Double(mobilenet["params"] as! Int), 3.49e6, accuracy: 3.49e4)
    }

    func testEveryModelInspects() throws {
        let root = try Paths.shared("models")
        let shapes = ["ch_PP-OCRv4_det_infer.onnx": "1x3x640x640", "ch_PP-OCRv4_rec_infer.onnx": "1x3x48x320",
                      "ch_ppocr_mobile_v2.0_cls_infer.onnx": "1x3x48x192"]
        let files = FileManager.default.enumerator(atPath: root)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".onnx") }
        XCTAssertGreaterThan(files.count, 15)
        for file in files {
            let name = (file as NSString).lastPathComponent
            let object = try inspect(root + "/" + file, shapes[name].map { ["--input-shape", $0] } ?? [])
            XCTAssertGreaterThan(object["macs"] as? Int ?? 0, 0, file)
            XCTAssertGreaterThan(object["params"] as? Int ?? 0, 0, file)
        }
    }

    /// `--int8-coverage` names the nodes that would run in float32, and why, before any work
    /// (Tests/Fixtures/island: a conv, attention in float, a conv).
    func testInt8CoverageNamesTheFloatIsland() throws {
        let object = try inspect(Paths.root.appendingPathComponent("Tests/Fixtures/island/island.onnx").path, ["--int8-coverage"])
        let floatOps = object["float_ops"] as? [[String: String]] ?? []
        XCTAssertEqual(floatOps.count, 19, "all but the convs, the projection by a constant and the Sigmoid after it")
        XCTAssertEqual(floatOps.first?["reason"], "a reshape that reorders NHWC data has no int8 kernel")
        XCTAssertEqual(floatOps.filter { $0["op"] == "MatMul" }.compactMap { $0["reason"] },
                       Array(repeating: "only [N, K] or [B, T, K] · constant [K, M] runs in int8", count: 2))
        XCTAssertFalse(floatOps.contains { $0["op"] == "Conv" })
    }

    func testLayerTable() throws {
        let object = try inspect(try Paths.shared("models/imagenet/efficientnet-lite0-fp32.onnx"), ["--layers"])
        let layers = object["layers"] as! [[String: Any]]
        XCTAssertEqual(layers.reduce(0) { $0 + ($1["macs"] as! Int) }, object["macs"] as! Int)
        XCTAssertEqual(layers.filter { $0["op"] as? String == "Conv" }.count, 49)
    }

    /// `inspect --simplify --json` reports the op counts before and after the passes, as the
    /// fusion models' expected.json gives them.
    func testSimplifyReportsOpsBeforeAndAfter() throws {
        let folder = try Paths.shared("models/fusion/dbb")
        let object = try inspect(folder + "/model.onnx", ["--simplify"])
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/expected.json"))) as! [String: Any]
        XCTAssertEqual(object["ops_before"] as? [String: Int], expected["ops_before"] as? [String: Int])
        XCTAssertEqual(object["ops"] as? [String: Int], expected["ops_after"] as? [String: Int])
        let passes = object["passes"] as! [[String: Any]]
        XCTAssertEqual(passes.first { $0["name"] as? String == "fuse-branches" }?["changes"] as? Int, 4)
    }
}
