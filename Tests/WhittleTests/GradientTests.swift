import Engine
import Foundation
import Graph
import Importer
import XCTest

/// Every differentiable op's backward against central finite differences of its forward, both
/// in float64, at several shapes, strides, groups and paddings; every op's forward and
/// `Tape<Float>` on a real model against the inference Engine.
final class GradientTests: XCTestCase {
    /// How an operand's random values are drawn: uniform in [−1, 1), or shifted away from a
    /// region where the op has no derivative (0 for sqrt, division and pow's base).
    enum Values { case any, positive, wide }

    /// One node reading `operands` (the first is the graph input, the rest parameters); the loss
    /// is Σ r·y for a fixed random r. Checks every input element's gradient.
    private func check(_ op: Op, _ operands: [(shape: [Int], values: Values)], _ label: String,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        var random = SeededRandom(seed: UInt64(label.utf8.reduce(7) { $0 &* 31 &+ UInt64($1) }))
        let names = operands.indices.map { "x\($0)" }
        var initializers: [String: Tensor] = [:]
        var buffers: [Buffer<Double>] = []
        for (shape, kind) in operands {
            let count = shape.reduce(1, *)
            // Distinct values (a shuffled ramp plus noise) so that max pool has no ties.
            var values = (0..<count).map { Double($0) / Double(max(count, 1)) * 2 - 1 + Double(random.next()) * 1e-3 }
            for i in values.indices.reversed() where i > 0 {
                values.swapAt(i, Int((Double(random.next()) + 1) / 2 * Double(i + 1)) % (i + 1))
            }
            switch kind {
            case .any: break
            case .positive: values = values.map { 0.5 + abs($0) }
            case .wide: values = values.map { $0 * 5 }
            }
            buffers.append(Buffer(shape: shape, values: values))
        }
        for (name, buffer) in zip(names, buffers).dropFirst() { initializers[name] = buffer.tensor }
        let graph = Graph(name: label, inputs: [ValueInfo(name: names[0], shape: operands[0].shape)], outputs: ["y"],
                          nodes: [Node(name: "node", op: op, inputs: names, outputs: ["y"])], initializers: initializers)
        try graph.verify()
        let tape = Tape<Double>(graph: graph)
        for (name, buffer) in zip(names, buffers).dropFirst() { tape.parameters[name] = buffer }
        let input = buffers[0]
        let y = try XCTUnwrap(try tape.forward([names[0]: input])["y"])
        // The forward is the inference Engine's (which the goldens check against ONNX Runtime).
        let engine = try Engine(graph: graph).run([names[0]: input.tensor])["y"]!
        XCTAssertEqual(engine.shape, y.shape, label, file: file, line: line)
        XCTAssertLessThan(relativeError(y.values.map(Float.init), engine.floats), 1e-5, "\(label): forward", file: file, line: line)
        let r = Buffer(shape: y.shape, values: (0..<y.count).map { _ in Double(random.next()) })
        let gradients = try tape.backward(["y": r])

        func loss(_ input: Buffer<Double>) throws -> Double {
            let out = try tape.forward([names[0]: input])["y"]!
            return zip(out.values, r.values).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let h = 1e-6
        for (k, name) in names.enumerated() {
            let analytic = try XCTUnwrap(gradients[name], "\(label): no gradient for operand \(k)", file: file, line: line)
            XCTAssertEqual(analytic.shape, buffers[k].shape, label, file: file, line: line)
            var worst = 0.0, scale = 1e-3
            for i in 0..<buffers[k].count {
                var plus = buffers[k], minus = buffers[k]
                plus.values[i] += h
                minus.values[i] -= h
                let numeric: Double
                if k == 0 {
                    numeric = (try loss(plus) - loss(minus)) / (2 * h)
                } else {
                    tape.parameters[name] = plus
                    let up = try loss(input)
                    tape.parameters[name] = minus
                    numeric = (up - (try loss(input))) / (2 * h)
                    tape.parameters[name] = buffers[k]
                }
                worst = max(worst, abs(numeric - analytic.values[i]))
                scale = max(scale, abs(numeric))
            }
            XCTAssertLessThan(worst / scale, 1e-6, "\(label): operand \(k), max |analytic − numeric| \(worst)", file: file, line: line)
        }
    }

    private func conv(_ kernel: [Int], strides: [Int] = [1, 1], pads: [Int] = [0, 0, 0, 0], dilations: [Int] = [1, 1],
                      group: Int = 1) -> Op {
        .conv(ConvAttributes(kernel: kernel, strides: strides, pads: pads, dilations: dilations, group: group))
    }

    func testConvolutionGradients() throws {
        try check(conv([3, 3], pads: [1, 1, 1, 1]), [([2, 4, 5, 6], .any), ([6, 4, 3, 3], .any), ([6], .any)], "3x3 pad 1")
        try check(conv([3, 3], strides: [2, 2], pads: [0, 1, 1, 0]), [([1, 3, 7, 6], .any), ([4, 3, 3, 3], .any)], "3x3 stride 2 asymmetric")
        try check(conv([3, 1], strides: [1, 2], pads: [1, 0, 1, 0], group: 2), [([2, 4, 5, 5], .any), ([6, 2, 3, 1], .any), ([6], .any)],
                  "3x1 grouped")
        try check(conv([3, 3], strides: [2, 2], pads: [1, 1, 1, 1], group: 4), [([1, 4, 6, 7], .any), ([4, 1, 3, 3], .any), ([4], .any)],
                  "depthwise stride 2")
        try check(conv([5, 5], pads: [2, 2, 2, 2], group: 3), [([1, 3, 6, 6], .any), ([3, 1, 5, 5], .any), ([3], .any)], "depthwise 5x5")
        try check(conv([3, 3], pads: [2, 2, 2, 2], dilations: [2, 2]), [([1, 2, 6, 5], .any), ([3, 2, 3, 3], .any)], "dilated")
        try check(conv([1, 1]), [([2, 5, 3, 3], .any), ([4, 5, 1, 1], .any), ([4], .any)], "1x1")
        try check(conv([1, 1], group: 2), [([2, 4, 3, 2], .any), ([6, 2, 1, 1], .any)], "1x1 grouped")
    }

    func testLinearGradients() throws {
        for (transA, transB) in [(false, false), (false, true), (true, false), (true, true)] {
            let a = transA ? [4, 3] : [3, 4], b = transB ? [5, 4] : [4, 5]
            try check(.gemm(alpha: 0.7, beta: 1.3, transA: transA, transB: transB), [(a, .any), (b, .any), ([5], .any)],
                      "gemm \(transA) \(transB)")
        }
        try check(.gemm(alpha: 1, beta: 1, transA: false, transB: true), [([2, 3], .any), ([4, 3], .any), ([2, 4], .any)], "gemm full C")
        try check(.gemm(alpha: 1, beta: 1, transA: false, transB: true), [([2, 3], .any), ([4, 3], .any)], "gemm without C")
        try check(.matMul, [([2, 3, 4], .any), ([4, 5], .any)], "matmul 3-D · 2-D")
        try check(.matMul, [([3, 4], .any), ([4, 2], .any)], "matmul 2-D")
    }

    func testElementwiseGradients() throws {
        try check(.add, [([2, 3, 4, 5], .any), ([1, 3, 1, 1], .any)], "add broadcast")
        try check(.sub, [([2, 3], .any), ([3], .any)], "sub broadcast")
        try check(.mul, [([2, 3, 2, 2], .any), ([2, 3, 2, 2], .any)], "mul")
        try check(.mul, [([2, 4, 3, 3], .any), ([2, 4, 1, 1], .any)], "mul channel scale")
        try check(.div, [([2, 3], .any), ([2, 1], .positive)], "div")
        try check(.pow, [([2, 3], .positive), ([3], .any)], "pow")
        let unary: [(Op, Values)] = [(.relu, .any), (.sigmoid, .wide), (.sqrt, .positive), (.erf, .any), (.exp, .any),
                                     (.tanh, .wide), (.clip(min: -0.5, max: 0.5), .any), (.clip(min: 0, max: 6), .wide),
                                     (.hardSigmoid(alpha: 0.2, beta: 0.5), .wide), (.hardSwish, .wide)]
        for (op, values) in unary { try check(op, [([2, 3, 4], values)], op.name) }
        try check(.softmax(axis: 1), [([2, 5, 3], .wide)], "softmax middle axis")
        try check(.softmax(axis: 1), [([3, 7], .wide)], "softmax last axis")
        try check(.batchNorm(epsilon: 1e-3), [([2, 3, 4, 4], .any), ([3], .any), ([3], .any), ([3], .any), ([3], .positive)], "batchnorm")
    }

    func testPoolingAndShapeGradients() throws {
        try check(.maxPool(PoolAttributes(kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: false)), [([2, 3, 7, 6], .any)],
                  "max pool 3x3 stride 2")
        try check(.maxPool(PoolAttributes(kernel: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: true)), [([1, 2, 6, 6], .any)],
                  "max pool ceil")
        for include in [false, true] {
            try check(.averagePool(PoolAttributes(kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: false), countIncludePad: include),
                      [([2, 2, 5, 6], .any)], "average pool include pad \(include)")
        }
        try check(.globalAveragePool, [([2, 3, 4, 5], .any)], "global average")
        try check(.reduceMean(axes: [2, 3], keepDims: true), [([2, 3, 4, 5], .any)], "mean spatial")
        try check(.reduceMean(axes: [1], keepDims: false), [([2, 3, 4], .any)], "mean channels")
        try check(.reshape(shape: [0, 12]), [([2, 3, 2, 2], .any)], "reshape")
        try check(.flatten(axis: 1), [([2, 3, 2, 2], .any)], "flatten")
        try check(.unsqueeze(axes: [2]), [([2, 3], .any)], "unsqueeze")
        try check(.transpose(perm: [0, 2, 3, 1]), [([2, 3, 4, 5], .any)], "transpose")
        try check(.concat(axis: 1), [([2, 3, 2, 2], .any), ([2, 1, 2, 2], .any)], "concat channels")
        try check(.slice(starts: [1, 0], ends: [3, 5], axes: [1, 3], steps: [1, 2]), [([2, 4, 3, 5], .any)], "slice strided")
        try check(.slice(starts: [-1], ends: [-100], axes: [2], steps: [-2]), [([1, 2, 5, 3], .any)], "slice backwards")
        for mode in [PadMode.constant, .reflect, .edge] {
            try check(.pad(pads: [0, 0, 1, 2, 0, 0, 2, 1], value: 0.5, mode: mode), [([2, 2, 4, 3], .any)], "pad \(mode)")
        }
        for (mode, coordinates) in [(ResizeAttributes.Mode.nearest, ResizeAttributes.CoordinateTransform.asymmetric),
                                    (.linear, .halfPixel), (.linear, .alignCorners)] {
            let a = ResizeAttributes(mode: mode, coordinates: coordinates, nearest: .floor, scales: [1, 1, 2, 1.5], sizes: nil)
            try check(.resize(a), [([1, 2, 3, 4], .any)], "resize \(mode) \(coordinates)")
        }
    }

    func testTransposedConvolutionGradients() throws {
        func op(_ kernel: [Int], strides: [Int], pads: [Int], group: Int = 1, outputPadding: [Int] = [0, 0]) -> Op {
            .convTranspose(ConvAttributes(kernel: kernel, strides: strides, pads: pads, dilations: [1, 1], group: group),
                           outputPadding: outputPadding)
        }
        try check(op([3, 3], strides: [2, 2], pads: [1, 1, 1, 1], outputPadding: [1, 1]), [([2, 3, 3, 4], .any), ([3, 2, 3, 3], .any), ([2], .any)],
                  "transposed stride 2")
        try check(op([2, 2], strides: [2, 2], pads: [0, 0, 0, 0], group: 2), [([1, 4, 3, 3], .any), ([4, 3, 2, 2], .any)], "transposed grouped")
    }

    /// A whole network (MNIST CNN: conv, relu, max pool, reshape, MatMul, add) in float64:
    /// gradients of input pixels and of weights of every parameter against finite differences.
    func testNetworkGradientsMatchFiniteDifferences() throws {
        let graph = try ONNXImporter.load(path: try Paths.shared("models/mnist/mnist-opt-opset8.onnx")).graph
        let tape = Tape<Double>(graph: graph)
        var random = SeededRandom(seed: 4)
        let name = graph.inputs[0].name
        let input = Buffer<Double>(random.tensor([2, 1, 28, 28]))
        let output = try tape.forward([name: input])[graph.outputs[0]]!
        let r = Buffer(shape: output.shape, values: (0..<output.count).map { _ in Double(random.next()) })
        let gradients = try tape.backward([graph.outputs[0]: r])
        func loss() throws -> Double {
            zip(try tape.forward([name: input])[graph.outputs[0]]!.values, r.values).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let h = 1e-6
        for parameter in tape.parameters.keys.sorted() {
            let original = tape.parameters[parameter]!
            let gradient = try XCTUnwrap(gradients[parameter], parameter)
            for _ in 0..<8 {
                let i = Int((Double(random.next()) + 1) / 2 * Double(original.count)) % original.count
                var changed = original
                changed.values[i] += h
                tape.parameters[parameter] = changed
                let up = try loss()
                changed.values[i] -= 2 * h
                tape.parameters[parameter] = changed
                let numeric = (up - (try loss())) / (2 * h)
                tape.parameters[parameter] = original
                XCTAssertEqual(gradient.values[i], numeric, accuracy: 1e-6 * max(1, abs(numeric)), "\(parameter)[\(i)]")
            }
        }
        XCTAssertEqual(gradients[name]?.shape, input.shape)
    }

    /// `Tape<Float>` computes what the inference Engine computes, on MobileNetV2 at batch 2.
    func testTapeForwardMatchesEngine() throws {
        let graph = try ONNXImporter.load(path: try Paths.shared("models/imagenet/mobilenetv2-12-dequantized-fp32.onnx")).graph
        var random = SeededRandom(seed: 1)
        let input = random.tensor([2, 3, 224, 224])
        let expected = try Engine(graph: graph).run([graph.inputs[0].name: input])[graph.outputs[0]]!
        let tape = Tape<Float>(graph: graph)
        let actual = try tape.forward([graph.inputs[0].name: Buffer(input)])[graph.outputs[0]]!
        XCTAssertEqual(actual.shape, expected.shape)
        XCTAssertLessThan(relativeError(actual.values, expected.floats), 1e-5)
    }
}
