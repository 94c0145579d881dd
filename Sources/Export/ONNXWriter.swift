import Foundation
import Graph
import ONNXProto

/// Writes a `Graph` as an ONNX model at opset 14, the form ONNX Runtime and the Importer read.
///
/// Every op becomes its ONNX operator. What the IR keeps as attributes but ONNX takes as inputs
/// (Reshape's shape, Clip's bounds, Slice's starts, Pad's pads, Squeeze's axes, Resize's scales)
/// becomes an initializer named after the node's output (`y_shape`).
///
/// Values with `graph.quantization` parameters are written in QDQ form, as ONNX Runtime's
/// quantize_static writes them:
/// - an activation (graph input or node output) gets QuantizeLinear → DequantizeLinear after it,
///   and its readers read the dequantized value; a graph output keeps its name;
/// - an initializer is stored as integers (int8/uint8, or int32 for 32-bit parameters) with a
///   DequantizeLinear that gives back the name its readers use. Per-channel parameters write
///   DequantizeLinear's `axis`.
/// Example: a conv weight `w` [32, 3, 3, 3] with 32 scales along axis 0 becomes the int8
/// initializer `w_quantized`, scales `w_scale` [32], zero points `w_zero_point` [32] and the
/// node `DequantizeLinear(w_quantized, w_scale, w_zero_point) -> w`.
public enum ONNXWriter {
    public static let opset: Int64 = 14

    public struct WriteError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The serialized model. `producer` names the tool in the file's metadata.
    public static func write(_ graph: Graph, producer: String = "whittle") throws -> [UInt8] {
        let model = try self.model(graph, producer: producer)
        let bytes: [UInt8] = try model.serializedBytes()
        return bytes
    }

    public static func model(_ graph: Graph, producer: String = "whittle") throws -> Onnx_ModelProto {
        let shapes = try graph.inferShapes()
        var builder = Builder(graph: graph)
        for (name, tensor) in graph.initializers.sorted(by: { $0.key < $1.key }) {
            builder.addInitializer(name, tensor)
        }
        for input in graph.inputs { builder.quantizeActivation(input.name) }
        for node in graph.nodes {
            try builder.add(node)
            node.outputs.forEach { builder.quantizeActivation($0) }
        }
        var proto = Onnx_GraphProto()
        proto.name = graph.name
        proto.node = builder.nodes
        proto.initializer = builder.initializers
        proto.input = graph.inputs.map { valueInfo($0.name, $0.shape) }
        proto.output = try graph.outputs.map { name in
            guard let shape = shapes[name] else { throw WriteError(description: "graph output '\(name)' has no shape") }
            return valueInfo(name, shape)
        }
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = producer
        var opset = Onnx_OperatorSetIdProto()
        opset.version = self.opset
        model.opsetImport = [opset]
        model.graph = proto
        return model
    }

    private static func valueInfo(_ name: String, _ shape: [Int]) -> Onnx_ValueInfoProto {
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        var shapeProto = Onnx_TensorShapeProto()
        shapeProto.dim = shape.map { size in
            var dim = Onnx_TensorShapeProto.Dimension()
            dim.dimValue = Int64(size)
            return dim
        }
        tensorType.shape = shapeProto
        var type = Onnx_TypeProto()
        type.tensorType = tensorType
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type = type
        return info
    }

    /// Accumulates nodes and initializers, and the renaming that QDQ pairs bring.
    private struct Builder {
        let graph: Graph
        var nodes: [Onnx_NodeProto] = []
        var initializers: [Onnx_TensorProto] = []
        /// The name readers use for a value (its DequantizeLinear output when it is quantized).
        var reads: [String: String] = [:]
        /// The name a node writes a value under (differs for a quantized graph output).
        var writes: [String: String] = [:]
        var used: Set<String>

        init(graph: Graph) {
            self.graph = graph
            used = Set(graph.inputs.map(\.name) + graph.initializers.keys + graph.nodes.flatMap(\.outputs))
            for name in graph.outputs where graph.quantization[name] != nil && graph.initializers[name] == nil {
                writes[name] = fresh(name + "_float")
            }
        }

        /// `base`, or `base` with a number, so that no two values share a name.
        mutating func fresh(_ base: String) -> String {
            var name = base, n = 1
            while used.contains(name) { name = "\(base)_\(n)"; n += 1 }
            used.insert(name)
            return name
        }

