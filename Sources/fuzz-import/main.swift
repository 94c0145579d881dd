// The ONNX importer as a fuzz target (`make fuzz`, Tests/Fuzz/README.md).
//
// Each input is imported as the command line imports a model (ONNXImporter.load, then the
// Simplify passes). An input may be refused with an error; anything else it does is a finding:
// a trap or sanitizer report, a graph that imports but does not verify, or a small imported
// graph the float Engine cannot run.
//
// Linked with libFuzzer (`make fuzz`) this program is the fuzzer and takes libFuzzer's options;
// built by `swift build` it replays files and folders given as arguments:
//
//     fuzz-import Tests/Fuzz/corpus/onnx     # "fuzz-import: 31 inputs: 4 refused, 27 imported (27 run)"
import CFuzzDriver
import Engine
import Foundation
import Graph
import Importer
import Rewrite

/// Above these (MACs in all, elements of any value), an imported graph is only imported, not run:
/// the fuzzer wants many runs a second.
let macLimit = 4_000_000
let elementLimit = 1 << 20

enum Outcome { case refused, imported, ran }

func importAndRun(_ data: Data) -> Outcome {
    var graph: Graph
    do {
        graph = try ONNXImporter.load(data: data).graph
        try Simplify.run(&graph)
    } catch {
        return .refused
    }
    do {
        try graph.verify()
    } catch {
        fatalError("an imported graph does not verify: \(error)")
    }
    guard let costs = try? graph.layerCosts(), costs.reduce(0, { $0 + $1.macs }) <= macLimit,
          let shapes = try? graph.inferShapes(), shapes.values.allSatisfy({ $0.reduce(1, *) <= elementLimit }) else { return .imported }
    var inputs: [String: Tensor] = [:]
    for input in graph.inputs {
        let count = input.shape.reduce(1, *)
        inputs[input.name] = Tensor(shape: input.shape, floats: (0..<count).map { Float($0 % 17) / 8 - 1 })
    }
    do {
        _ = try Engine(graph: graph).run(inputs)
    } catch {
        fatalError("an imported graph does not run: \(error)")
    }
    return .ran
}

var counts: [Outcome: Int] = [:]
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
let status = whittle_fuzz_main(&argc, &argv) { bytes, size in
    counts[importAndRun(size == 0 ? Data() : Data(bytes: bytes!, count: size)), default: 0] += 1
    return 0
}
if status == 0, whittle_fuzz_driver_linked() == 0 {
    let all = counts.values.reduce(0, +), refused = counts[.refused, default: 0]
    print("fuzz-import: \(all) inputs: \(refused) refused, \(all - refused) imported (\(counts[.ran, default: 0]) run)")
}
exit(status)
