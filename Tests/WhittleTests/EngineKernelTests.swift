import Engine
import Graph
import XCTest

/// The Engine's kernels against plain loops written from the ONNX spec, over sweeps of shapes.
final class EngineKernelTests: XCTestCase {
    private func runSingle(_ op: Op, input: Tensor, constants: [String: Tensor] = [:], constantOrder: [String] = []) throws -> Tensor {
        let node = Node(name: "n", op: op, inputs: ["x"] + constantOrder, outputs: ["y"])
        let graph = Graph(name: "t", inputs: [ValueInfo(name: "x", shape: input.shape)], outputs: ["y"], nodes: [node], initializers: constants)
        return try Engine(graph: graph).run(["x": input])["y"]!
    }

    /// Direct convolution: y[n, m, oy, ox] = b[m] + Σ x[n, g·C/G + c, oy·s − p + ky·d, ox·s − p + kx·d] · w[m, c, ky, kx].
    private func referenceConv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ a: ConvAttributes) -> [Float] {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (m, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let oh = windowOutputLength(input: h, kernel: kh, stride: a.strides[0], padBegin: a.pads[0], padEnd: a.pads[2], dilation: a.dilations[0])
        let ow = windowOutputLength(input: wd, kernel: kw, stride: a.strides[1], padBegin: a.pads[1], padEnd: a.pads[3], dilation: a.dilations[1])
        let xs = x.floats, ws = w.floats, bs = b?.floats
        var y = [Float](repeating: 0, count: n * m * oh * ow)
        for i in 0..<n { for o in 0..<m { for oy in 0..<oh { for ox in 0..<ow {
            let g = o / (m / a.group)
            var sum: Float = bs?[o] ?? 0
            for ci in 0..<cg { for ky in 0..<kh { for kx in 0..<kw {
                let iy = oy * a.strides[0] - a.pads[0] + ky * a.dilations[0]
                let ix = ox * a.strides[1] - a.pads[1] + kx * a.dilations[1]
                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                sum += xs[((i * c + g * cg + ci) * h + iy) * wd + ix] * ws[((o * cg + ci) * kh + ky) * kw + kx]
            } } }
            y[((i * m + o) * oh + oy) * ow + ox] = sum
        } } } }
        return y
    }

    func testConvolutionMatchesDirectLoops() throws {
        // (batch, in, out, size, kernel, stride, pads, dilation, group)
        let cases: [(Int, Int, Int, [Int], [Int], [Int], [Int], [Int], Int)] = [
            (2, 3, 8, [9, 9], [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 1),
            (1, 4, 6, [10, 7], [3, 3], [2, 2], [0, 0, 1, 1], [1, 1], 1),
            (1, 8, 16, [5, 5], [1, 1], [1, 1], [0, 0, 0, 0], [1, 1], 1),
            (2, 8, 8, [11, 11], [5, 5], [2, 2], [2, 2, 2, 2], [1, 1], 8),
            (1, 6, 12, [8, 8], [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 6),
            (1, 4, 6, [9, 9], [3, 3], [1, 1], [2, 2, 2, 2], [2, 2], 2),
            (1, 3, 5, [6, 8], [1, 3], [1, 2], [0, 1, 0, 1], [1, 1], 1),
            (1, 5, 5, [7, 7], [3, 3], [3, 3], [1, 1, 1, 1], [1, 1], 5),
            (2, 6, 6, [9, 21], [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], 6),
            (1, 4, 4, [30, 37], [5, 5], [2, 2], [2, 1, 2, 3], [1, 1], 4),
            (1, 3, 6, [12, 19], [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 3),
            (1, 2, 2, [11, 11], [3, 3], [1, 2], [2, 2, 2, 2], [2, 2], 2),
            // depthwise on rows of at most eight outputs (four-row tiles, the last one overlapping)
            (1, 3, 3, [7, 7], [5, 5], [1, 1], [2, 2, 2, 2], [1, 1], 3),
            (1, 2, 2, [10, 6], [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 2),
            // depthwise on wider rows (two-row tiles, the last one overlapping), multiplier 2
            (1, 2, 4, [13, 14], [5, 5], [1, 1], [2, 2, 2, 2], [1, 1], 2),
            // depth at most Convolution.directDepth: fewer rows than a tile, fewer columns (15)
            (1, 5, 3, [3, 5], [1, 1], [1, 1], [0, 0, 0, 0], [1, 1], 1),
            // above it, SGEMM: in more than one small-matrix block (16 rows · depth 168: 368
            // columns), and after im2col (depth 180)
            (1, 168, 16, [20, 25], [1, 1], [1, 1], [0, 0, 0, 0], [1, 1], 1),
            (1, 20, 6, [9, 10], [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 1),
        ]
        var random = SeededRandom(seed: 1)
        for (batch, cin, cout, size, kernel, strides, pads, dilations, group) in cases {
            let a = ConvAttributes(kernel: kernel, strides: strides, pads: pads, dilations: dilations, group: group)
            let x = random.tensor([batch, cin] + size)
            let w = random.tensor([cout, cin / group] + kernel)
            let b = random.tensor([cout])
            let y = try runSingle(.conv(a), input: x, constants: ["w": w, "b": b], constantOrder: ["w", "b"])
            XCTAssertLessThan(relativeError(y.floats, referenceConv(x, w, b, a)), 1e-5, "conv \(a) on \(x.shape)")
        }
    }

    /// Residual Adds folded into the convolution after them: a ResNet-style Conv → Add → Relu,
    /// whose other Add input comes from a convolution listed earlier (the first, listed before
    /// that input exists, must not take the Add), and a depthwise Conv → Add → Clip.
    func testResidualAddsFoldIntoConvolutions() throws {
        var random = SeededRandom(seed: 7)
        let x = random.tensor([2, 4, 6, 6])
        let pointwise = ConvAttributes(kernel: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1)
        let full = ConvAttributes(kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1)
        let depthwise = ConvAttributes(kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 4)
        let constants = ["wa": random.tensor([4, 4, 1, 1]), "ba": random.tensor([4]), "wb": random.tensor([4, 4, 3, 3]),
                         "bb": random.tensor([4]), "wc": random.tensor([4, 1, 3, 3]), "bc": random.tensor([4])]
        let nodes = [
            Node(name: "a", op: .conv(pointwise), inputs: ["x", "wa", "ba"], outputs: ["ya"]),
            Node(name: "b", op: .conv(full), inputs: ["x", "wb", "bb"], outputs: ["yb"]),
            Node(name: "sum", op: .add, inputs: ["ya", "yb"], outputs: ["s"]),
            Node(name: "relu", op: .relu, inputs: ["s"], outputs: ["r"]),
            Node(name: "c", op: .conv(depthwise), inputs: ["r", "wc", "bc"], outputs: ["yc"]),
            Node(name: "skip", op: .add, inputs: ["r", "yc"], outputs: ["t"]),
            Node(name: "clip", op: .clip(min: 0, max: 1.5), inputs: ["t"], outputs: ["y"]),
        ]
        let graph = Graph(name: "t", inputs: [ValueInfo(name: "x", shape: [1, 4, 6, 6])], outputs: ["y"], nodes: nodes,
                          initializers: constants)
        let y = try Engine(graph: graph).run(["x": x])["y"]!

        let ya = referenceConv(x, constants["wa"]!, constants["ba"]!, pointwise)
        let yb = referenceConv(x, constants["wb"]!, constants["bb"]!, full)
        let r = zip(ya, yb).map { max($0 + $1, 0) }
        let yc = referenceConv(Tensor(shape: x.shape, floats: r), constants["wc"]!, constants["bc"]!, depthwise)
        let expected = zip(r, yc).map { min(max($0 + $1, 0), 1.5) }
        XCTAssertLessThan(relativeError(y.floats, expected), 1e-5)
    }

    func testConvTransposeMatchesScatterLoops() throws {
        var random = SeededRandom(seed: 2)
        for (stride, pad, group) in [(2, 0, 1), (2, 1, 1), (1, 1, 2), (3, 0, 1)] {
            let a = ConvAttributes(kernel: [3, 2], strides: [stride, stride], pads: [pad, pad, pad, pad], dilations: [1, 1], group: group)
            let (cin, cout, h, w) = (4, 6, 5, 4)
            let x = random.tensor([1, cin, h, w]), weight = random.tensor([cin, cout / group, 3, 2])
            let y = try runSingle(.convTranspose(a, outputPadding: [0, 0]), input: x, constants: ["w": weight], constantOrder: ["w"])
            var expected = [Float](repeating: 0, count: y.count)
            let (oh, ow) = (y.shape[2], y.shape[3])
            let (xs, ws) = (x.floats, weight.floats)
            let cg = cin / group, mg = cout / group
            for c in 0..<cin { for iy in 0..<h { for ix in 0..<w { for m in 0..<mg { for ky in 0..<3 { for kx in 0..<2 {
                let oy = iy * stride - pad + ky, ox = ix * stride - pad + kx
                guard oy >= 0, oy < oh, ox >= 0, ox < ow else { continue }
                let o = (c / cg) * mg + m
                expected[(o * oh + oy) * ow + ox] += xs[(c * h + iy) * w + ix] * ws[((c * mg + m) * 3 + ky) * 2 + kx]
            } } } } } }
            XCTAssertLessThan(relativeError(y.floats, expected), 1e-5, "stride \(stride) pad \(pad) group \(group)")
        }
    }

    func testAveragePoolDivisorsAtBorders() throws {
        let x = Tensor(shape: [1, 1, 3, 3], floats: (1...9).map(Float.init))
        let attributes = PoolAttributes(kernel: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: false)
        let excluded = try runSingle(.averagePool(attributes, countIncludePad: false), input: x)
        XCTAssertEqual(excluded.floats, [1, 2.5, 5.5, 7])
        let included = try runSingle(.averagePool(attributes, countIncludePad: true), input: x)
        XCTAssertEqual(included.floats, [0.25, 1.25, 2.75, 7])
        let maxed = try runSingle(.maxPool(PoolAttributes(kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: true)), input: x)
        XCTAssertEqual(maxed.shape, [1, 1, 2, 2])
        XCTAssertEqual(maxed.floats, [5, 6, 8, 9])
    }

    func testDataMovement() throws {
        let x = Tensor(shape: [1, 2, 2, 3], floats: (0..<12).map(Float.init))
        XCTAssertEqual(try runSingle(.transpose(perm: [0, 3, 1, 2]), input: x).floats, [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11])
        XCTAssertEqual(try runSingle(.slice(starts: [1, -1], ends: [2, Int.min], axes: [1, 3], steps: [1, -2]), input: x).floats, [8, 6, 11, 9])
        let row = Tensor(shape: [1, 3], floats: [1, 2, 3])
        XCTAssertEqual(try runSingle(.pad(pads: [0, 2, 0, 1], value: 0, mode: .reflect), input: row).floats, [3, 2, 1, 2, 3, 2])
        XCTAssertEqual(try runSingle(.pad(pads: [0, 1, 0, 2], value: 0, mode: .edge), input: row).floats, [1, 1, 2, 3, 3, 3])
        let square = Tensor(shape: [1, 1, 2, 2], floats: [1, 2, 3, 4])
        let nearest = ResizeAttributes(mode: .nearest, coordinates: .asymmetric, nearest: .floor, scales: [1, 1, 2, 2], sizes: nil)
        XCTAssertEqual(try runSingle(.resize(nearest), input: square).floats, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        let linear = ResizeAttributes(mode: .linear, coordinates: .alignCorners, nearest: .floor, scales: [1, 1, 1.5, 1.5], sizes: nil)
        XCTAssertEqual(try runSingle(.resize(linear), input: square).floats, [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4])
    }

    /// A batch of one takes the matrix-vector path; it must agree with the matrix path.
    func testGemmAndMatMulRowVectors() throws {
        var random = SeededRandom(seed: 3)
        let weight = random.tensor([5, 7]), bias = random.tensor([5])
        let rows = random.tensor([2, 7])
        let gemm = Op.gemm(alpha: 0.5, beta: 2, transA: false, transB: true)
        let both = try runSingle(gemm, input: rows, constants: ["w": weight, "b": bias], constantOrder: ["w", "b"]).floats
        let first = try runSingle(gemm, input: Tensor(shape: [1, 7], floats: Array(rows.floats[0..<7])),
                                  constants: ["w": weight, "b": bias], constantOrder: ["w", "b"]).floats
        XCTAssertLessThan(relativeError(first, Array(both[0..<5])), 1e-6)
        var expected = [Float](repeating: 0, count: 5)
        for n in 0..<5 { expected[n] = 2 * bias.floats[n] + 0.5 * (0..<7).reduce(0) { $0 + rows.floats[$1] * weight.floats[n * 7 + $1] } }
        XCTAssertLessThan(relativeError(first, expected), 1e-6)
        // transA mixes batch rows, so this one runs as a whole through SGEMM.
        let columns = Tensor(shape: [7, 2], floats: (0..<14).map { rows.floats[($0 % 2) * 7 + $0 / 2] })
        let transposed = Op.gemm(alpha: 0.5, beta: 2, transA: true, transB: true)
        let viaGemm = try runSingle(transposed, input: columns, constants: ["w": weight, "b": bias], constantOrder: ["w", "b"]).floats
        XCTAssertLessThan(relativeError(viaGemm, both), 1e-6)
        let right = random.tensor([7, 3])
        let product = try runSingle(.matMul, input: Tensor(shape: [1, 7], floats: Array(rows.floats[0..<7])),
                                    constants: ["r": right], constantOrder: ["r"]).floats
        let reference = (0..<3).map { j in (0..<7).reduce(Float(0)) { $0 + rows.floats[$1] * right.floats[$1 * 3 + j] } }
        XCTAssertLessThan(relativeError(product, reference), 1e-6)
    }

    func testBroadcastArithmeticAndSoftmax() throws {
        let x = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let column = Tensor(shape: [2, 1], floats: [10, 20])
        XCTAssertEqual(try runSingle(.add, input: x, constants: ["c": column], constantOrder: ["c"]).floats, [11, 12, 13, 24, 25, 26])
        let softmax = try runSingle(.softmax(axis: 1), input: x).floats
        XCTAssertEqual(softmax[0] + softmax[1] + softmax[2], 1, accuracy: 1e-6)
        XCTAssertEqual(softmax[2] / softmax[1], exp(1), accuracy: 1e-4)
        XCTAssertEqual(try runSingle(.reduceMean(axes: [1], keepDims: true), input: x).floats, [2, 5])
    }

    /// A graph that mixes images is planned for the whole batch; one that does not runs image by image.
    func testBatchSeparability() throws {
        let flatten = Node(name: "n", op: .reshape(shape: [-1]), inputs: ["x"], outputs: ["y"])
        let mixing = Graph(name: "t", inputs: [ValueInfo(name: "x", shape: [1, 2])], outputs: ["y"], nodes: [flatten], initializers: [:])
        XCTAssertFalse(Engine.isBatchSeparable(mixing))
        let y = try Engine(graph: mixing).run(["x": Tensor(shape: [3, 2], floats: [1, 2, 3, 4, 5, 6])])["y"]!
        XCTAssertEqual(y, Tensor(shape: [6], floats: [1, 2, 3, 4, 5, 6]))
        let perImage = Node(name: "n", op: .reshape(shape: [0, -1]), inputs: ["x"], outputs: ["y"])
        let separable = Graph(name: "t", inputs: [ValueInfo(name: "x", shape: [1, 2, 2])], outputs: ["y"], nodes: [perImage], initializers: [:])
        XCTAssertTrue(Engine.isBatchSeparable(separable))
        let z = try Engine(graph: separable).run(["x": Tensor(shape: [2, 2, 2], floats: [1, 2, 3, 4, 5, 6, 7, 8])])["y"]!
        XCTAssertEqual(z, Tensor(shape: [2, 4], floats: [1, 2, 3, 4, 5, 6, 7, 8]))
    }

    func testBatchSizeChangesReplan() throws {
        let node = Node(name: "n", op: .relu, inputs: ["x"], outputs: ["y"])
        let graph = Graph(name: "t", inputs: [ValueInfo(name: "x", shape: [1, 2])], outputs: ["y"], nodes: [node], initializers: [:])
        let engine = Engine(graph: graph)
        XCTAssertEqual(try engine.run(["x": Tensor(shape: [1, 2], floats: [-1, 1])])["y"]!.floats, [0, 1])
        XCTAssertEqual(try engine.run(["x": Tensor(shape: [3, 2], floats: [-1, 1, 2, -2, 3, 3])])["y"]!.floats, [0, 1, 2, 0, 3, 3])
        XCTAssertThrowsError(try engine.run(["x": Tensor(shape: [1, 3], floats: [0, 0, 0])]))
    }
}
