import Datasets
import Foundation
import Graph

/// Reads a model input from a file: a tensor (.npy, .npz with one array) or an image.
public enum InputLoader {
    /// `presetName` prepares an image; nil refuses one (nothing says how to prepare it).
    public static func tensor(path: String, for input: ValueInfo, preset presetName: String?) throws -> Tensor {
        let lower = path.lowercased()
        var tensor: Tensor
        if lower.hasSuffix(".npy") {
            tensor = try Npy.read(path: path)
        } else if lower.hasSuffix(".npz") {
            let arrays = try Npz.read(path: path)
            guard arrays.count == 1, let only = arrays.values.first else {
                throw DatasetError("\(path) holds \(arrays.count) arrays; give a .npz with one, or a .npy")
            }
            tensor = only
        } else {
            guard let presetName else {
                throw DatasetError("nothing says how to prepare the image \(path): pass --prep (\(Preset.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let preset = try parsePreset(presetName)
            guard input.shape.count == 4 else { throw DatasetError("the model's input \(input.shape) is not an NCHW image") }
            let pixels = try preset.prepare(RGBImage.read(path: path), height: input.shape[2], width: input.shape[3], channels: input.shape[1])
            return Tensor(shape: [1] + input.shape.dropFirst(), floats: pixels)
        }
        if tensor.shape.count == input.shape.count - 1 { tensor.shape = [1] + tensor.shape }
        return Tensor(shape: tensor.shape, floats: tensor.floats)
    }

    public static func parsePreset(_ name: String) throws -> Preset {
        guard let preset = Preset(rawValue: name) else {
            throw DatasetError("unknown --prep '\(name)'; choose one of \(Preset.allCases.map(\.rawValue).joined(separator: ", ")), or write a spec such as 'mean=0.5;std=0.5' (value = (p/scale − mean)/std)")
        }
        return preset
    }
}
