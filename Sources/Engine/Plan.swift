import Graph

/// One kernel call: a graph node, or a Conv/Gemm with the Relu or Clip after it folded in.
struct Step {
    var name: String
    var op: Op
    var inputs: [String]
    var output: String
    var activation: Activation?
}

/// A Relu or Clip folded into the kernel before it: a clamp applied while the output is in cache.
struct Activation {
    let low: Float
    let high: Float

    init?(_ op: Op) {
        switch op {
        case .relu: (low, high) = (0, .infinity)
        case .clip(let low, let high): (self.low, self.high) = (low, high)
        default: return nil
        }
    }

    func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        Elementwise.clamp(values, count: count, low: low, high: high)
    }
}

/// Shapes and buffer slots for one set of input shapes.
final class Plan {
    let inputShapes: [String: [Int]]
    private let steps: [Step]
    private let shapes: [String: [Int]]
    /// Slot of every activation (graph inputs and step outputs).
    private let slotOf: [String: Int]
    private let slots: [UnsafeMutablePointer<Float>]
    private let scratch: UnsafeMutablePointer<Float>
    private let weights: [String: ConstantBuffer]
    /// Every step's operands and output pointer, resolved once so a forward pass allocates nothing.
    private var bound: [(inputs: [Operand], output: UnsafeMutablePointer<Float>, shape: [Int])] = []

    init(graph: Graph, inputShapes: [String: [Int]], weights: [String: ConstantBuffer]) throws {
        self.inputShapes = inputShapes
        self.weights = weights
        var shapeGraph = graph
        shapeGraph.inputs = graph.inputs.map { ValueInfo(name: $0.name, shape: inputShapes[$0.name]!) }
        let shapes: [String: [Int]]
        do { shapes = try shapeGraph.inferShapes() } catch { throw EngineError("\(error)") }
        self.shapes = shapes
        let steps = Plan.fuseActivations(graph)
        self.steps = steps

        // Last step that reads each activation; graph outputs live to the end.
        var lastUse: [String: Int] = [:]
        for (index, step) in steps.enumerated() { for input in step.inputs { lastUse[input] = index } }
        for output in graph.outputs { lastUse[output] = steps.count }

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
        for (index, step) in steps.enumerated() {
            allocate(step.output)
            let inputShapes = step.inputs.map { shapes[$0]! }
            scratchSize = max(scratchSize, try Kernels.scratchSize(step.op, inputs: inputShapes, output: shapes[step.output]!))
            for input in Set(step.inputs) where lastUse[input] == index {
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
        bound = steps.map { step in
            (step.inputs.map { Operand(pointer: UnsafePointer(pointer($0)), shape: shapes[$0]!) }, pointer(step.output),
             shapes[step.output]!)
        }
    }

    deinit {
        slots.forEach { $0.deallocate() }
        scratch.deallocate()
    }

    /// The graph's nodes as steps, with a Relu or Clip that alone reads a Conv or Gemm output
    /// folded into that step (the intermediate value never exists).
    static func fuseActivations(_ graph: Graph) -> [Step] {
        let consumers = graph.consumers()
        let outputs = Set(graph.outputs)
        var steps: [Step] = []
        var folded = Set<Int>()
        for (index, node) in graph.nodes.enumerated() where !folded.contains(index) {
            var step = Step(name: node.name, op: node.op, inputs: node.inputs, output: node.outputs[0], activation: nil)
            switch node.op {
            case .conv, .gemm:
                if let readers = consumers[node.outputs[0]], readers.count == 1, !outputs.contains(node.outputs[0]),
                   let activation = Activation(graph.nodes[readers[0]].op) {
                    step.activation = activation
                    step.output = graph.nodes[readers[0]].outputs[0]
                    folded.insert(readers[0])
                }
            default:
                break
            }
            steps.append(step)
        }
        return steps
    }

    /// The buffer of an activation (graph inputs are written here before `run`) or of a weight.
    func pointer(_ name: String) -> UnsafeMutablePointer<Float> {
        if let slot = slotOf[name] { return slots[slot] }
        return weights[name]!.pointer
    }

    func shape(_ name: String) -> [Int] { shapes[name]! }

    /// Runs every step on what the input buffers hold.
    func run() throws {
        for (step, operands) in zip(steps, bound) {
            do {
                try Kernels.run(step.op, inputs: operands.inputs, output: operands.output, outputShape: operands.shape,
                                activation: step.activation, scratch: scratch)
            } catch let error as EngineError {
                throw EngineError("node '\(step.name)' (\(step.op.name)): \(error.description)")
            }
        }
    }
}

/// An input of a kernel: read-only data and its shape.
struct Operand {
    let pointer: UnsafePointer<Float>
    let shape: [Int]
    var count: Int { shape.reduce(1, *) }
}
