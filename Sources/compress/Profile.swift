import ArgumentParser
import Foundation
import Graph
import Pipeline
import Runner

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Per-layer latency of a .wtm on the C runtime.",
        discussion: """
        Times every op separately in each of --runs runs, after 5 untimed warm-up runs, on \
        --threads threads (convolutions are split across them). Prints op, input and output shapes (NHWC), MACs, the median milliseconds, GOP/s \
        (2 · MACs per second, 10^9) and the share of the total; then the median total.
        """)

    @Argument(help: "The model (.wtm).") var model: String
    @Option(help: "Timed runs (the median is reported).") var runs = 50
    @Option(help: ArgumentHelp(stringLiteral: KernelsOption.help)) var kernels = Runner.Kernels.auto.rawValue
    @Option(help: "Threads, the calling one included (1 to 16).") var threads = 1
    @Flag(help: "Print one JSON object: median_ms, kernels, threads, runs, macs and a layers array.") var json = false
    @Option(help: ArgumentHelp("Add the ops' medians to a latency table (created if absent) that the main job's millisecond budgets read (--latency-table): profile a .wtm of each scheme to cover plans that mix them.", valueName: "table.json"))
    var table: String?

    func run() throws {
        let kernels = try KernelsOption.parse(kernels)
        guard runs >= 1 else { throw CommandError("--runs must be at least 1") }
        let profile = try Profile.measure(path: model, runs: runs, kernels: kernels, threads: threads)
        if let table {
            let merged = FileManager.default.fileExists(atPath: table) ? try LatencyTable.read(path: table).merged(with: profile.table) : profile.table
            try OutputFile.write(merged.json(), to: table)
            note("\(table): \(merged.milliseconds.count) ops of \(merged.kernels) kernels on \(merged.threads) thread(s)")
        }
        if json {
            try printJSON([
                "median_ms": profile.medianMs, "kernels": profile.kernels, "threads": profile.threads, "runs": profile.runs,
                "macs": profile.macs,
                "layers": profile.layers.map { l -> [String: Any] in
                    var entry: [String: Any] = ["index": l.index, "name": l.name, "op": l.kind, "input_shape": l.inputShape, "output_shape": l.outputShape,
                                                "macs": l.macs, "median_ms": l.medianMs, "gops": l.gops]
                    if let weights = l.weights { entry["weights"] = weights.rawValue }
                    return entry
                },
            ])
            return
        }
        print("\(model): \(profile.kernels) kernels, \(profile.threads) thread\(profile.threads == 1 ? "" : "s"), median of \(profile.runs) runs")
        print(padded("#", 4) + padded("node", 28) + padded("op", 16) + padded("input", 20) + padded("output", 20) + padded("MACs", 10)
              + padded("ms", 9) + padded("GOP/s", 8) + "share")
        for l in profile.layers {
            let shape = { (s: [Int]) in s.map(String.init).joined(separator: "×") }
            let op = l.weights.map { $0 == .int8 ? l.kind : "\(l.kind) \($0.rawValue)" } ?? l.kind
            print(padded("\(l.index)", 4) + padded(String(l.name.prefix(27)), 28) + padded(op, 16) + padded(shape(l.inputShape), 20) + padded(shape(l.outputShape), 20)
                  + padded(l.macs > 0 ? humanCount(l.macs) : "-", 10) + padded(String(format: "%.3f", l.medianMs), 9)
                  + padded(l.macs > 0 ? String(format: "%.1f", l.gops) : "-", 8)
                  + String(format: "%.1f%%", 100 * l.medianMs / max(profile.medianMs, 1e-9)))
        }
        print(String(format: "total: %.3f ms median, %@ MACs, %.1f GOP/s", profile.medianMs, humanCount(profile.macs),
                     2 * Double(profile.macs) / (profile.medianMs * 1e6)))
    }
}
