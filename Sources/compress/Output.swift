import Foundation
import Runner

/// A command that cannot go on: the message is printed and the exit status is 1.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Prints one JSON object on stdout with sorted keys, for scripts.
func printJSON(_ object: [String: Any]) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

/// Whether stderr is a terminal, where a progress line is redrawn in place.
private let stderrIsTerminal = isatty(2) != 0
/// Whether the terminal's last line is a progress line still being redrawn.
nonisolated(unsafe) private var progressLineOpen = false

/// A line on stderr: progress and notes, never mixed into stdout's results. A line starting with
/// "\r" (`ProgressMeter`) replaces the progress line before it on a terminal (ending in a newline,
/// it is the last) and is a plain line elsewhere.
func note(_ text: String) {
    var out = text
    if text.hasPrefix("\r") {
        out = String(text.dropFirst())
        if stderrIsTerminal {
            // A final line (ending in a newline) closes the progress line.
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + out).utf8))
            progressLineOpen = !out.hasSuffix("\n")
            return
        }
        out = out.hasSuffix("\n") ? String(out.dropLast()) : out
    } else if progressLineOpen {
        out = "\n" + out
    }
    progressLineOpen = false
    FileHandle.standardError.write(Data((out + "\n").utf8))
}

/// 385_282_944 → "385.28M".
func humanCount(_ value: Int) -> String {
    let v = Double(value)
    if v >= 1e9 { return String(format: "%.2fG", v / 1e9) }
    if v >= 1e6 { return String(format: "%.2fM", v / 1e6) }
    if v >= 1e3 { return String(format: "%.1fK", v / 1e3) }
    return String(value)
}

/// A duration in seconds: "90" and "90s" → 90, "30m" → 1800, "1.5h" → 5400.
func parseDuration(_ text: String) throws -> Double {
    let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
    let factor = text.last.flatMap { units[$0] } ?? 1
    guard let value = Double(factor == 1 && text.last != "s" ? text : String(text.dropLast())), value > 0, value.isFinite else {
        throw CommandError("'\(text)' is not a duration; write seconds (90 or 90s), minutes (30m) or hours (1.5h)")
    }
    return value * factor
}

func padded(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

/// The `--kernels` option of the commands that run a .wtm.
enum KernelsOption {
    static let help = "Kernel set: \(Runner.Kernels.allCases.map(\.rawValue).joined(separator: ", ")) (auto: the fastest this CPU runs)."

    static func parse(_ text: String) throws -> Runner.Kernels {
        guard let kernels = Runner.Kernels(rawValue: text) else {
            throw CommandError("unknown --kernels '\(text)'; choose one of \(Runner.Kernels.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return kernels
    }
}
