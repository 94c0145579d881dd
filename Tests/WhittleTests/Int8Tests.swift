import Datasets
import Foundation
import Graph
import Runner
import XCTest

/// The main job end to end through the command line: compress, then verify/run/eval the .wtm.
final class Int8Tests: XCTestCase {
    private func json(_ result: CommandResult, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
    }

    private func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("whittle-\(getpid())-\(name)").path
    }

    /// The C runtime equals QuantSim on every output value of 50 evaluation images; the summary's
    /// agreement is measured on images calibration never saw.
    func testRuntimeMatchesQuantSimOnImageNetModels() throws {
        let calib = try Paths.shared("data/imagenet-calib"), eval = try Paths.shared("data/imagenet-eval")
        for (name, prep) in [("efficientnet-lite0-fp32", "tf"), ("mobilenetv2-12-dequantized-fp32", "torch"),
                             ("squeezenet1.0-opset7-fp32", "caffe_bgr")] {
            let wtm = temporary("\(name).wtm")
            defer { try? FileManager.default.removeItem(atPath: wtm) }
            let summary = try json(runCompress([try Paths.shared("models/imagenet/\(name).onnx"), "--data", calib, "--prep", prep,
                                                "--calibration-count", "20", "-o", wtm, "--json"]))
            XCTAssertGreaterThanOrEqual(summary["top1_agreement"] as? Double ?? 0, 0.85, name)
            // 20 of the folder's 100 images calibrate; the agreement is measured on 30 of the other 80.
            XCTAssertEqual(summary["calibration_images"] as? Int, 20, name)
            XCTAssertEqual(summary["agreement_images"] as? Int, 30, name)
            XCTAssertEqual(summary["agreement_held_out"] as? Bool, true, name)
            let verified = try json(runCompress(["verify", wtm, "--data", eval, "--prep", prep, "--count", "50", "--json"]))
            XCTAssertEqual(verified["mismatches"] as? Int, 0, name)
            XCTAssertEqual(verified["elements"] as? Int, 50_000, name)
            // The other x86 kernel sets this CPU runs, besides the default (the fastest), the
            // first of them split over two threads.
            for (kernels, threads) in [("avx2", "2"), ("avxvnni", "1")] {
                let other = try runCompress(["verify", wtm, "--data", eval, "--prep", prep, "--count", "5", "--kernels", kernels,
                                             "--threads", threads, "--json"])
                if other.stderr.contains("cannot run") { continue }
                XCTAssertEqual(try json(other)["mismatches"] as? Int, 0, "\(name), \(kernels), \(threads) threads")
            }
            let threaded = try json(runCompress(["verify", wtm, "--data", eval, "--prep", prep, "--count", "5", "--threads", "2", "--json"]))
            XCTAssertEqual(threaded["mismatches"] as? Int, 0, "\(name), 2 threads")
        }
    }

    func testBundledModelKeepsItsAnswerAndFitsTheBudget() throws {
        let calib = try Paths.shared("data/imagenet-calib"), coffee = try Paths.shared("data/package-samples/coffee.png")
        let wtm = temporary("lite0.wtm"), report = temporary("lite0.json")
        defer { for p in [wtm, report] { try? FileManager.default.removeItem(atPath: p) } }
        let summary = try json(runCompress([Paths.root.appendingPathComponent("models/efficientnet-lite0-fp32.onnx").path,
                                            "--budget", "6MB", "--budget", "400MFLOPs", "--data", calib, "--prep", "tf",
                                            "--calibration-count", "30", "-o", wtm, "--report", report, "--json"]))
        XCTAssertLessThanOrEqual(summary["file_bytes"] as? Int ?? .max, 5_500_000)
        let layers = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
        XCTAssertEqual((layers?["layers"] as? [Any])?.count, 49 + 9 + 1 + 1 + 1) // convs, adds, mean, reshape, FC
        let run = try json(runCompress(["run", wtm, "--input", coffee, "--prep", "tf", "--top", "1", "--json"]))
        XCTAssertEqual(((run["top"] as? [[String: Any]])?.first?["class"] as? Int), 967)

        let profile = try json(runCompress(["profile", wtm, "--runs", "3", "--threads", "2", "--json"]))
        XCTAssertEqual(profile["threads"] as? Int, 2)
        let profiled = profile["layers"] as? [[String: Any]] ?? []
        XCTAssertEqual(profiled.count, 61)
        XCTAssertEqual(Double(profile["macs"] as? Int ?? 0), 385e6, accuracy: 385e4)
        let runner = try Runner(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: wtm))))
        XCTAssertEqual(runner.macs, summary["macs"] as? Int, "the runtime's count of the work, wt_model_macs, is the cost model's")
        XCTAssertGreaterThan(profile["median_ms"] as? Double ?? 0, 0)
        XCTAssertEqual(profiled.first?["op"] as? String, "Conv")
        XCTAssertEqual(profiled.first?["output_shape"] as? [Int], [1, 112, 112, 32])
        let badKernels = try runCompress(["profile", wtm, "--kernels", "sse9"])
        XCTAssertNotEqual(badKernels.status, 0)
        XCTAssertTrue(badKernels.stderr.contains("avx2"), badKernels.stderr)
        let badThreads = try runCompress(["profile", wtm, "--threads", "99"])
        XCTAssertNotEqual(badThreads.status, 0)
        XCTAssertTrue(badThreads.stderr.contains("threads must be 1 to 16"), badThreads.stderr)
    }

    func testMNISTInt8KeepsItsAccuracy() throws {
        let data = try Paths.shared("data/mnist"), wtm = temporary("mnist.wtm"), c = temporary("mnist-c")
        defer { for p in [wtm, c] { try? FileManager.default.removeItem(atPath: p) } }
        _ = try json(runCompress([try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx"), "--data", data, "--prep", "mnist",
                                  "-o", wtm, "--emit-c", c, "--json"]))
        // The C export (built and run for x86-64 and aarch64 by make neon-test): the array is the .wtm.
        let header = try String(contentsOfFile: c + "/model.h", encoding: .utf8)
        XCTAssertTrue(header.contains("#define WT_MODEL_INPUT_SIZE 784u"), header)
        let source = try String(contentsOfFile: c + "/model.c", encoding: .utf8)
        let size = try FileManager.default.attributesOfItem(atPath: wtm)[.size] as? Int ?? 0
        XCTAssertTrue(source.contains("const uint8_t wt_model_data[\(size)]"))
        XCTAssertTrue(source.contains("op 6: FullyConnected 1×128 → 1×10"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: c + "/main.c"))
        let eval = try json(runCompress(["eval", wtm, "--data", data, "--prep", "mnist", "--json"]))
        XCTAssertGreaterThanOrEqual(eval["top1"] as? Double ?? 0, 0.975) // float: 0.9787
    }

    /// --quiet leaves stderr empty; the summary names every file written.
    func testQuietJobPrintsOnlyTheResult() throws {
        let wtm = temporary("quiet.wtm"), report = temporary("quiet.json")
        defer { for p in [wtm, report] { try? FileManager.default.removeItem(atPath: p) } }
        let result = try runCompress([try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx"), "--data", try Paths.shared("data/mnist"),
                                      "--prep", "mnist", "--calibration-count", "10", "-o", wtm, "--report", report, "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "")
        XCTAssertTrue(result.stdout.contains("wrote \(wtm)") && result.stdout.contains("also wrote      \(report)"), result.stdout)
    }

    /// The C export's example program quantizes a prepared float input as `compress run` does and
    /// finds the same top class with the same score (needs the host runtime library that
    /// `make neon-test` builds).
    func testCExportQuantizesAFloatInput() throws {
        let library = Paths.root.appendingPathComponent(".build/runtime-host/libwhittle_runtime.a").path
        guard FileManager.default.fileExists(atPath: library) else { throw XCTSkip("\(library) is absent: make neon-test builds it") }
        let data = try Paths.shared("data/mnist"), wtm = temporary("mnist-c.wtm"), c = temporary("mnist-c-src")
        let input = temporary("digit.f32"), npy = temporary("digit.npy"), program = temporary("mnist-c-program")
        defer { for p in [wtm, c, input, npy, program] { try? FileManager.default.removeItem(atPath: p) } }
        _ = try json(runCompress([try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx"), "--data", data, "--prep", "mnist",
                                  "--calibration-count", "20", "-o", wtm, "--emit-c", c, "--json"]))
        let digit = try LabeledData(folder: data).input(7, preset: .mnist, size: 28, channels: 1)
        try digit.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: input)) }
        try Npy.write(Tensor(shape: [1, 1, 28, 28], floats: digit), path: npy)
        let include = Paths.root.appendingPathComponent("Sources/Runtime/include").path
        let built = try runProcess("/usr/bin/cc", ["-std=c99", "-Wall", "-Wextra", "-Werror", "-I", include, c + "/main.c", c + "/model.c",
                                                   library, "-lm", "-pthread", "-o", program])
        XCTAssertEqual(built.status, 0, built.stderr)
        let ran = try runProcess(program, [temporary("digit-out.bin"), input])
        XCTAssertEqual(ran.status, 0, ran.stderr)
        let reference = try json(runCompress(["run", wtm, "--input", npy, "--top", "1", "--json"]))
        let top = (reference["top"] as? [[String: Any]])?.first ?? [:]
        XCTAssertTrue(ran.stdout.contains("top output index \(top["class"] as? Int ?? -1) "), ran.stdout)
        XCTAssertTrue(ran.stdout.contains(String(format: "real %.5f", top["score"] as? Double ?? .nan)), "\(ran.stdout) vs \(top)")
    }

    /// Every scheme below 8 bits through the main job: the `.wtm` stores its packed levels (the
    /// file shrinks as the cost model says), the C runtime on every kernel set this CPU runs equals
    /// QuantSim bit for bit, and the QDQ export keeps each layer's levels.
    func testLowBitSchemesRunBitExactOnEveryKernelSet() throws {
        let data = try Paths.shared("data/mnist"), model = try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx")
        var sizes: [String: Int] = [:], logitsSQNR: [String: Double] = [:]
        for (scheme, rule) in [("int8", "max"), ("int4", "mse"), ("int2", "mse"), ("ternary", "absmean"), ("ternary", "absmedian")] {
            let wtm = temporary("mnist-\(scheme).wtm"), report = temporary("mnist-\(scheme).json")
            defer { for p in [wtm, report] { try? FileManager.default.removeItem(atPath: p) } }
            let summary = try json(runCompress([model, "--data", data, "--prep", "mnist", "--calibration-count", "20", "--bits", scheme,
                                                "--weight-scale", rule, "--bits-everywhere", "-o", wtm, "--report", report, "--json"]))
            XCTAssertEqual(summary["bits"] as? String, scheme)
            let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
            let layers = (written?["plan"] as? [String: Any])?["layers"] as? [[String: Any]] ?? []
            XCTAssertEqual(Set(layers.map { $0["weight_scale"] as? String }), [rule])
            sizes[scheme] = summary["weight_bytes"] as? Int
            // The logits' SQNR against float (every layer quantized): it falls with the bits.
            let reported = written?["layers"] as? [[String: Any]] ?? []
            logitsSQNR[scheme + "-" + rule] = reported.last?["sqnr_db"] as? Double
            if scheme == "int8" { XCTAssertEqual(reported.compactMap { $0["sqnr_db"] as? Double }.filter { $0 < 30 }, [], "int8 layers") }
            for kernels in ["ref", "avx2", "avxvnni", "avx512vnni"] {
                let verified = try runCompress(["verify", wtm, "--data", data, "--prep", "mnist", "--count", "20", "--kernels", kernels, "--json"])
                if verified.stderr.contains("cannot run") { continue }
                XCTAssertEqual(try json(verified)["mismatches"] as? Int, 0, "\(scheme), \(kernels)")
            }
        }
        // mnist-pytorch: 320 + 18,496 + 1,179,776 + 1,290 weights; the packed bytes shrink with the bits.
        XCTAssertLessThan(sizes["int4"] ?? .max, (sizes["int8"] ?? 0) * 55 / 100)
        XCTAssertLessThan(sizes["int2"] ?? .max, (sizes["int8"] ?? 0) * 30 / 100)
        XCTAssertEqual(sizes["int2"], sizes["ternary"])
        let (int8, int4, int2) = (logitsSQNR["int8-max"] ?? 0, logitsSQNR["int4-mse"] ?? 0, logitsSQNR["int2-mse"] ?? 0)
        XCTAssertGreaterThan(int8, 25, "\(logitsSQNR)")
        XCTAssertGreaterThan(int8, int4, "\(logitsSQNR)")
        XCTAssertGreaterThan(int4, int2, "\(logitsSQNR)")
    }

    /// CIFAR ResNet-20 (option-A shortcuts: strided Slice and a channel Pad) in int8: within 0.5 pt
    /// of float (80.68 %, as ONNX Runtime on the same JPEGs) on all 10,000 test images, calibrated on
    /// 200 training images; bit-exact on every kernel set, in int8 and with int4 weights.
    func testCIFARResNetRunsInInt8() throws {
        let train = try Paths.shared("data/cifar10/train"), test = try Paths.shared("data/cifar10/test")
        let model = try Paths.shared("models/cifar10/resnet20_cifar10.onnx")
        for bits in ["int8", "int4"] {
            let wtm = temporary("resnet20-\(bits).wtm")
            defer { try? FileManager.default.removeItem(atPath: wtm) }
            _ = try json(runCompress([model, "--data", train, "--prep", "cifar10", "--calibration-count", "200", "--bits", bits, "-o", wtm, "--json"]))
            for kernels in ["ref", "avx2", "avxvnni", "avx512vnni"] {
                let verified = try runCompress(["verify", wtm, "--data", test, "--prep", "cifar10", "--count", "20", "--kernels", kernels, "--json"])
                if verified.stderr.contains("cannot run") { continue }
                XCTAssertEqual(try json(verified)["mismatches"] as? Int, 0, "\(bits), \(kernels)")
            }
            guard bits == "int8" else { continue }
            let top1 = try json(runCompress(["eval", wtm, "--data", test, "--prep", "cifar10", "--json"]))["top1"] as? Double ?? 0
            print("ResNet-20 int8: top-1 \(top1) on the CIFAR-10 test images (float 0.8068)")
            XCTAssertGreaterThanOrEqual(top1, 0.8068 - 0.005)
        }
    }

    /// `--bits mixed` under a weight-size budget between uniform int4's and int8's: the layer
    /// least hurt by 4 bits (fc1, most of the weights) takes them (in the searched plan, or in
    /// uniform int4 when that measures closer to float), the file fits, the runtime is bit-exact
    /// and the accuracy stays (float 97.87 %).
    func testMixedBitsFitTheBudget() throws {
        let data = try Paths.shared("data/mnist"), model = try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx")
        let (wtm, report) = (temporary("mixed.wtm"), temporary("mixed.json"))
        defer { for p in [wtm, report] { try? FileManager.default.removeItem(atPath: p) } }
        let summary = try json(runCompress([model, "--data", data, "--prep", "mnist", "--calibration-count", "50", "--bits", "mixed",
                                            "--budget", "300KB", "-o", wtm, "--report", report, "--json"]))
        XCTAssertLessThanOrEqual(summary["weight_bytes"] as? Int ?? .max, 300_000)
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
        let plan = (written?["plan"] as? [String: Any])?["layers"] as? [[String: Any]] ?? []
        XCTAssertEqual(plan.count, 4)
        XCTAssertEqual(plan[2]["weights"] as? String, "int4") // fc1: half the bytes
        XCTAssertEqual(try json(runCompress(["verify", wtm, "--data", data, "--prep", "mnist", "--count", "20", "--json"]))["mismatches"] as? Int, 0)
        XCTAssertGreaterThanOrEqual(try json(runCompress(["eval", wtm, "--data", data, "--prep", "mnist", "--json"]))["top1"] as? Double ?? 0, 0.975)
        let noBytes = try runCompress([model, "--data", data, "--prep", "mnist", "--bits", "mixed", "--budget", "5MFLOPs"])
        XCTAssertTrue(noBytes.stderr.contains("give one, e.g. --budget 3MB"), noBytes.stderr)
        // Under a BOPs budget: MACs × weight bits × 8, the same allocator.
        let bops = try json(runCompress([model, "--data", data, "--prep", "mnist", "--calibration-count", "50", "--bits", "mixed",
                                         "--budget", "250MBOPs", "-o", wtm, "--json"]))
        XCTAssertLessThanOrEqual(bops["bops"] as? Int ?? .max, 250_000_000)
        // HAWQ's sensitivity under both budgets at once: both met, the file bit-exact.
        let both = try json(runCompress([model, "--data", data, "--prep", "mnist", "--calibration-count", "50", "--bits", "mixed",
                                         "--method", "hawq", "--budget", "300KB", "--budget", "200MBOPs", "-o", wtm, "--json"]))
        XCTAssertLessThanOrEqual(both["weight_bytes"] as? Int ?? .max, 300_000)
        XCTAssertLessThanOrEqual(both["bops"] as? Int ?? .max, 200_000_000)
        XCTAssertEqual(try json(runCompress(["verify", wtm, "--data", data, "--prep", "mnist", "--count", "20", "--json"]))["mismatches"] as? Int, 0)
        XCTAssertGreaterThanOrEqual(try json(runCompress(["eval", wtm, "--data", data, "--prep", "mnist", "--json"]))["top1"] as? Double ?? 0, 0.97)
        // FLIQS's policy: its plan meets the budget too, and its file is bit-exact.
        let policy = try json(runCompress([model, "--data", data, "--prep", "mnist", "--calibration-count", "50", "--bits", "mixed",
                                           "--method", "fliqs", "--budget", "300KB", "-o", wtm, "--json"]))
        XCTAssertLessThanOrEqual(policy["weight_bytes"] as? Int ?? .max, 300_000)
        XCTAssertEqual(try json(runCompress(["verify", wtm, "--data", data, "--prep", "mnist", "--count", "20", "--json"]))["mismatches"] as? Int, 0)
        XCTAssertGreaterThanOrEqual(try json(runCompress(["eval", wtm, "--data", data, "--prep", "mnist", "--json"]))["top1"] as? Double ?? 0, 0.95)
    }

    /// A latency table from `compress profile --table` of an int8 and an int4 `.wtm` prices every
    /// plan of those schemes: a budget above the plan's estimate passes, for a uniform plan and a
    /// search; one below the cheapest plan fails at once naming it, and without a table a
    /// millisecond budget says what to do.
    func testMillisecondBudgetsReadTheLatencyTable() throws {
        let data = try Paths.shared("data/mnist"), model = try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx")
        let (wtm, table) = (temporary("latency.wtm"), temporary("latency.json"))
        defer { for p in [wtm, table] { try? FileManager.default.removeItem(atPath: p) } }
        let flags = ["--data", data, "--prep", "mnist", "--calibration-count", "10", "-o", wtm]
        for bits in ["int8", "int4"] {
            _ = try json(runCompress([model, "--bits", bits, "--json"] + flags))
            let profiled = try runCompress(["profile", wtm, "--runs", "3", "--kernels", "ref", "--table", table])
            XCTAssertEqual(profiled.status, 0, profiled.stderr)
        }
        let entries = try LatencyTableFile.entries(table)
        XCTAssertEqual(entries.filter { $0.hasSuffix(" int4") }.count, 2) // the inner two weight layers
        let fits = try json(runCompress([model, "--bits", "int4", "--budget", "1000ms", "--latency-table", table, "--json"] + flags))
        XCTAssertEqual(fits["bits"] as? String, "int4 (first and last layers int8)")
        // A search under milliseconds prices only the schemes the table holds (int2 is not the
        // fastest, nor here priced at all).
        let searched = try json(runCompress([model, "--bits", "mixed", "--budget", "1000ms", "--latency-table", table, "--json"] + flags))
        XCTAssertLessThanOrEqual(searched["milliseconds"] as? Double ?? .infinity, 1000)
        let tooFast = try runCompress([model, "--budget", "0.000001ms", "--latency-table", table] + flags)
        XCTAssertNotEqual(tooFast.status, 0)
        XCTAssertTrue(tooFast.stderr.contains("cannot be met: the smallest any plan reaches is"), tooFast.stderr)
        let noTable = try runCompress([model, "--budget", "5ms"] + flags)
        XCTAssertTrue(noTable.stderr.contains("give --latency-table"), noTable.stderr)
        let otherKernels = try runCompress(["profile", wtm, "--runs", "1", "--kernels", "avx2", "--table", table])
        if !otherKernels.stderr.contains("cannot run") {
            XCTAssertTrue(otherKernels.stderr.contains("write it to another table"), otherKernels.stderr)
        }
    }

    /// `--report` writes the plan it used; `--plan` on that report makes the same bytes.
    func testTheReportedPlanRemakesTheModel() throws {
        let data = try Paths.shared("data/mnist"), model = try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx")
        let (first, second, report) = (temporary("plan-a.wtm"), temporary("plan-b.wtm"), temporary("plan.json"))
        defer { for p in [first, second, report] { try? FileManager.default.removeItem(atPath: p) } }
        let flags = ["--data", data, "--prep", "mnist", "--calibration-count", "20", "--observer", "percentile", "--json"]
        let summary = try json(runCompress([model, "-o", first, "--report", report] + flags))
        XCTAssertEqual(summary["bits"] as? String, "int8")
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
        let plan = (written?["plan"] as? [String: Any])?["layers"] as? [[String: Any]] ?? []
        XCTAssertEqual(plan.map { $0["weights"] as? String }, ["int8", "int8", "int8", "int8"])
        XCTAssertEqual(plan.first?["observer"] as? String, "percentile")
        XCTAssertEqual(summary["weight_bytes"] as? Int, (written?["layers"] as? [[String: Any]])?.reduce(0) { $0 + ($1["bytes"] as? Int ?? 0) })
        _ = try json(runCompress([model, "-o", second, "--plan", report] + flags))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: first)), try Data(contentsOf: URL(fileURLWithPath: second)))
    }

    /// Without --data, the bundled model calibrates on inputs distilled (ZeroQ) towards the
    /// statistics its folded BatchNorm layers had (models/efficientnet-lite0-bn-statistics.npz)
    /// and loses at most 3 pt of top-1 on the 500 evaluation images against float, 89.6 % (the
    /// ONNX Runtime figure in ../shared/README.md, which `AccuracyTests` checks the Engine against).
    func testDataFreeCalibrationOfTheBundledModel() throws {
        let eval = try Paths.shared("data/imagenet-eval"), wtm = temporary("lite0-zeroq.wtm")
        defer { try? FileManager.default.removeItem(atPath: wtm) }
        let models = Paths.root.appendingPathComponent("models")
        let summary = try json(runCompress([models.appendingPathComponent("efficientnet-lite0-fp32.onnx").path, "--budget", "6MB",
                                            "--bn-statistics", models.appendingPathComponent("efficientnet-lite0-bn-statistics.npz").path,
                                            "-o", wtm, "--json"]))
        XCTAssertEqual(summary["calibration"] as? String, "zeroq")
        let top1 = try json(runCompress(["eval", wtm, "--data", eval, "--prep", "tf", "--json"]))["top1"] as? Double ?? 0
        print("EfficientNet-Lite0 int8 calibrated without data (ZeroQ): top-1 \(top1) on imagenet-eval")
        XCTAssertGreaterThanOrEqual(top1, 0.896 - 0.03)
    }

    func testImpossibleRequestsAreClearErrors() throws {
        let model = Paths.root.appendingPathComponent("models/efficientnet-lite0-fp32.onnx").path
        let noData = try runCompress([model, "--budget", "6MB"])
        XCTAssertNotEqual(noData.status, 0)
        XCTAssertTrue(noData.stderr.contains("--data") && noData.stderr.contains("--bn-statistics"), noData.stderr)
        let statistics = Paths.root.appendingPathComponent("models/efficientnet-lite0-bn-statistics.npz").path
        let otherModel = try runCompress([try Paths.shared("models/mnist/mnist-pytorch-opset11.onnx"), "--bn-statistics", statistics])
        XCTAssertNotEqual(otherModel.status, 0)
        XCTAssertTrue(otherModel.stderr.contains("names no Conv weight"), otherModel.stderr)
        let calib = try Paths.shared("data/imagenet-calib")
        let macs = try runCompress([model, "--budget", "300MFLOPs"])
        XCTAssertNotEqual(macs.status, 0)
        XCTAssertTrue(macs.stderr.contains("385.19M MACs, over the 300.00M MACs budget: removing channels needs images"), macs.stderr)
        let tiny = try runCompress([model, "--budget", "10MFLOPs", "--data", calib, "--prep", "tf"])
        XCTAssertNotEqual(tiny.status, 0)
        XCTAssertTrue(tiny.stderr.contains("the smallest any widths reach is"), tiny.stderr)
        let badTime = try runCompress([model, "--budget", "300MFLOPs", "--data", calib, "--prep", "tf", "--time-limit", "soon"])
        XCTAssertTrue(badTime.stderr.contains("'soon' is not a duration"), badTime.stderr)
        let bytes = try runCompress([model, "--budget", "100KB", "--data", calib, "--prep", "tf", "-o", temporary("small.wtm")])
        XCTAssertNotEqual(bytes.status, 0)
        XCTAssertTrue(bytes.stderr.contains("the smallest any plan reaches is 1.42MB"), bytes.stderr)
        for (flags, expected) in [(["--bits", "int3"], "unknown --bits 'int3'"), (["--plan", "/nonexistent.json"], "cannot read the plan"),
                                  (["--plan", "x.json", "--bits", "int4"], "leave out --bits"),
                                  (["--bits", "int4", "--weight-scale", "absmean"], "weight_scale absmean is for ternary"),
                                  (["--weight-scale", "median"], "unknown --weight-scale")] {
            let bad = try runCompress([model, "--data", calib, "--prep", "tf"] + flags)
            XCTAssertNotEqual(bad.status, 0)
            XCTAssertTrue(bad.stderr.contains(expected), bad.stderr)
        }
        let notWTM = try runCompress(["verify", model, "--data", calib, "--prep", "tf"])
        XCTAssertNotEqual(notWTM.status, 0)
        XCTAssertTrue(notWTM.stderr.contains("not a .wtm"), notWTM.stderr)
    }
}

/// The keys of a latency table file.
enum LatencyTableFile {
    static func entries(_ path: String) throws -> [String] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        return Array((object?["milliseconds"] as? [String: Any] ?? [:]).keys)
    }
}