        mutating func add(_ node: Node) throws {
            var proto = Onnx_NodeProto()
            proto.name = node.name
            proto.opType = node.op.name
            proto.input = node.inputs.map { reads[$0] ?? $0 }
            proto.output = node.outputs.map { writes[$0] ?? $0 }
            let output = node.outputs[0]
            switch node.op {
            case .conv(let a):
                proto.attribute = convAttributes(a)
            case .convTranspose(let a, let outputPadding):
                proto.attribute = convAttributes(a) + [ints("output_padding", outputPadding)]
            case .gemm(let alpha, let beta, let transA, let transB):
                proto.attribute = [float("alpha", alpha), float("beta", beta), int("transA", transA ? 1 : 0), int("transB", transB ? 1 : 0)]
            case .matMul, .add, .sub, .mul, .div, .pow, .relu, .sigmoid, .sqrt, .erf, .exp, .tanh, .hardSwish, .globalAveragePool:
                break
            case .clip(let low, let high):
                let bounds = [low, high].map { abs($0) == .greatestFiniteMagnitude ? nil : $0 }
                for (bound, suffix) in zip(bounds, ["min", "max"]) {
                    proto.input.append(bound.map { constant("\(output)_\(suffix)", Tensor(shape: [], floats: [$0])) } ?? "")
                }
                while proto.input.last == "" { proto.input.removeLast() }
            case .hardSigmoid(let alpha, let beta):
                proto.attribute = [float("alpha", alpha), float("beta", beta)]
            case .softmax(let axis):
                proto.attribute = [int("axis", axis)]
            case .batchNorm(let epsilon):
                proto.attribute = [float("epsilon", epsilon)]
            case .maxPool(let a):
                proto.attribute = poolAttributes(a)
            case .averagePool(let a, let countIncludePad):
                proto.attribute = poolAttributes(a) + [int("count_include_pad", countIncludePad ? 1 : 0)]
            case .reduceMean(let axes, let keepDims):
                proto.attribute = [ints("axes", axes), int("keepdims", keepDims ? 1 : 0)]
            case .reshape(let shape):
                proto.input.append(constant("\(output)_shape", ints: shape))
            case .flatten(let axis):
                proto.attribute = [int("axis", axis)]
            case .transpose(let perm):
                proto.attribute = [ints("perm", perm)]
            case .concat(let axis):
                proto.attribute = [int("axis", axis)]
            case .slice(let starts, let ends, let axes, let steps):
                proto.input += [constant("\(output)_starts", ints: starts), constant("\(output)_ends", ints: ends),
                                constant("\(output)_axes", ints: axes), constant("\(output)_steps", ints: steps)]
            case .pad(let pads, let value, let mode):
                proto.input += [constant("\(output)_pads", ints: pads), constant("\(output)_value", Tensor(shape: [], floats: [value]))]
                proto.attribute = [string("mode", mode.rawValue)]
            case .squeeze(let axes), .unsqueeze(let axes):
                proto.input.append(constant("\(output)_axes", ints: axes))
            case .resize(let a):
                if let sizes = a.sizes {
                    proto.input += ["", "", constant("\(output)_sizes", ints: sizes)]
                } else {
                    proto.input += ["", constant("\(output)_scales", Tensor(shape: [a.scales.count], floats: a.scales))]
                }
                proto.attribute = [string("mode", a.mode.rawValue), string("coordinate_transformation_mode", a.coordinates.rawValue),
                                   string("nearest_mode", a.nearest.rawValue)]
            }
            nodes.append(proto)
        }

        /// Adds QuantizeLinear → DequantizeLinear after `name` when it has quantization parameters.
        mutating func quantizeActivation(_ name: String) {
            guard let params = graph.quantization[name], graph.initializers[name] == nil else { return }
            let quantized = fresh(name + "_quantized")
            let dequantized = graph.outputs.contains(name) ? name : fresh(name + "_dequantized")
            let (scale, zero) = parameters(name, params)
            nodes.append(node("QuantizeLinear", name: quantized, inputs: [writes[name] ?? name, scale, zero], output: quantized, axis: params.axis))
            nodes.append(node("DequantizeLinear", name: dequantized, inputs: [quantized, scale, zero], output: dequantized, axis: params.axis))
            reads[name] = dequantized
        }

