import Graph

/// Shapes and buffer slots for one set of input shapes.
final class Plan {
    let inputShapes: [String: [Int]]
    private let shapes: [String: [Int]]
    /// Slot of every activation (graph inputs and node outputs).
    private let slotOf: [String: Int]
    private let slots: [UnsafeMutablePointer<Float>]
    private let scratch: UnsafeMutablePointer<Float>
    private let weights: [String: ConstantBuffer]

    init(graph: Graph, inputShapes: [String: [Int]], weights: [String: ConstantBuffer]) throws {
        self.inputShapes = inputShapes
        self.weights = weights
        var shapeGraph = graph
        shapeGraph.inputs = graph.inputs.map { ValueInfo(name: $0.name, shape: inputShapes[$0.name]!) }
        let shapes: [String: [Int]]
        do { shapes = try shapeGraph.inferShapes() } catch { throw EngineError("\(error)") }
        self.shapes = shapes

        // Last node that reads each activation; graph outputs live to the end.
        var lastUse: [String: Int] = [:]
        for (index, node) in graph.nodes.enumerated() { for input in node.inputs { lastUse[input] = index } }
        for output in graph.outputs { lastUse[output] = graph.nodes.count }

        var capacities: [Int] = []
        var free: [Int] = []
        var slotOf: [String: Int] = [:]
        func allocate(_ name: String) {
            let size = max(shapes[name]!.reduce(1, *), 1)
            if let best = free.filter({ capacities[$0] >= size }).min(by: { capacities[$0] < capacities[$1] })
                ?? free.max(by: { capacities[$0] < capacities[$1] }) {
                free.removeAll { $0 == best }
                capacities[best] = max(capacities[best], size)
                slotOf[name] = best
            } else {
                capacities.append(size)
                slotOf[name] = capacities.count - 1
            }
        }
        for input in graph.inputs { allocate(input.name) }
        var scratchSize = 1
        for (index, node) in graph.nodes.enumerated() {
            for output in node.outputs { allocate(output) }
            let inputShapes = node.inputs.map { shapes[$0]! }
            scratchSize = max(scratchSize, try Kernels.scratchSize(node.op, inputs: inputShapes, output: shapes[node.outputs[0]]!))
            for input in Set(node.inputs) where lastUse[input] == index {
                if let slot = slotOf[input] { free.append(slot) }
            }
        }
        self.slotOf = slotOf
        self.slots = capacities.map { capacity in
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
            pointer.initialize(repeating: 0, count: capacity)
            return pointer
        }
        scratch = .allocate(capacity: scratchSize)
    }

    deinit {
        slots.forEach { $0.deallocate() }
        scratch.deallocate()
    }

    private func pointer(_ name: String) -> UnsafeMutablePointer<Float> {
        if let slot = slotOf[name] { return slots[slot] }
        return weights[name]!.pointer
    }

    func execute(graph: Graph, inputs: [String: Tensor]) throws -> [String: Tensor] {
        for input in graph.inputs {
            let values = inputs[input.name]!.floats
            values.withUnsafeBufferPointer { pointer(input.name).update(from: $0.baseAddress!, count: values.count) }
        }
        for node in graph.nodes {
            let operands = node.inputs.map { Operand(pointer: UnsafePointer(pointer($0)), shape: shapes[$0]!) }
            let result = Operand(pointer: UnsafePointer(pointer(node.outputs[0])), shape: shapes[node.outputs[0]]!)
            do {
                try Kernels.run(node.op, inputs: operands, output: pointer(node.outputs[0]), outputShape: result.shape, scratch: scratch)
            } catch let error as EngineError {
                throw EngineError("node '\(node.name)' (\(node.op.name)): \(error.description)")
            }
        }
        var results: [String: Tensor] = [:]
        for output in graph.outputs {
            let shape = shapes[output]!
            results[output] = Tensor(shape: shape, floats: Array(UnsafeBufferPointer(start: pointer(output), count: shape.reduce(1, *))))
        }
        return results
    }
}

/// An input of a kernel: read-only data and its shape.
struct Operand {
    let pointer: UnsafePointer<Float>
    let shape: [Int]
    var count: Int { shape.reduce(1, *) }
}
