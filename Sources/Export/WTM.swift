import Foundation
import Graph
import WhittleRuntime

/// The `.wtm` file: writing an `IntegerModel` and reading one back through the C loader, so the
/// runtime's checks are the only parser (layout: docs/wtm-format.md; records: whittle_runtime.h).
public enum WTM {
    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The file's bytes. Sections follow the header and section table, each at a multiple of
    /// 64 bytes: tensors, ops, IO, then the constant data, whose blobs are 64-byte aligned too.
    /// `arena` places the tensors; pass the plan when the caller already has it. `metadata`, when
    /// given, is stored as the METADATA section (the runtime does not read it).
    public static func write(_ model: IntegerModel, arena: ArenaPlan? = nil, metadata: WTMMetadata? = nil) throws -> [UInt8] {
        let arena = arena ?? ArenaPlan(model)
        var data: [UInt8] = []
        func blob<T>(_ values: [T]) -> wt_blob {
            pad(&data)
            let offset = UInt32(data.count)
            values.withUnsafeBytes { data.append(contentsOf: $0) }
            return wt_blob(offset: offset, size: UInt32(values.count * MemoryLayout<T>.stride))
        }

        var tensors: [wt_tensor] = []
        for (i, t) in model.tensors.enumerated() {
            let maxRank = t.isFloat ? Int(WT_MAX_RANK) : 4
            guard (1...maxRank).contains(t.shape.count) else {
                throw FormatError(description: "tensor '\(t.name)' has rank \(t.shape.count); .wtm holds \(t.isFloat ? "float" : "uint8") ranks 1 to \(maxRank)")
            }
            var record = wt_tensor()
            record.type = (t.isFloat ? WT_TYPE_F32 : WT_TYPE_U8).rawValue
            record.rank = UInt32(t.shape.count)
            setElements(&record.dims, (0..<Int(WT_MAX_RANK)).map { UInt32($0 < t.shape.count ? t.shape[$0] : 1) })
            record.scale = t.scale
            record.zero_point = t.zeroPoint
            record.arena_offset = UInt32(arena.offsets[i])
            record.byte_size = UInt32(t.byteCount)
            (record.live_from, record.live_to) = (UInt32(arena.steps[i].from), UInt32(arena.steps[i].to))
            tensors.append(record)
        }

        var ops: [wt_op] = []
        for op in model.ops {
            guard op.inputs.count <= Int(WT_MAX_INPUTS) else {
                throw FormatError(description: "op '\(op.name)' has \(op.inputs.count) inputs; .wtm ops take at most \(WT_MAX_INPUTS)")
            }
            var record = wt_op()
            record.input_count = UInt32(op.inputs.count)
            setElements(&record.inputs, (0..<Int(WT_MAX_INPUTS)).map { $0 < op.inputs.count ? UInt32(op.inputs[$0]) : WT_NO_TENSOR })
            record.output = UInt32(op.output)
            record.act_min = op.clamp.lowerBound
            record.act_max = op.clamp.upperBound
            var params = [Int32](repeating: 0, count: Int(WT_OP_PARAMS))
            var blobs = [wt_blob](repeating: wt_blob(), count: Int(WT_OP_BLOBS))
            func window(_ w: Window) { WTM.geometry(w, into: &params) }
            /// The weights in their layout (`laid`) packed at the op's scheme, the stored bias, the requantization.
            func weightBlobs(_ laid: [Int8], _ weights: [Int8], bias: [Int32], _ requant: [Requantization]) throws {
                guard weights.allSatisfy({ op.scheme.levels.contains(Int($0)) }) else {
                    throw FormatError(description: "op '\(op.name)' has weights outside the \(op.scheme.rawValue) levels \(op.scheme.levels)")
                }
                record.scheme = UInt32(op.scheme.id)
                blobs[WT_B_WEIGHTS] = blob(WeightPacking.packCodes(laid, scheme: op.scheme))
                blobs[WT_B_BIAS] = blob(bias)
                blobs[WT_B_MULTIPLIER] = blob(requant.map(\.multiplier))
                blobs[WT_B_SHIFT] = blob(requant.map(\.shift))
            }
            /// The bias with the input zero point folded in (WeightPacking), as conv and FC store it.
            func folded(_ bias: [Int32], _ weights: [Int8]) throws -> [Int32] {
                try WeightPacking.foldZeroPoint(bias, weights: weights, depth: weights.count / bias.count, zeroPoint: model.tensors[op.inputs[0]].zeroPoint)
            }
            let kind: wt_op_kind
            switch op.kind {
            case .conv(let w, let group, let weights, let bias, let requant):
                kind = WT_OP_CONV
                window(w)
                params[WT_P_GROUP] = Int32(group)
                let depthwise = model.tensors[op.inputs[0]].shape.last == group && bias.count == group
                let packed = WeightPacking.packConv(weights, group: group, outputs: bias.count,
                                                    depth: weights.count / bias.count, depthwise: depthwise)
                try weightBlobs(packed, weights, bias: try folded(bias, weights), requant)
            case .fullyConnected(let weights, let bias, let requant):
                kind = WT_OP_FC
                try weightBlobs(WeightPacking.packGEMM(weights[...], outputs: bias.count, depth: weights.count / bias.count),
                                weights, bias: try folded(bias, weights), requant)
            case .add(let leftShift, let a, let b, let r):
                kind = WT_OP_ADD
                params[WT_P_ADD_LEFT_SHIFT] = leftShift
                (params[WT_P_ADD_MULT_A], params[WT_P_ADD_SHIFT_A]) = (a.multiplier, a.shift)
                (params[WT_P_ADD_MULT_B], params[WT_P_ADD_SHIFT_B]) = (b.multiplier, b.shift)
                (params[WT_P_ADD_MULT], params[WT_P_ADD_SHIFT]) = (r.multiplier, r.shift)
            case .mul(let r):
                kind = WT_OP_MUL
                (params[WT_P_MULT], params[WT_P_SHIFT]) = (r.multiplier, r.shift)
            case .mean(let r):
                kind = WT_OP_MEAN
                (params[WT_P_MULT], params[WT_P_SHIFT]) = (r.multiplier, r.shift)
            case .lookup(let table):
                kind = WT_OP_LUT
                blobs[WT_B_TABLE] = blob(table)
            case .maxPool(let w):
                kind = WT_OP_MAX_POOL
                window(w)
            case .resize(let rows, let columns):
                kind = WT_OP_RESIZE
                blobs[WT_B_ROWS] = blob(rows.map(Int32.init))
                blobs[WT_B_COLUMNS] = blob(columns.map(Int32.init))
            case .convTranspose(let w, let group, let weights, let bias, let requant):
                kind = WT_OP_CONV_TRANSPOSE
                window(w)
                params[WT_P_GROUP] = Int32(group)
                try weightBlobs(weights, weights, bias: bias, requant)
            case .slice(let starts, let steps):
                kind = WT_OP_SLICE
                for d in 0..<4 { (params[WT_P_SLICE_START + d], params[WT_P_SLICE_STEP + d]) = (Int32(starts[d]), Int32(steps[d])) }
            case .pad(let before, let value):
                kind = WT_OP_PAD
                for d in 0..<4 { params[WT_P_PAD_BEFORE + d] = Int32(before[d]) }
                params[WT_P_PAD_VALUE] = Int32(value)
            case .concat: kind = WT_OP_CONCAT
            case .reshape: kind = WT_OP_RESHAPE
            case .softmax(let table):
                kind = WT_OP_SOFTMAX
                blobs[WT_B_TABLE] = blob(table)
            case .dequantize: kind = WT_OP_DEQUANTIZE
            case .quantize: kind = WT_OP_QUANTIZE
            case .float(let f): kind = WTMFloatOps.record(f, params: &params, blobs: &blobs, blob: blob)
            }
            record.kind = kind.rawValue
            setElements(&record.params, params)
            setElements(&record.blobs, blobs)
            ops.append(record)
        }
        let io = [UInt32(model.inputs.count)] + model.inputs.map { UInt32($0) }
            + [UInt32(model.outputs.count)] + model.outputs.map { UInt32($0) }

        // Layout: header, section table, then each section at the next multiple of 64.
        var payloads: [(wt_section_kind, UInt32, [UInt8])] = [
            (WT_SECTION_TENSORS, UInt32(tensors.count), bytes(of: tensors)),
            (WT_SECTION_OPS, UInt32(ops.count), bytes(of: ops)),
            (WT_SECTION_IO, UInt32(io.count), bytes(of: io)),
            (WT_SECTION_DATA, UInt32(data.count), data),
        ]
        if let metadata {
            let json = try metadata.json()
            payloads.append((WT_SECTION_METADATA, UInt32(json.count), json))
        }
        var file = [UInt8](repeating: 0, count: MemoryLayout<wt_header>.stride + payloads.count * MemoryLayout<wt_section>.stride)
        var sections: [wt_section] = []
        for (kind, count, payload) in payloads {
            pad(&file)
            sections.append(wt_section(kind: kind.rawValue, count: count, offset: UInt64(file.count), size: UInt64(payload.count)))
            file += payload
        }
        guard file.count < Int(UInt32.max), arena.size < Int(UInt32.max) else {
            throw FormatError(description: "the model is larger than 4 GB; .wtm offsets are 32-bit")
        }
        file.replaceSubrange(MemoryLayout<wt_header>.stride..<MemoryLayout<wt_header>.stride + bytes(of: sections).count,
                             with: bytes(of: sections))
        var header = wt_header()
        setElements(&header.magic, [0x57, 0x54, 0x4D, 0x1A] as [UInt8])
        header.version = UInt32(WT_FORMAT_VERSION)
        header.header_size = UInt32(MemoryLayout<wt_header>.stride)
        header.section_count = UInt32(sections.count)
        header.file_size = UInt64(file.count)
        header.arena_size = UInt32(arena.size)
        header.payload_crc32 = file[MemoryLayout<wt_header>.stride...].withUnsafeBytes { wt_crc32($0.baseAddress, $0.count) }
        file.replaceSubrange(0..<MemoryLayout<wt_header>.stride, with: bytes(of: [header]))
        return file
    }

