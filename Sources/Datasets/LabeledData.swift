import CZlib
import Foundation
import Graph

/// Labeled images for evaluation and calibration. A folder holds either
/// - `labels.tsv` (header, then file, class_index, …; rows whose class is not a number are skipped),
/// - MNIST IDX files (`*-images-idx3-ubyte[.gz]` and `*-labels-idx1-ubyte[.gz]`),
/// - one subfolder per class, classes numbered in name order, or
/// - the images themselves, unlabeled (label `unlabeled`): enough to calibrate or verify, not to evaluate.
public struct LabeledData: Sendable {
    public enum Source: Sendable {
        case file(String)
        /// Gray pixels of a square image held in memory (MNIST).
        case pixels([UInt8], size: Int)
    }

    public var samples: [(source: Source, label: Int)]
    /// Class names by label, where the folder gives them: labels.tsv's `name` column, or the
    /// class subfolders' names.
    public var classNames: [Int: String] = [:]
    /// The label of an image from a folder without labels.
    public static let unlabeled = -1

    public init(folder: String) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DatasetError("'\(folder)' is not a folder")
        }
        let entries = try manager.contentsOfDirectory(atPath: folder).sorted()
        let url = URL(fileURLWithPath: folder)
        if entries.contains("labels.tsv") {
            (samples, classNames) = try Self.readTable(url.appendingPathComponent("labels.tsv").path, folder: url)
        } else if let images = entries.first(where: { $0.contains("images-idx3-ubyte") }),
                  let labels = entries.first(where: { $0.contains("labels-idx1-ubyte") }) {
            samples = try Self.readIDX(images: url.appendingPathComponent(images).path, labels: url.appendingPathComponent(labels).path)
        } else {
            let classes = entries.filter { name in
                var isDir: ObjCBool = false
                return manager.fileExists(atPath: url.appendingPathComponent(name).path, isDirectory: &isDir) && isDir.boolValue
            }
            classNames = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($0, $1) })
            samples = try classes.enumerated().flatMap { index, name in
                try Self.images(manager.contentsOfDirectory(atPath: url.appendingPathComponent(name).path).sorted())
                    .map { (Source.file(url.appendingPathComponent(name).appendingPathComponent($0).path), index) }
            }
            if samples.isEmpty {
                classNames = [:]
                samples = Self.images(entries).map { (Source.file(url.appendingPathComponent($0).path), Self.unlabeled) }
            }
        }
        guard !samples.isEmpty else {
            throw DatasetError("'\(folder)' has no images: expected labels.tsv, MNIST IDX files, one subfolder per class, or JPEG/PNG files")
        }
    }

    /// The JPEG and PNG files among `names`.
    private static func images(_ names: [String]) -> [String] {
        names.filter { ["jpg", "jpeg", "png"].contains(($0 as NSString).pathExtension.lowercased()) }
    }

    /// The rows of labels.tsv, and the class names of its `name` column when it has one.
    private static func readTable(_ path: String, folder: URL) throws -> ([(source: Source, label: Int)], [Int: String]) {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline)
        let header = lines.first?.split(separator: "\t", omittingEmptySubsequences: false) ?? []
        let nameColumn = header.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "name" }
        var names: [Int: String] = [:]
        let samples = lines.dropFirst().compactMap { line -> (source: Source, label: Int)? in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 2, let label = Int(fields[1].trimmingCharacters(in: .whitespaces)) else { return nil }
            if let nameColumn, nameColumn < fields.count { names[label] = String(fields[nameColumn]) }
            return (.file(folder.appendingPathComponent(String(fields[0])).path), label)
        }
        return (samples, names)
    }

    /// A labels file: one class name per line, line i naming class i (TFLite's labels.txt).
    public static func classNames(path: String) throws -> [Int: String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError("cannot read '\(path)'") }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        var names: [Int: String] = [:]
        for (index, line) in lines.enumerated() {
            let name = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if !name.isEmpty { names[index] = name }
        }
        guard !names.isEmpty else { throw DatasetError("\(path) holds no class names (one per line, line i naming class i)") }
        return names
    }

    private static func readIDX(images: String, labels: String) throws -> [(Source, Int)] {
        let imageBytes = try readMaybeGzipped(images), labelBytes = try readMaybeGzipped(labels)
        func word(_ bytes: [UInt8], _ at: Int) -> Int {
            bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) }
        }
        guard imageBytes.count >= 16, word(imageBytes, 0) == 0x803, labelBytes.count >= 8, word(labelBytes, 0) == 0x801 else {
            throw DatasetError("\(images): not an MNIST IDX image/label pair")
        }
        let (count, rows, columns) = (word(imageBytes, 4), word(imageBytes, 8), word(imageBytes, 12))
        guard rows == columns, rows > 0, word(labelBytes, 4) == count, let pixels = try? checkedElementCount([count, rows, columns]),
              imageBytes.count >= 16 + pixels, labelBytes.count >= 8 + count
        else { throw DatasetError("\(images): IDX sizes do not agree (\(count) images of \(rows)×\(columns) claimed, \(imageBytes.count) bytes held)") }
        let plane = rows * columns
        return (0..<count).map { i in
            (.pixels(Array(imageBytes[16 + i * plane..<16 + (i + 1) * plane]), size: rows), Int(labelBytes[8 + i]))
        }
    }

    /// The file's bytes, gunzipped when it ends in .gz.
    static func readMaybeGzipped(_ path: String) throws -> [UInt8] {
        guard path.hasSuffix(".gz") else {
            guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError("cannot read '\(path)'") }
            return [UInt8](data)
        }
        guard let file = gzopen(path, "rb") else { throw DatasetError("cannot open '\(path)'") }
        defer { gzclose(file) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let read = gzread(file, &chunk, UInt32(chunk.count))
            guard read >= 0 else { throw DatasetError("'\(path)' is not valid gzip data") }
            if read == 0 { break }
            result += chunk[0..<Int(read)]
        }
        return result
    }

    /// The model inputs for several samples, one after the other (NCHW floats), decoded in
    /// parallel on every core.
    public func inputs(_ indices: [Int], preset: Preset, size: Int, channels: Int) throws -> [Float] {
        try inputs(indices, preset: preset, height: size, width: size, channels: channels)
    }

    /// The model inputs of a `channels`×`height`×`width` input for several samples.
    public func inputs(_ indices: [Int], preset: Preset, height: Int, width: Int, channels: Int) throws -> [Float] {
        try concurrentMap(indices.count) { try input(indices[$0], preset: preset, height: height, width: width, channels: channels) }.flatMap { $0 }
    }

    /// The model input for one sample (CHW floats).
    public func input(_ index: Int, preset: Preset, size: Int, channels: Int) throws -> [Float] {
        try input(index, preset: preset, height: size, width: size, channels: channels)
    }

    /// The model input of a `channels`×`height`×`width` input for one sample (CHW floats).
    public func input(_ index: Int, preset: Preset, height: Int, width: Int, channels: Int) throws -> [Float] {
        switch samples[index].source {
        case .file(let path):
            return try preset.prepare(RGBImage.read(path: path), height: height, width: width, channels: channels)
        case .pixels(let gray, let side):
            guard side == height, side == width else { throw DatasetError("the images are \(side)×\(side), the model takes \(height)×\(width)") }
            return preset.normalize(gray, plane: side * side, channels: channels)
        }
    }
}
