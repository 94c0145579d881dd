import Graph
import XCTest

final class GraphTests: XCTestCase {
    func testBroadcastFollowsNumpy() throws {
        XCTAssertEqual(try broadcastShapes([8, 1, 3], [4, 1]), [8, 4, 3])
        XCTAssertEqual(try broadcastShapes([2, 3], []), [2, 3])
        XCTAssertThrowsError(try broadcastShapes([2, 3], [4]))
    }

    func testWindowLengthsWithPaddingAndCeil() {
        XCTAssertEqual(windowOutputLength(input: 112, kernel: 3, stride: 2, padBegin: 0, padEnd: 1), 56)
        XCTAssertEqual(windowOutputLength(input: 224, kernel: 7, stride: 2, padBegin: 3, padEnd: 3), 112)
        // SqueezeNet's ceil-mode max pool: 111 → 55.
        XCTAssertEqual(windowOutputLength(input: 111, kernel: 3, stride: 2, padBegin: 0, padEnd: 0, ceil: true), 55)
        XCTAssertEqual(windowOutputLength(input: 6, kernel: 3, stride: 2, padBegin: 0, padEnd: 0, ceil: true), 3)
        XCTAssertEqual(windowOutputLength(input: 6, kernel: 3, stride: 2, padBegin: 0, padEnd: 0), 2)
        XCTAssertEqual(windowOutputLength(input: 5, kernel: 3, stride: 1, padBegin: 0, padEnd: 0, dilation: 2), 1)
    }

    func testReshapeAndSliceFollowONNX() throws {
        XCTAssertEqual(try reshapeTarget([2, 3, 4], [0, -1]), [2, 12])
        XCTAssertThrowsError(try reshapeTarget([2, 3, 4], [5, -1]))
        XCTAssertEqual(Array(sliceRange(dimension: 10, start: -3, end: Int.max, step: 1)), [7, 8, 9])
        XCTAssertEqual(Array(sliceRange(dimension: 5, start: -1, end: Int.min, step: -2)), [4, 2, 0])
        XCTAssertEqual(Array(sliceRange(dimension: 4, start: 10, end: 20, step: 1)), [])
    }

    func testConvShapeAndMACs() throws {
        let conv = Node(name: "c", op: .conv(ConvAttributes(kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1)),
                        inputs: ["x", "w"], outputs: ["y"])
        let graph = Graph(name: "g", inputs: [ValueInfo(name: "x", shape: [1, 32, 112, 112])], outputs: ["y"], nodes: [conv],
                          initializers: ["w": Tensor(shape: [64, 32, 3, 3], floats: Array(repeating: 0, count: 64 * 32 * 9))])
        try graph.verify()
        let cost = try graph.layerCosts()[0]
        XCTAssertEqual(cost.outputShape, [1, 64, 112, 112])
        XCTAssertEqual(cost.macs, 231_211_008)
        XCTAssertEqual(cost.params, 18_432)
    }

    func testVerifyRejectsUseBeforeDefinition() {
        let relu = Node(name: "r", op: .relu, inputs: ["missing"], outputs: ["y"])
        let graph = Graph(name: "g", inputs: [ValueInfo(name: "x", shape: [1])], outputs: ["y"], nodes: [relu], initializers: [:])
        XCTAssertThrowsError(try graph.verify()) { XCTAssertTrue("\($0)".contains("missing")) }
    }
}