    /// Reads a `.wtm` back through the C loader (which validates it first). Tensors come back
    /// named by index ("t12"), ops by the metadata's node names, or by index ("op3") without.
    public static func read(_ bytes: [UInt8]) throws -> IntegerModel {
        try withLoadedModel(bytes) { m in
            let tensors = (0..<Int(m.tensor_count)).map { i -> IntegerTensor in
                let t = m.tensors[i]
                let dims = elements(t.dims, as: UInt32.self).prefix(Int(t.rank)).map { Int($0) }
                return IntegerTensor(name: "t\(i)", shape: dims, scale: t.scale, zeroPoint: t.zero_point, isFloat: t.type == WT_TYPE_F32.rawValue)
            }
            let ops = try (0..<Int(m.op_count)).map { i -> IntegerOp in
                let op = m.ops[i]
                let p = elements(op.params, as: Int32.self), blobs = elements(op.blobs, as: wt_blob.self)
                func array<T>(_ slot: Int, _ type: T.Type) -> [T] {
                    let b = blobs[slot]
                    return Array(UnsafeRawBufferPointer(start: m.data + Int(b.offset), count: Int(b.size)).bindMemory(to: T.self))
                }
                func window() -> Window {
                    Window(kernel: (Int(p[WT_P_KH]), Int(p[WT_P_KW])), stride: (Int(p[WT_P_STRIDE_H]), Int(p[WT_P_STRIDE_W])),
                           pads: [WT_P_PAD_TOP, WT_P_PAD_LEFT, WT_P_PAD_BOTTOM, WT_P_PAD_RIGHT].map { Int(p[$0]) },
                           dilation: (Int(p[WT_P_DILATION_H]), Int(p[WT_P_DILATION_W])))
                }
                func requant() -> [Requantization] {
                    zip(array(WT_B_MULTIPLIER, Int32.self), array(WT_B_SHIFT, Int32.self)).map { Requantization(multiplier: $0, shift: $1) }
                }
                /// The stored bias with the input zero point taken out again.
                // The loader admits only known schemes.
                let scheme = Scheme.allCases.first { $0.id == Int(op.scheme) } ?? .int8
                /// The weights blob unpacked to levels in the int8 layout of `slots` bytes.
                func levels(_ slots: Int) -> [Int8] {
                    WeightPacking.unpackCodes(array(WT_B_WEIGHTS, UInt8.self), count: slots, scheme: scheme)
                }
                func bias(_ weights: [Int8]) throws -> [Int32] {
                    let folded = array(WT_B_BIAS, Int32.self)
                    return try WeightPacking.foldZeroPoint(folded, weights: weights, depth: weights.count / folded.count,
                                                           zeroPoint: tensors[Int(op.inputs.0)].zeroPoint, sign: -1)
                }
                let kind: IntegerOp.Kind
                switch wt_op_kind(rawValue: op.kind) {
                case WT_OP_CONV:
                    let group = Int(p[WT_P_GROUP]), outputs = Int(blobs[WT_B_BIAS].size) / 4
                    let channels = tensors[Int(op.inputs.0)].shape[3]
                    let depth = Int(p[WT_P_KH] * p[WT_P_KW]) * channels / group
                    let depthwise = channels == group && outputs == group
                    let slots = WeightLayout.count(outputs: outputs, depth: depth, group: group, depthwise: depthwise)
                    let weights = WeightPacking.unpackConv(levels(slots), group: group, outputs: outputs, depth: depth, depthwise: depthwise)
                    kind = .conv(window(), group: group, weights: weights, bias: try bias(weights), requant: requant())
                case WT_OP_FC:
                    let outputs = Int(blobs[WT_B_BIAS].size) / 4, output = tensors[Int(op.output)]
                    let depth = tensors[Int(op.inputs.0)].count / (output.count / outputs)
                    let weights = WeightPacking.unpackGEMM(levels(WeightLayout.gemmCount(outputs: outputs, depth: depth))[...],
                                                           outputs: outputs, depth: depth)
                    kind = .fullyConnected(weights: weights, bias: try bias(weights), requant: requant())
                case WT_OP_ADD:
                    kind = .add(leftShift: p[WT_P_ADD_LEFT_SHIFT],
                                a: Requantization(multiplier: p[WT_P_ADD_MULT_A], shift: p[WT_P_ADD_SHIFT_A]),
                                b: Requantization(multiplier: p[WT_P_ADD_MULT_B], shift: p[WT_P_ADD_SHIFT_B]),
                                output: Requantization(multiplier: p[WT_P_ADD_MULT], shift: p[WT_P_ADD_SHIFT]))
                case WT_OP_MUL: kind = .mul(Requantization(multiplier: p[WT_P_MULT], shift: p[WT_P_SHIFT]))
                case WT_OP_MEAN: kind = .mean(Requantization(multiplier: p[WT_P_MULT], shift: p[WT_P_SHIFT]))
                case WT_OP_LUT: kind = .lookup(array(WT_B_TABLE, UInt8.self))
                case WT_OP_MAX_POOL: kind = .maxPool(window())
                case WT_OP_RESIZE:
                    kind = .resize(rows: array(WT_B_ROWS, Int32.self).map(Int.init), columns: array(WT_B_COLUMNS, Int32.self).map(Int.init))
                case WT_OP_CONV_TRANSPOSE:
                    let outputs = Int(blobs[WT_B_BIAS].size) / 4, group = Int(p[WT_P_GROUP])
                    let count = outputs * Int(p[WT_P_KH] * p[WT_P_KW]) * tensors[Int(op.inputs.0)].shape[3] / group
                    kind = .convTranspose(window(), group: group, weights: levels(count), bias: array(WT_B_BIAS, Int32.self), requant: requant())
                case WT_OP_SLICE:
                    kind = .slice(starts: (0..<4).map { Int(p[WT_P_SLICE_START + $0]) },
                                  steps: (0..<4).map { Int(p[WT_P_SLICE_STEP + $0]) })
                case WT_OP_PAD:
                    kind = .pad(before: (0..<4).map { Int(p[WT_P_PAD_BEFORE + $0]) }, value: UInt8(p[WT_P_PAD_VALUE]))
                case WT_OP_CONCAT: kind = .concat
                case WT_OP_RESHAPE: kind = tensors[Int(op.output)].isFloat ? .float(.reshape) : .reshape
                case WT_OP_SOFTMAX: kind = .softmax(array(WT_B_TABLE, UInt32.self))
                case WT_OP_DEQUANTIZE: kind = .dequantize
                case WT_OP_QUANTIZE: kind = .quantize
                default: // a float island's op: the loader admits no other kind
                    kind = .float(WTMFloatOps.op(kind: wt_op_kind(rawValue: op.kind), params: p, rank: tensors[Int(op.inputs.0)].shape.count,
                                                 window: window, constant: { blobs[$0].size > 0 ? array($0, Float.self) : nil }))
                }
                let inputs = elements(op.inputs, as: UInt32.self).prefix(Int(op.input_count)).map { Int($0) }
                return IntegerOp(name: "op\(i)", kind: kind, inputs: inputs, output: Int(op.output), clamp: op.act_min...op.act_max,
                                 scheme: scheme)
            }
            let inputs = (0..<Int(m.input_count)).map { Int(m.inputs[$0]) }
            let outputs = (0..<Int(m.output_count)).map { Int(m.outputs[$0]) }
            var model = IntegerModel(tensors: tensors, ops: ops, inputs: inputs, outputs: outputs)
            if let json = metadataBytes(m), let names = try? WTMMetadata.read(json).ops, names.count == model.ops.count {
                for i in model.ops.indices { model.ops[i].name = names[i] }
            }
            return model
        }
    }

