import Datasets
import Graph
import Pipeline
import XCTest

/// Outputs of the float Engine against ONNX Runtime's on the same inputs:
/// max |ours − ORT| / max |ORT| < 1e-4.
final class GoldenTests: XCTestCase {
    private func check(model: String, input: String, expected: String, inputShape: [Int]? = nil,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let loaded = try ModelLoader.load(path: model, inputShape: inputShape)
        let x = try Npy.read(path: input)
        let y = try Inference.float(loaded.graph, input: x)[loaded.graph.outputs[0]]!
        let reference = try Npy.read(path: expected)
        XCTAssertEqual(y.count, reference.count, "output size of \(model)", file: file, line: line)
        let error = relativeError(y.floats, reference.floats)
        XCTAssertLessThan(error, 1e-4, "\(model) on \(input)", file: file, line: line)
    }

    /// The ImageNet models against the goldens in ../shared/models/golden.
    func testImageNetModelsMatchONNXRuntime() throws {
        for name in ["efficientnet-lite0-fp32", "mobilenetv2-12-dequantized-fp32", "squeezenet1.0-opset7-fp32"] {
            let model = try Paths.shared("models/imagenet/\(name).onnx")
            for k in 0..<3 {
                try check(model: model, input: try Paths.shared("models/golden/\(name)/input_\(k).npy"),
                          expected: try Paths.shared("models/golden/\(name)/output_\(k).npy"))
            }
        }
    }

    /// CIFAR, MNIST and OCR models against fixtures made by Tests/Fixtures/make_goldens.py.
    func testOtherModelsMatchCommittedGoldens() throws {
        let models: [(String, String)] = [
            ("resnet20_cifar10", "cifar10"), ("resnet56_cifar10", "cifar10"),
            ("mnist-cntk-opset7", "mnist"), ("mnist-opt-opset8", "mnist"), ("mnist-pytorch-opset11", "mnist"),
            ("ch_ppocr_mobile_v2.0_cls_infer", "ocr"), ("ch_PP-OCRv4_rec_infer", "ocr"), ("ch_PP-OCRv4_det_infer", "ocr"),
        ]
        for (name, folder) in models {
            let model = try Paths.shared("models/\(folder)/\(name).onnx")
            let input = Paths.fixture("goldens/\(name)/input.npy")
            try check(model: model, input: input, expected: Paths.fixture("goldens/\(name)/output.npy"),
                      inputShape: try Npy.read(path: input).shape)
        }
    }

    /// The fusion models (BatchNorm kept unfused) against their shared goldens.
    func testFusionModelsMatchONNXRuntime() throws {
        for name in ["repvgg", "dbb", "norm_ft", "extras/dbb_pad_on_1x1", "extras/dbb_zeropad_NEGATIVE"] {
            let model = try Paths.shared("models/fusion/\(name)/model.onnx")
            for k in 0..<3 {
                try check(model: model, input: try Paths.shared("models/fusion/\(name)/golden/input_\(k).npy"),
                          expected: try Paths.shared("models/fusion/\(name)/golden/output_\(k).npy"))
            }
        }
    }

    /// The already-quantized MobileNetV2 imports as float ops with its quantization parameters
    /// kept, and classifies the golden images as the float model does.
    func testQuantizedMobileNetImportsAsFloat() throws {
        let quantized = try ModelLoader.load(path: try Paths.shared("models/imagenet/mobilenetv2-12-int8.onnx")).graph
        XCTAssertGreaterThan(quantized.quantization.count, 50, "activation scales kept")
        XCTAssertTrue(quantized.initializers.values.allSatisfy(\.isFloat))
        for k in 0..<3 {
            let x = try Npy.read(path: try Paths.shared("models/golden/mobilenetv2-12-dequantized-fp32/input_\(k).npy"))
            let reference = try Npy.read(path: try Paths.shared("models/golden/mobilenetv2-12-dequantized-fp32/output_\(k).npy")).floats
            let y = try Inference.float(quantized, input: x)[quantized.outputs[0]]!.floats
            XCTAssertEqual(y.indices.max { y[$0] < y[$1] }, reference.indices.max { reference[$0] < reference[$1] }, "image \(k)")
            XCTAssertLessThan(relativeError(y, reference), 0.05)
        }
    }

    /// A batch of 3 gives the same rows as three single runs.
    func testBatchedRunEqualsSingleRuns() throws {
        let model = try Paths.shared("models/imagenet/mobilenetv2-12-dequantized-fp32.onnx")
        let graph = try ModelLoader.load(path: model).graph
        let inputs = try (0..<3).map { try Npy.read(path: try Paths.shared("models/golden/mobilenetv2-12-dequantized-fp32/input_\($0).npy")) }
        let batch = Tensor(shape: [3, 3, 224, 224], floats: inputs.flatMap(\.floats))
        let batched = try Inference.float(graph, input: batch)[graph.outputs[0]]!
        XCTAssertEqual(batched.shape, [3, 1000])
        for (k, input) in inputs.enumerated() {
            let single = try Inference.float(graph, input: input)[graph.outputs[0]]!.floats
            XCTAssertLessThan(relativeError(Array(batched.floats[k * 1000..<(k + 1) * 1000]), single), 1e-5)
        }
    }
}
