import Datasets
import Export
import Foundation
import Graph
import Importer
import ONNXProto
import Pipeline
import XCTest

/// `ONNXWriter`: graphs written as ONNX read back as themselves, and the QDQ export carries
/// exactly the `.wtm`'s quantization.
final class ONNXWriterTests: XCTestCase {
    /// Every float model in ../shared, imported, written and imported again, is the same graph,
    /// and libonnx's checker accepts the file.
    func testWrittenModelsImportAsTheSameGraph() throws {
        let models = ["imagenet/efficientnet-lite0-fp32.onnx", "imagenet/mobilenetv2-12-dequantized-fp32.onnx",
                      "imagenet/squeezenet1.0-opset7-fp32.onnx", "cifar10/resnet20_cifar10.onnx", "mnist/mnist-cntk-opset7.onnx",
                      "mnist/mnist-opt-opset8.onnx", "mnist/mnist-pytorch-opset11.onnx", "fusion/repvgg/model.onnx",
                      "ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx", "ocr/ch_PP-OCRv4_rec_infer.onnx", "ocr/ch_PP-OCRv4_det_infer.onnx"]
        for relative in models {
            // The OCR models have dynamic sizes: the golden inputs give them.
            let name = URL(fileURLWithPath: relative).deletingPathExtension().lastPathComponent
            let shape = relative.hasPrefix("ocr/") ? try Npy.read(path: Paths.fixture("goldens/\(name)/input.npy")).shape : nil
            let original = try ONNXImporter.load(path: try Paths.shared("models/" + relative), inputShape: shape).graph
            let bytes = Data(try ONNXWriter.write(original))
            XCTAssertNoThrow(try LibONNX.check(bytes), relative)
            let again = try ONNXImporter.load(data: bytes).graph
            XCTAssertEqual(again.inputs, original.inputs, relative)
            XCTAssertEqual(again.outputs, original.outputs, relative)
            XCTAssertEqual(again.nodes, original.nodes, relative)
            XCTAssertEqual(again.initializers, original.initializers, relative)
        }
    }

    /// The QDQ export of SqueezeNet holds the `.wtm`'s integer weights (in ONNX's OIHW order),
    /// its biases to within one unit (computed in double from a float scale), and every integer
    /// tensor's scale and zero point on a QuantizeLinear; libonnx and the Importer accept it.
    func testQDQExportCarriesTheWTMQuantization() throws {
        let model = try Paths.shared("models/imagenet/squeezenet1.0-opset7-fp32.onnx")
        let calib = try LabeledData(folder: try Paths.shared("data/imagenet-calib"))
        let result = try Compression.quantize(try ModelLoader.load(path: model).graph, data: calib, preset: .caffeBGR, limit: 10,
                                          observer: .minMax)
        let proto = try ONNXWriter.model(result.qdq)
        let bytes: Data = try proto.serializedBytes()
        XCTAssertNoThrow(try LibONNX.check(bytes))
        XCTAssertNoThrow(try ONNXImporter.load(data: bytes))
        XCTAssertEqual(try assertConvsCarryTheWTMIntegers(result, proto), 26)
        let initializers = Dictionary(uniqueKeysWithValues: proto.graph.initializer.map { ($0.name, $0) })

        for tensor in result.integer.tensors {
            let quantize = try XCTUnwrap(proto.graph.node.first { $0.opType == "QuantizeLinear" && [tensor.name, tensor.name + "_float"].contains($0.input[0]) },
                                         "no QuantizeLinear after \(tensor.name)")
            let scale = try XCTUnwrap(initializers[quantize.input[1]]), zero = try XCTUnwrap(initializers[quantize.input[2]])
            XCTAssertEqual(scale.rawData, withUnsafeBytes(of: tensor.scale) { Data($0) }, tensor.name)
            XCTAssertEqual(Onnx_TensorProto.DataType(rawValue: Int(zero.dataType)), .uint8)
            XCTAssertEqual(zero.rawData, Data([UInt8(tensor.zeroPoint)]), tensor.name)
        }
        XCTAssertEqual(proto.graph.output.map(\.name), result.qdq.outputs, "the graph output keeps its name")
    }

