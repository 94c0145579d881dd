import Foundation
import Graph
import XCTest

/// Paths to the project, its fixtures and ../shared.
enum Paths {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = root.appendingPathComponent("Tests/Fixtures")
    static let shared = root.deletingLastPathComponent().appendingPathComponent("shared")

    /// A path under ../shared, or a skip naming what is missing.
    static func shared(_ relative: String) throws -> String {
        let path = shared.appendingPathComponent(relative).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("../shared/\(relative) is absent: this test needs the shared models and data beside the project")
        }
        return path
    }

    static func fixture(_ relative: String) -> String { fixtures.appendingPathComponent(relative).path }
}

/// max |actual − expected| / max |expected|, the figure golden comparisons use.
func relativeError(_ actual: [Float], _ expected: [Float]) -> Float {
    precondition(actual.count == expected.count, "\(actual.count) values against \(expected.count)")
    let scale = expected.map { abs($0) }.max() ?? 0
    let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
    return scale > 0 ? worst / scale : worst
}

/// Deterministic pseudo-random floats in [−1, 1) (SplitMix64), so a failing sweep repeats.
struct SeededRandom {
    private var generator: SplitMix
    init(seed: UInt64) { generator = SplitMix(seed: seed) }

    mutating func next() -> Float { Float(generator.next() >> 40) / Float(1 << 23) - 1 }

    mutating func tensor(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in next() })
    }
}

/// Runs the built `compress` executable (beside the test bundle) and captures its output.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

func runCompress(_ arguments: [String]) throws -> CommandResult {
    // The test executable (…/release/WhittlePackageTests.xctest) sits beside the products.
    let directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    let executable = directory.appendingPathComponent("compress")
    guard FileManager.default.isExecutableFile(atPath: executable.path) else {
        throw XCTSkip("\(executable.path) is not built; run `make test`")
    }
    return try runProcess(executable.path, arguments)
}

/// Runs a program and captures its output.
func runProcess(_ path: String, _ arguments: [String]) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                         stderr: String(decoding: stderr, as: UTF8.self))
}
