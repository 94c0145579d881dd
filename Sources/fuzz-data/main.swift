// The data-file decoders as a fuzz target (`make fuzz`, Tests/Fuzz/README.md): each input is
// decoded as a JPEG or PNG image (then prepared for a 32×32 input, resizing included), as a .npy
// array and as a .npz archive, as calibration and `--input` files are. Errors are expected;
// a trap or a sanitizer report is a finding.
//
// Linked with libFuzzer this program is the fuzzer; built by `swift build` it replays files:
//
//     fuzz-data .build/decoding-fixtures     # "fuzz-data: 7 inputs: 3 decoded"
import CFuzzDriver
import Datasets
import Foundation

/// Images above this many pixels are decoded but not prepared: resizing is slow in the fuzzer's
/// debug build (minutes for the largest an image may be), and small images reach the same code.
let preparedPixelLimit = 1 << 16

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

var inputs = 0, decoded = 0
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
let status = whittle_fuzz_main(&argc, &argv) { bytes, size in
    inputs += 1
    if decodeEveryWay(size == 0 ? [] : Array(UnsafeBufferPointer(start: bytes, count: size))) { decoded += 1 }
    return 0
}
if status == 0, whittle_fuzz_driver_linked() == 0 { print("fuzz-data: \(inputs) inputs: \(decoded) decoded") }
exit(status)
