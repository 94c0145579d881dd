import Foundation
import Importer
import ONNXProto
import XCTest

/// The CONNX shim over Debian's libonnx, on real models.
final class LibONNXTests: XCTestCase {
    private let bundled = Paths.root.appendingPathComponent("models/efficientnet-lite0-fp32.onnx")

    func testVersionsAreLibONNX112() {
        XCTAssertEqual(LibONNX.maxIRVersion, 8)
        XCTAssertEqual(LibONNX.maxOpset, 17)
    }

    func testCheckerAcceptsARealModelAndRejectsAnUnknownOp() throws {
        let data = try Data(contentsOf: bundled)
        XCTAssertNoThrow(try LibONNX.check(data))
        var model = try Onnx_ModelProto(serializedBytes: data)
        model.graph.node[0].opType = "FancyOp"
        XCTAssertThrowsError(try LibONNX.check(try model.serializedData())) { error in
            XCTAssertTrue("\(error)".contains("FancyOp"), "\(error)")
        }
        XCTAssertThrowsError(try LibONNX.check(Data([1, 2, 3])))
    }

    func testShapeInferenceAndVersionConversion() throws {
        let squeezenet = try Data(contentsOf: URL(fileURLWithPath: try Paths.shared("models/imagenet/squeezenet1.0-opset7-fp32.onnx")))
        let converted = try Onnx_ModelProto(serializedBytes: try LibONNX.convert(squeezenet, toOpset: 13))
        XCTAssertEqual(converted.opsetImport.first { $0.domain.isEmpty }?.version, 13)
        let inferred = try Onnx_ModelProto(serializedBytes: try LibONNX.inferShapes(squeezenet))
        XCTAssertGreaterThan(inferred.graph.valueInfo.count, 50)
    }
}
