import Foundation
import XCTest

/// `compress eval` on the shared images: the float Engine scores what ONNX Runtime scores.
final class AccuracyTests: XCTestCase {
    private func top1(_ model: String, data: String, prep: String) throws -> Double {
        let result = try runCompress(["eval", model, "--data", data, "--prep", prep, "--json", "--batch", "32"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        return object["top1"] as! Double
    }

    /// Within 1.0 pt of ONNX Runtime fp32 (../shared/README.md) on the 500 evaluation images.
    func testImageNetTop1MatchesONNXRuntime() throws {
        let eval = try Paths.shared("data/imagenet-eval")
        let models: [(String, String, Double)] = [
            ("efficientnet-lite0-fp32", "tf", 0.896), ("mobilenetv2-12-dequantized-fp32", "torch", 0.852),
            ("squeezenet1.0-opset7-fp32", "caffe_bgr", 0.644),
        ]
        for (name, prep, reference) in models {
            let accuracy = try top1(try Paths.shared("models/imagenet/\(name).onnx"), data: eval, prep: prep)
            XCTAssertEqual(accuracy, reference, accuracy: 0.01, name)
        }
    }

    /// ResNet-20 on all 10,000 CIFAR-10 test images (JPEG, 32×32, used as they are): ONNX
    /// Runtime scores 80.68 % on the same files (../shared/data/cifar10/README.md).
    func testCIFAR10Top1MatchesONNXRuntime() throws {
        let test = try Paths.shared("data/cifar10/test")
        let accuracy = try top1(try Paths.shared("models/cifar10/resnet20_cifar10.onnx"), data: test, prep: "cifar10")
        XCTAssertEqual(accuracy, 0.8068, accuracy: 0.001)
    }

    func testMNISTAccuracy() throws {
        let data = try Paths.shared("data/mnist")
        XCTAssertGreaterThanOrEqual(try top1(try Paths.shared("models/mnist/mnist-cntk-opset7.onnx"), data: data, prep: "raw"), 0.988)
        XCTAssertGreaterThanOrEqual(try top1(try Paths.shared("models/mnist/mnist-opt-opset8.onnx"), data: data, prep: "raw"), 0.988)
        XCTAssertGreaterThanOrEqual(try top1(try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx"), data: data, prep: "mnist"), 0.978)
    }
}
