import Datasets
import Quantize

/// The C runtime against the Swift integer simulation on real inputs, element by element.
public enum Verification {
    public struct Result: Sendable {
        public var images: Int
        /// Output elements where the runtime and QuantSim differ: 0 is the contract.
        public var mismatches: Int
        public var elements: Int
        /// Largest difference in uint8 steps.
        public var maxDifference: Int
    }

    public static func run(_ model: IntegerInference, data: LabeledData, preset: Preset, count: Int,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> Result {
        guard model.input.shape.count == 4 else {
            throw DatasetError("verify feeds images: the model's input \(model.input.shape) is not an NCHW image")
        }
        let sim = QuantSim(model.model)
        let (channels, height, width) = (model.input.shape[1], model.input.shape[2], model.input.shape[3])
        let total = min(count, data.samples.count)
        var result = Result(images: 0, mismatches: 0, elements: 0, maxDifference: 0)
        for index in 0..<total {
            let q = model.inputTensor.quantize(nchw: try data.input(index, preset: preset, height: height, width: width, channels: channels))
            let runtime = try model.runQuantized(q)
            let simulated = sim.run(q)[model.model.outputs[0]]
            for (a, b) in zip(runtime, simulated) where a != b {
                result.mismatches += 1
                result.maxDifference = max(result.maxDifference, abs(Int(a) - Int(b)))
            }
            result.elements += runtime.count
            result.images += 1
            progress(index + 1, total)
        }
        return result
    }
}
