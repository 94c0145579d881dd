// The data-file decoders as a fuzz target (`make fuzz`, Tests/Fuzz/README.md): each input is
// decoded as a JPEG or PNG image (then prepared for a 32×32 input, resizing included), as a .npy
// array and as a .npz archive, as calibration and `--input` files are. Errors are expected;
// a trap or a sanitizer report is a finding.
//
// Linked with libFuzzer this program is the fuzzer; built by `swift build` it replays files:
//
//     fuzz-data Tests/Fuzz/corpus/data     # "fuzz-data: 6 inputs: 4 decoded"
import CFuzzDriver
import Datasets
import Foundation

/// Images above this are decoded but not prepared: resizing a few hundred megapixels is legal
/// (Pillow's limit) but takes minutes in the fuzzer's debug build.
let preparedPixelLimit = 1 << 20

/// Decodes `bytes` every way; true when some way accepts them.
func decodeEveryWay(_ bytes: [UInt8]) -> Bool {
    var accepted = false
    if let image = try? RGBImage.decode(bytes) {
        accepted = true
        guard image.width * image.height <= preparedPixelLimit else { return true }
        _ = try? Preset.torch.prepare(image, height: 32, width: 32, channels: 3)
        _ = try? Preset.mnist.prepare(image, height: 32, width: 32, channels: 1)
    }
    if (try? Npy.decode(Data(bytes))) != nil { accepted = true }
    if (try? Npz.decode(bytes)) != nil { accepted = true }
    return accepted
}

if whittle_fuzz_driver_linked() != 0 {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(whittle_fuzz_run(&argc, &argv) { bytes, size in
        _ = decodeEveryWay(size == 0 ? [] : Array(UnsafeBufferPointer(start: bytes, count: size)))
        return 0
    })
}
let paths = CommandLine.arguments.dropFirst().flatMap { path -> [String] in
    let names = (try? FileManager.default.contentsOfDirectory(atPath: path))?.sorted()
    return names?.map { (path as NSString).appendingPathComponent($0) } ?? [path]
}
guard !paths.isEmpty else {
    FileHandle.standardError.write(Data("usage: fuzz-data FILE|FOLDER...   (replays each file; `make fuzz` builds the fuzzer)\n".utf8))
    exit(2)
}
let decoded = paths.filter { decodeEveryWay(Array(FileManager.default.contents(atPath: $0) ?? Data())) }.count
print("fuzz-data: \(paths.count) inputs: \(decoded) decoded")
