import Foundation

/// How the tools write files: whole or not at all, and never over a file they read.
public enum OutputFile {
    /// A file the tools refused to write, or could not.
    public struct Refused: Error, CustomStringConvertible {
        public var description: String
    }

    /// Writes `data` to a temporary file beside `path` and renames it over `path`: an interrupt,
    /// a full disk or a second run writing the same path leaves the old file or the new one,
    /// never part of one.
    public static func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw Refused(description: "cannot write '\(path)': \(error.localizedDescription)")
        }
    }

    /// Throws, before any work, when an output is one of the inputs or another output: the same
    /// file by any name (relative or absolute, through symbolic or hard links). `outputs` pair each
    /// path with the option that named it, for the message.
    ///
    /// Example: `compress m.onnx -o m.onnx` → "-o would overwrite the input 'm.onnx'".
    public static func checkDistinct(inputs: [String], outputs: [(option: String, path: String)]) throws {
        var seen: [(option: String, path: String, identity: Identity)] = []
        let read = inputs.map { ($0, identity($0)) }
        for output in outputs {
            let mine = identity(output.path)
            if let input = read.first(where: { $0.1 == mine }) {
                throw Refused(description: "\(output.option) would overwrite the input '\(input.0)': choose another path")
            }
            if let other = seen.first(where: { $0.identity == mine }) {
                throw Refused(description: "\(output.option) and \(other.option) both name '\(output.path)': give each output its own path")
            }
            seen.append((output.option, output.path, mine))
        }
    }

    /// A file's device and inode where it exists, else its absolute path with symbolic links
    /// resolved.
    private enum Identity: Equatable {
        case node(device: UInt64, inode: UInt64)
        case path(String)
    }

    private static func identity(_ path: String) -> Identity {
        var info = stat()
        if stat(path, &info) == 0 { return .node(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)) }
        return .path(URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path)
    }
}
