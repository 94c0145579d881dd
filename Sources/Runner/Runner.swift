import WhittleRuntime

/// The Swift face of the C runtime: loads `.wtm` bytes, owns an arena, runs the model.
///
///     let runner = try Runner(bytes: Array(fileData))
///     let scores = try runner.run(image)   // uint8 NHWC in, uint8 out
public final class Runner {
    public struct RuntimeError: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// The C runtime's version string, e.g. "whittle-runtime 0.2 (wtm format 1)".
    public static var runtimeVersion: String { String(cString: wt_runtime_version()) }

    /// One of the model's tensors as the runtime sees it.
    public struct TensorInfo: Sendable {
        public var shape: [Int]
        public var scale: Float
        public var zeroPoint: Int32
        public var count: Int { shape.reduce(1, *) }
    }

    private let memory: UnsafeMutableRawPointer
    private let arena: UnsafeMutableRawPointer
    /// Heap-allocated so the interpreter's pointer to the model stays valid.
    private let model: UnsafeMutablePointer<wt_model>
    private let interpreter: UnsafeMutablePointer<wt_interpreter>
    public let arenaSize: Int
    /// Multiply-accumulates one run performs (`wt_model_macs`): bound it before running a model
    /// you did not make.
    public var macs: Int { Int(wt_model_macs(model)) }
    public let input: TensorInfo
    public let output: TensorInfo

    /// Kernel sets of the runtime: `auto` is the fastest this CPU runs (or the one the
    /// environment variable WT_KERNELS names).
    public enum Kernels: String, CaseIterable, Sendable {
        case auto, ref, avx2, avxvnni, avx512vnni, neon, neondot
        var c: wt_kernels {
            switch self {
            case .auto: return WT_KERNELS_AUTO
            case .ref: return WT_KERNELS_REF
            case .avx2: return WT_KERNELS_AVX2
            case .avxvnni: return WT_KERNELS_AVXVNNI
            case .avx512vnni: return WT_KERNELS_AVX512VNNI
            case .neon: return WT_KERNELS_NEON
            case .neondot: return WT_KERNELS_NEONDOT
            }
        }
    }

    private let pool: OpaquePointer?

    /// `threads` (1 … 16, counting the caller) splits convolutions across a thread pool.
    public init(bytes: [UInt8], kernels: Kernels = .auto, threads: Int = 1) throws {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { memory.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        self.memory = memory
        model = .allocate(capacity: 1)
        model.initialize(to: wt_model())
        interpreter = .allocate(capacity: 1)
        interpreter.initialize(to: wt_interpreter())
        let status = wt_model_load(model, memory, bytes.count)
        guard status == WT_OK else {
            memory.deallocate()
            model.deallocate()
            interpreter.deallocate()
            throw RuntimeError(description: "not a valid .wtm: \(String(cString: wt_status_string(status)))")
        }
        guard (1...Int(WT_MAX_THREADS)).contains(threads) else {
            memory.deallocate()
            model.deallocate()
            interpreter.deallocate()
            throw RuntimeError(description: "threads must be 1 to \(WT_MAX_THREADS); got \(threads)")
        }
        pool = threads > 1 ? wt_threadpool_create(UInt32(threads)) : nil
        arenaSize = wt_model_arena_size_threads(model, UInt32(threads))
        arena = .allocate(byteCount: max(arenaSize, 1), alignment: 64)
        input = Runner.info(model.pointee.tensors[Int(wt_model_input(model, 0))])
        output = Runner.info(model.pointee.tensors[Int(wt_model_output(model, 0))])
        _ = wt_interpreter_init(interpreter, model, arena, arenaSize)
        if threads > 1 {
            guard let pool, wt_interpreter_set_threadpool(interpreter, pool) == WT_OK else {
                throw RuntimeError(description: "cannot start \(threads) threads")
            }
        }
        if kernels != .auto, wt_interpreter_set_kernels(interpreter, kernels.c) != WT_OK {
            throw RuntimeError(description: "this CPU cannot run the \(kernels.rawValue) kernels")
        }
    }

    /// Threads the runtime splits convolutions across, the caller included.
    public var threads: Int { Int(wt_threadpool_threads(pool)) }

    /// The kernel set in use: "ref", "avx2", "avxvnni", "avx512vnni", "neon" or "neondot".
    public var kernels: String { String(cString: wt_interpreter_kernels_name(interpreter)) }

    /// Ops in the model, in execution order.
    public var opCount: Int { Int(model.pointee.op_count) }

    deinit {
        wt_threadpool_destroy(pool)
        arena.deallocate()
        memory.deallocate()
        model.deallocate()
        interpreter.deallocate()
    }

    /// Runs the model on one input (uint8, the input tensor's layout) and returns its output.
    public func run(_ values: [UInt8]) throws -> [UInt8] {
        try setInput(values)
        try invoke(ops: 0..<opCount)
        return Array(UnsafeBufferPointer(start: wt_tensor_data(interpreter, wt_model_output(model, 0)), count: output.count))
    }

    /// Copies one input (uint8, the input tensor's layout) into the arena.
    public func setInput(_ values: [UInt8]) throws {
        guard values.count == input.count else {
            throw RuntimeError(description: "the input holds \(values.count) values; the model takes \(input.count) (\(input.shape))")
        }
        let inputIndex = wt_model_input(model, 0)
        values.withUnsafeBufferPointer { wt_tensor_data(interpreter, inputIndex).update(from: $0.baseAddress!, count: values.count) }
    }

    /// The output of op `index` (uint8, its tensor's layout), valid right after that op ran: the
    /// arena reuses a tensor's bytes once nothing reads it any more.
    public func output(ofOp index: Int) -> [UInt8] {
        let tensor = model.pointee.ops[index].output
        return Array(UnsafeBufferPointer(start: wt_tensor_data(interpreter, tensor), count: Int(model.pointee.tensors[Int(tensor)].byte_size)))
    }

    /// Runs the ops in `ops` on what the arena holds (for per-op timing).
    public func invoke(ops: Range<Int>) throws {
        let status = wt_invoke_range(interpreter, UInt32(ops.lowerBound), UInt32(ops.upperBound))
        guard status == WT_OK else { throw RuntimeError(description: String(cString: wt_status_string(status))) }
    }

    private static func info(_ t: wt_tensor) -> TensorInfo {
        let dims = withUnsafeBytes(of: t.dims) { Array($0.bindMemory(to: UInt32.self)) }
        return TensorInfo(shape: dims.prefix(Int(t.rank)).map { Int($0) }, scale: t.scale, zeroPoint: t.zero_point)
    }
}