    /// Loads `bytes` with `wt_model_load` into 8-byte-aligned memory and hands the model to `body`.
    /// The file's metadata, nil when it has none (validated by the C loader first).
    public static func metadata(_ bytes: [UInt8]) throws -> WTMMetadata? {
        try withLoadedModel(bytes, metadataBytes).map(WTMMetadata.read)
    }

    private static func metadataBytes(_ m: wt_model) -> [UInt8]? {
        var size = 0
        guard let text = wt_model_metadata([m], &size) else { return nil }
        return Array(UnsafeRawBufferPointer(start: text, count: size))
    }

    public static func withLoadedModel<R>(_ bytes: [UInt8], _ body: (wt_model) throws -> R) throws -> R {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        defer { memory.deallocate() }
        bytes.withUnsafeBytes { memory.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        var model = wt_model()
        let status = wt_model_load(&model, memory, bytes.count)
        if status == WT_ERROR_VERSION, bytes.count >= MemoryLayout<wt_header>.size {
            let version = memory.load(fromByteOffset: MemoryLayout<wt_header>.offset(of: \wt_header.version)!, as: UInt32.self)
            if version != UInt32(WT_FORMAT_VERSION) {
                throw FormatError(description: "a .wtm of format version \(version); this runtime reads version \(WT_FORMAT_VERSION): compress the model again")
            }
        }
        guard status == WT_OK else { throw FormatError(description: "not a valid .wtm: \(String(cString: wt_status_string(status)))") }
        return try body(model)
    }

    /// A window's geometry in an op's params (conv, pools).
    static func geometry(_ w: Window, into params: inout [Int32]) {
        params[WT_P_KH] = Int32(w.kernel.h); params[WT_P_KW] = Int32(w.kernel.w)
        params[WT_P_STRIDE_H] = Int32(w.stride.h); params[WT_P_STRIDE_W] = Int32(w.stride.w)
        params[WT_P_PAD_TOP] = Int32(w.pads[0]); params[WT_P_PAD_LEFT] = Int32(w.pads[1])
        params[WT_P_PAD_BOTTOM] = Int32(w.pads[2]); params[WT_P_PAD_RIGHT] = Int32(w.pads[3])
        params[WT_P_DILATION_H] = Int32(w.dilation.h); params[WT_P_DILATION_W] = Int32(w.dilation.w)
    }

    private static func pad(_ bytes: inout [UInt8]) {
        let alignment = Int(WT_ALIGNMENT)
        bytes += [UInt8](repeating: 0, count: (alignment - bytes.count % alignment) % alignment)
    }

    private static func bytes<T>(of values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
}

/// Writes `values` into a homogeneous C array imported as a tuple.
func setElements<Tuple, Element>(_ tuple: inout Tuple, _ values: [Element]) {
    withUnsafeMutableBytes(of: &tuple) { raw in
        precondition(values.count * MemoryLayout<Element>.stride <= raw.count)
        for (i, v) in values.enumerated() { raw.storeBytes(of: v, toByteOffset: i * MemoryLayout<Element>.stride, as: Element.self) }
    }
}

/// The elements of a homogeneous C array imported as a tuple.
func elements<Tuple, Element>(_ tuple: Tuple, as: Element.Type) -> [Element] {
    withUnsafeBytes(of: tuple) { Array($0.bindMemory(to: Element.self)) }
}
