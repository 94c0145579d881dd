import Graph

/// One kernel call: a graph node, or a Conv/Gemm with the Relu or Clip after it folded in, or a
/// Conv with the residual Add after it (and a Relu or Clip after that) folded in.
struct Step {
    var name: String
    var op: Op
    var inputs: [String]
    var output: String
    var activation: Activation?
    /// The other input of a folded Add: the convolution's epilogue adds it before the clamp.
    var addend: String?

    /// Every value the step reads: the op's inputs and the addend.
    var reads: [String] { addend.map { inputs + [$0] } ?? inputs }
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
    private var bound: [(inputs: [Operand], addend: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, shape: [Int])] = []

    /// With `channelMajorInputs` the graph's inputs are stored [C, H, W, N] and so is what the
    /// steps after them compute until a spatial mean (`ChannelMajor`); a step that cannot read
    /// the layout, or a graph output left in it, is an error.
    init(graph: Graph, inputShapes: [String: [Int]], weights: [String: ConstantBuffer], channelMajorInputs: Bool = false) throws {
        self.inputShapes = inputShapes
        self.weights = weights
        var shapeGraph = graph
        shapeGraph.inputs = graph.inputs.map { ValueInfo(name: $0.name, shape: inputShapes[$0.name]!) }
        let shapes: [String: [Int]]
        do { shapes = try shapeGraph.inferShapes() } catch { throw EngineError("\(error)") }
        self.shapes = shapes
        let steps = Plan.fuseEpilogues(graph, shapes: shapes)
        self.steps = steps
        var channelMajor = Set(channelMajorInputs ? graph.inputs.map(\.name) : [])
        for step in steps where try ChannelMajor.output(of: step, shapes: shapes, channelMajor: channelMajor) {
            channelMajor.insert(step.output)
        }
        if let output = graph.outputs.first(where: channelMajor.contains) {
            throw EngineError("graph output '\(output)' would be left in the [C, H, W, N] layout")
        }

        // Last step that reads each activation; graph outputs live to the end.
        var lastUse: [String: Int] = [:]
        for (index, step) in steps.enumerated() { for input in step.reads { lastUse[input] = index } }
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
            for input in Set(step.reads) where lastUse[input] == index {
                if let slot = slotOf[input] { free.append(slot) }
            }
        }
        self.slotOf = slotOf
        self.slots = capacities.map { capacity in
            let pointer = Plan.allocateAligned(capacity)
            pointer.initialize(repeating: 0, count: capacity)
            return pointer
        }
        scratch = Plan.allocateAligned(scratchSize)
        bound = steps.map { step in
            (step.inputs.map { Operand(pointer: UnsafePointer(pointer($0)), shape: shapes[$0]!, channelMajor: channelMajor.contains($0)) },
             step.addend.map { UnsafePointer(pointer($0)) }, pointer(step.output), shapes[step.output]!)
        }
    }

    /// Floats starting on a cache line, so the vectors the kernels load never straddle two
    /// ([C, H, W, N] pixels of 16 images are exactly one line each).
    private static func allocateAligned(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
    }

    deinit {
        slots.forEach { $0.deallocate() }
        scratch.deallocate()
    }

    /// The graph's nodes as steps, with what follows a Conv or Gemm folded into its epilogue
    /// when the Conv or Gemm output has that node as its only reader and is not a graph output
    /// (the intermediate value never exists):
    /// - a Relu or Clip;
    /// - for a Conv, an Add of a same-shaped value computed before it (a residual connection),
    ///   and a Relu or Clip after that Add.
    static func fuseEpilogues(_ graph: Graph, shapes: [String: [Int]]) -> [Step] {
        let consumers = graph.consumers()
        let outputs = Set(graph.outputs)
        var producer: [String: Int] = [:]
        for (index, node) in graph.nodes.enumerated() { for output in node.outputs { producer[output] = index } }
        /// The node that alone reads `value`, when `value` is not a graph output.
        func onlyReader(_ value: String) -> Int? {
            guard let readers = consumers[value], readers.count == 1, !outputs.contains(value) else { return nil }
            return readers[0]
        }
        var steps: [Step] = []
        var folded = Set<Int>()
        for (index, node) in graph.nodes.enumerated() where !folded.contains(index) {
            var step = Step(name: node.name, op: node.op, inputs: node.inputs, output: node.outputs[0], activation: nil)
            switch node.op {
            case .conv, .gemm:
                guard let reader = onlyReader(step.output) else { break }
                if let activation = Activation(graph.nodes[reader].op) {
                    step.activation = activation
                    step.output = graph.nodes[reader].outputs[0]
                    folded.insert(reader)
                    break
                }
                let add = graph.nodes[reader]
                guard case .conv = node.op, case .add = add.op, add.inputs.count == 2 else { break }
                let other = add.inputs[0] == step.output ? add.inputs[1] : add.inputs[0]
                guard other != step.output, shapes[other] == shapes[step.output], (producer[other] ?? -1) < index else { break }
                step.addend = other
                step.output = add.outputs[0]
                folded.insert(reader)
                if let next = onlyReader(step.output), let activation = Activation(graph.nodes[next].op) {
                    step.activation = activation
                    step.output = graph.nodes[next].outputs[0]
                    folded.insert(next)
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

    /// Runs every step on what the input buffers hold (shapes and attributes were checked when
    /// the plan was made).
    func run() {
        for (step, operands) in zip(steps, bound) {
            Kernels.run(step.op, inputs: operands.inputs, output: operands.output, outputShape: operands.shape,
                        activation: step.activation, addend: operands.addend, scratch: scratch)
        }
    }
}

/// An input of a kernel: read-only data and its shape.
struct Operand {
    let pointer: UnsafePointer<Float>
    let shape: [Int]
    /// Whether an [N, C, H, W] value is stored as [C, H, W, N] (see `ChannelMajor`).
    var channelMajor = false
    var count: Int { shape.reduce(1, *) }
}