    /// Below int8 learned rounding picks levels nearest rounding would not: the export carries
    /// them, not the float weights rounded again.
    func testQDQExportCarriesLearnedRounding() throws {
        let graph = try ModelLoader.load(path: try Paths.shared("models/imagenet/squeezenet1.0-opset7-fp32.onnx")).graph
        let calib = try LabeledData(folder: try Paths.shared("data/imagenet-calib"))
        let batches = try Compression.calibrationBatches(graph, data: calib, preset: .caffeBGR, limit: 4)
        let plan = try Plan.uniform(graph, scheme: .int4).resolved(for: graph, observer: .minMax)
        let calibrated = try Compression.calibrate(graph, batches: batches, plan: plan, observer: .minMax)
        let learned = try Compression.quantize(calibrated, plan: plan, batches: batches, learnedRounding: true)
        let nearest = try Compression.quantize(calibrated, plan: plan, batches: batches)
        let differ = zip(learned.integer.ops, nearest.integer.ops).contains { a, b in
            if case .conv(_, _, let x, _, _) = a.kind, case .conv(_, _, let y, _, _) = b.kind { return x != y }
            return false
        }
        XCTAssertTrue(differ, "learned rounding chose no other level than nearest rounding")
        XCTAssertEqual(try assertConvsCarryTheWTMIntegers(learned, try ONNXWriter.model(learned.qdq)), 26)
    }

    /// Checks that every conv of `result` reads, in its QDQ export `proto`, the weight integers its
    /// `.wtm` op holds and the same biases (±1); returns how many convs it checked.
    private func assertConvsCarryTheWTMIntegers(_ result: Compression.Result, _ proto: Onnx_ModelProto) throws -> Int {
        let initializers = Dictionary(uniqueKeysWithValues: proto.graph.initializer.map { ($0.name, $0) })
        let producers = Dictionary(uniqueKeysWithValues: proto.graph.node.map { ($0.output[0], $0) })
        /// The integers behind a dequantized initializer, and its DequantizeLinear's inputs.
        func integers(_ value: String) throws -> (values: [Int64], node: Onnx_NodeProto) {
            let node = try XCTUnwrap(producers[value], "no DequantizeLinear gives \(value)")
            XCTAssertEqual(node.opType, "DequantizeLinear")
            let tensor = try XCTUnwrap(initializers[node.input[0]])
            let raw = [UInt8](tensor.rawData)
            switch Onnx_TensorProto.DataType(rawValue: Int(tensor.dataType)) {
            case .int8: return (raw.map { Int64(Int8(bitPattern: $0)) }, node)
            case .int32: return (stride(from: 0, to: raw.count, by: 4).map { i in
                Int64(Int32(bitPattern: UInt32(raw[i]) | UInt32(raw[i + 1]) << 8 | UInt32(raw[i + 2]) << 16 | UInt32(raw[i + 3]) << 24))
            }, node)
            default: XCTFail("\(value) is stored as type \(tensor.dataType)"); return ([], node)
            }
        }

        var convs = 0
        for op in result.integer.ops {
            guard case .conv(let window, _, let weights, let bias, _) = op.kind else { continue }
            let node = try XCTUnwrap(result.qdq.nodes.first { $0.name == op.name })
            let w = try integers(node.inputs[1])
            let shape = try XCTUnwrap(initializers[w.node.input[0]]).dims.map(Int.init)
            XCTAssertEqual(w.node.attribute.first { $0.name == "axis" }?.i, 0)
            var ohwi = [Int8](repeating: 0, count: w.values.count)
            let (m, c, kh, kw) = (shape[0], shape[1], shape[2], shape[3])
            XCTAssertEqual([kh, kw], [window.kernel.h, window.kernel.w])
            for o in 0..<m { for i in 0..<c { for y in 0..<kh { for x in 0..<kw {
                ohwi[((o * kh + y) * kw + x) * c + i] = Int8(w.values[((o * c + i) * kh + y) * kw + x])
            } } } }
            XCTAssertEqual(ohwi.count, weights.count, op.name)
            XCTAssertEqual(zip(ohwi, weights).filter { $0 != $1 }.count, 0, "weights that differ in \(op.name)")
            let b = try integers(node.inputs[2]).values
            XCTAssertEqual(b.count, bias.count)
            XCTAssertLessThanOrEqual(zip(b, bias).map { abs($0 - Int64($1)) }.max() ?? 0, 1, op.name)
            convs += 1
        }
        return convs
    }
}
