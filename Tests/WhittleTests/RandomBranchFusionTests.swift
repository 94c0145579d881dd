import Engine
import Graph
import Pipeline
import Rewrite
import XCTest

/// Property test: random re-parameterized blocks (random widths, strides, groups, kernel sizes
/// and branch sets) fuse into one convolution that equals the unfused block within 1e-5.
final class RandomBranchFusionTests: XCTestCase {
    private struct Builder {
        var random: SeededRandom
        var nodes: [Node] = []
        var initializers: [String: Tensor] = [:]

        mutating func constant(_ shape: [Int], positive: Bool = false) -> String {
            let name = "c\(initializers.count)"
            var tensor = random.tensor(shape)
            if positive { tensor = Tensor(shape: shape, floats: tensor.floats.map { abs($0) + 0.5 }) }
            initializers[name] = tensor
            return name
        }

        mutating func add(_ op: Op, _ inputs: [String]) -> String {
            let output = "v\(nodes.count)"
            nodes.append(Node(name: "n\(nodes.count)", op: op, inputs: inputs, outputs: [output]))
            return output
        }

        mutating func batchNorm(_ x: String, channels: Int) -> String {
            let scale = constant([channels]), shift = constant([channels]), mean = constant([channels])
            let variance = constant([channels], positive: true)
            return add(.batchNorm(epsilon: 1e-5), [x, scale, shift, mean, variance])
        }

        mutating func conv(_ x: String, from cin: Int, to cout: Int, kernel: [Int], stride: Int, pads: [Int], group: Int) -> String {
            let w = constant([cout, cin / group] + kernel)
            let a = ConvAttributes(kernel: kernel, strides: [stride, stride], pads: pads, dilations: [1, 1], group: group)
            return add(.conv(a), [x, w])
        }
    }

    private func integer(_ random: inout SeededRandom, _ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int((random.next() + 1) / 2 * Float(range.count)) % range.count
    }

    func testRandomBlocksFuseExactly() throws {
        var random = SeededRandom(seed: 11)
        var seen = Set<String>(), groups = Set<Int>(), strides = Set<Int>()
        for trial in 0..<24 {
            let group = [1, 2, 4][integer(&random, 0...2)]
            let cin = group * integer(&random, 1...3), cout = cin * integer(&random, 1...2)
            let stride = integer(&random, 1...2)
            let k = [3, 5][integer(&random, 0...1)], p = k / 2
            let size = integer(&random, 7...13)
            var b = Builder(random: SeededRandom(seed: UInt64(100 + trial)))
            var branches = [b.batchNorm(b.conv("x", from: cin, to: cout, kernel: [k, k], stride: stride, pads: [p, p, p, p], group: group), channels: cout)]
            var names = ["k×k"]
            let options = (0..<6).filter { _ in random.next() > -0.2 }
            for option in options {
                switch option {
                case 0:
                    branches.append(b.batchNorm(b.conv("x", from: cin, to: cout, kernel: [1, 1], stride: stride, pads: [0, 0, 0, 0], group: group), channels: cout))
                    names.append("1×1")
                case 1:
                    branches.append(b.batchNorm(b.conv("x", from: cin, to: cout, kernel: [1, k], stride: stride, pads: [0, p, 0, p], group: group), channels: cout))
                    names.append("1×k")
                case 2:
                    branches.append(b.batchNorm(b.conv("x", from: cin, to: cout, kernel: [k, 1], stride: stride, pads: [p, 0, p, 0], group: group), channels: cout))
                    names.append("k×1")
                case 3 where cin == cout && stride == 1:
                    branches.append(b.batchNorm("x", channels: cin))
                    names.append("identity")
                case 4 where cin == cout:
                    let pool = PoolAttributes(kernel: [k, k], strides: [stride, stride], pads: [p, p, p, p], ceilMode: false)
                    branches.append(b.batchNorm(b.add(.averagePool(pool, countIncludePad: true), ["x"]), channels: cout))
                    names.append("avg-pool")
                case 5:
                    // 1×1 padded → BN → k×k unpadded: the BN bias fills the border, as DBB trains it.
                    let middle = b.batchNorm(b.conv("x", from: cin, to: cin, kernel: [1, 1], stride: 1, pads: [p, p, p, p], group: group), channels: cin)
                    branches.append(b.batchNorm(b.conv(middle, from: cin, to: cout, kernel: [k, k], stride: stride, pads: [0, 0, 0, 0], group: group), channels: cout))
                    names.append("1×1→k×k")
                default:
                    break
                }
            }
            seen.formUnion(names)
            groups.insert(group)
            strides.insert(stride)
            var sum = branches[0]
            for branch in branches.dropFirst() { sum = b.add(.add, [sum, branch]) }
            let output = b.add(.relu, [sum])
            let graph = Graph(name: "block", inputs: [ValueInfo(name: "x", shape: [1, cin, size, size])], outputs: [output],
                              nodes: b.nodes, initializers: b.initializers)
            try graph.verify()
            var fused = graph
            try Simplify.run(&fused)
            try fused.verify()
            let label = "trial \(trial): \(names.joined(separator: " + ")), \(cin)→\(cout), stride \(stride), group \(group), k \(k), \(size)²"
            XCTAssertEqual(fused.nodes.map(\.op.name), ["Conv", "Relu"], label)
            let input = random.tensor([2, cin, size, size])
            let expected = try Engine(graph: graph).run(["x": input])[output]!.floats
            let actual = try Engine(graph: fused).run(["x": input])[output]!.floats
            XCTAssertLessThan(relativeError(actual, expected), 1e-5, label)
        }
        XCTAssertEqual(seen, ["k×k", "1×1", "1×k", "k×1", "identity", "avg-pool", "1×1→k×k"], "the sweep covers every branch kind")
        XCTAssertEqual(groups, [1, 2, 4])
        XCTAssertEqual(strides, [1, 2])
    }
}
