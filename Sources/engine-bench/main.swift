// Times the float Engine's forward pass on one model at several batch sizes and prints one
// JSON object (median and minimum milliseconds per batch, median per image). `make bench`
// runs it next to ONNX Runtime on the same machine in the same run: bench/engine_vs_ort.py.
import Dispatch
import Engine
import Foundation
import Graph
import Pipeline

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: engine-bench MODEL.onnx [--batches 1,32] [--runs N]\n".utf8))
    exit(2)
}

func option(_ name: String) -> String? {
    arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}

do {
    let graph = try ModelLoader.load(path: arguments[1]).graph
    let batches = (option("--batches") ?? "1,32").split(separator: ",").compactMap { Int($0) }
    let runs = Int(option("--runs") ?? "") ?? 10
    var results: [[String: Any]] = []
    for batch in batches {
        let shape = [batch] + graph.inputs[0].shape.dropFirst()
        let input = Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { Float($0 % 255) / 127.5 - 1 })
        let engine = Engine(graph: graph)
        let feed = [graph.inputs[0].name: input]
        _ = try engine.run(feed)
        let repeats = max(batch == 1 ? runs * 3 : runs, 3)
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try engine.run(feed)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        let sorted = times.sorted()
        let median = sorted[sorted.count / 2]
        results.append(["batch": batch, "median_ms": median, "min_ms": sorted[0], "ms_per_image": median / Double(batch),
                        "runs": repeats])
    }
    let data = try JSONSerialization.data(withJSONObject: ["model": arguments[1], "results": results], options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
} catch {
    FileHandle.standardError.write(Data("engine-bench: \(error)\n".utf8))
    exit(1)
}