        /// A graph initializer: as floats, or as integers with a DequantizeLinear when it has parameters.
        mutating func addInitializer(_ name: String, _ tensor: Tensor) {
            guard let params = graph.quantization[name], tensor.isFloat else {
                initializers.append(ONNXWriter.tensor(name, tensor))
                return
            }
            let quantized = fresh(name + "_quantized")
            initializers.append(ONNXWriter.tensor(quantized, shape: tensor.shape, integers: params.quantize(tensor.floats, shape: tensor.shape),
                                                  type: ONNXWriter.integerType(params)))
            let (scale, zero) = parameters(name, params)
            nodes.append(node("DequantizeLinear", name: name + "_dequantize", inputs: [quantized, scale, zero], output: name, axis: params.axis))
        }

        /// Scale and zero-point initializers: scalars for one per tensor, vectors for one per channel.
        private mutating func parameters(_ name: String, _ params: QuantParams) -> (scale: String, zero: String) {
            let shape = params.axis == nil ? [] : [params.scales.count]
            let scale = fresh(name + "_scale"), zero = fresh(name + "_zero_point")
            initializers.append(ONNXWriter.tensor(scale, Tensor(shape: shape, floats: params.axis == nil ? [params.scales[0]] : params.scales)))
            let zeros = params.axis == nil ? [params.zeroPoints[0]] : params.scales.indices.map { params.zeroPoints.count == 1 ? params.zeroPoints[0] : params.zeroPoints[$0] }
            initializers.append(ONNXWriter.tensor(zero, shape: shape, integers: zeros.map(Int64.init), type: ONNXWriter.integerType(params)))
            return (scale, zero)
        }

        private func node(_ opType: String, name: String, inputs: [String], output: String, axis: Int?) -> Onnx_NodeProto {
            var proto = Onnx_NodeProto()
            proto.name = name
            proto.opType = opType
            proto.input = inputs
            proto.output = [output]
            if let axis { proto.attribute = [int("axis", axis)] }
            return proto
        }

        private mutating func constant(_ base: String, _ tensor: Tensor) -> String {
            let name = fresh(base)
            initializers.append(ONNXWriter.tensor(name, tensor))
            return name
        }

        private mutating func constant(_ base: String, ints values: [Int]) -> String {
            constant(base, Tensor(shape: [values.count], int64s: values.map(Int64.init)))
        }
    }

    private static func integerType(_ params: QuantParams) -> Onnx_TensorProto.DataType {
        params.bits > 8 ? .int32 : params.isSigned ? .int8 : .uint8
    }

    /// A float or int64 tensor, little-endian raw data.
    private static func tensor(_ name: String, _ tensor: Tensor) -> Onnx_TensorProto {
        switch tensor.storage {
        case .float(let values):
            var proto = header(name, tensor.shape, .float)
            proto.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }
            return proto
        case .int64(let values):
            return self.tensor(name, shape: tensor.shape, integers: values, type: .int64)
        }
    }

    private static func tensor(_ name: String, shape: [Int], integers: [Int64], type: Onnx_TensorProto.DataType) -> Onnx_TensorProto {
        var proto = header(name, shape, type)
        switch type {
        case .int8: proto.rawData = Data(integers.map { UInt8(bitPattern: Int8(truncatingIfNeeded: $0)) })
        case .uint8: proto.rawData = Data(integers.map { UInt8(truncatingIfNeeded: $0) })
        case .int32: proto.rawData = integers.map { Int32(truncatingIfNeeded: $0).littleEndian }.withUnsafeBufferPointer { Data(buffer: $0) }
        default: proto.rawData = integers.map(\.littleEndian).withUnsafeBufferPointer { Data(buffer: $0) }
        }
        return proto
    }

    private static func header(_ name: String, _ shape: [Int], _ type: Onnx_TensorProto.DataType) -> Onnx_TensorProto {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dims = shape.map(Int64.init)
        proto.dataType = Int32(type.rawValue)
        return proto
    }

    private static func convAttributes(_ a: ConvAttributes) -> [Onnx_AttributeProto] {
        [ints("kernel_shape", a.kernel), ints("strides", a.strides), ints("pads", a.pads), ints("dilations", a.dilations), int("group", a.group)]
    }

    private static func poolAttributes(_ a: PoolAttributes) -> [Onnx_AttributeProto] {
        [ints("kernel_shape", a.kernel), ints("strides", a.strides), ints("pads", a.pads), int("ceil_mode", a.ceilMode ? 1 : 0)]
    }

    private static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(value)
        return a
    }

    private static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = values.map(Int64.init)
        return a
    }

    private static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = value
        return a
    }

    private static func string(_ name: String, _ value: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .string
        a.s = Data(value.utf8)
        return a
    }
}
