// swift-tools-version:6.0
// Targets and their arrows: docs/architecture.md. A module imports only modules below it.
import PackageDescription

let package = Package(
    name: "Whittle",
    products: [
        .executable(name: "compress", targets: ["compress"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
    ],
    targets: [
        .executableTarget(name: "compress", dependencies: [
            "Pipeline", "Export", "Runner", "Rewrite", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "fuzz-data", dependencies: ["Datasets", "CFuzzDriver"]),
        .executableTarget(name: "fuzz-import", dependencies: ["Importer", "Rewrite", "Engine", "Graph", "CFuzzDriver"]),
        .executableTarget(name: "engine-bench", dependencies: ["Pipeline", "Training", "Engine", "Graph"]),
        .target(name: "Pipeline", dependencies: [
            "Search", "Quantize", "Training", "Rewrite", "Export", "Runner", "Importer", "Datasets", "Engine", "Graph",
        ]),
        .target(name: "Search", dependencies: ["Quantize", "Training", "Rewrite", "Engine", "Graph", "COpenBLAS"]),
        .target(name: "Quantize", dependencies: ["Training", "Engine", "Graph", "CFloatKernels"]),
        .target(name: "Training", dependencies: ["Datasets", "Engine", "Graph"]),
        .target(name: "Export", dependencies: ["Graph", "ONNXProto", "WhittleRuntime"]),
        .target(name: "Runner", dependencies: ["WhittleRuntime"]),
        .target(name: "Rewrite", dependencies: ["Graph"]),
        .target(name: "Importer", dependencies: ["Graph", "ONNXProto", "CONNX"]),
        .target(name: "Datasets", dependencies: ["Graph", "CTurboJPEG", "CPNG", "CZlib"]),
        .target(
            name: "Engine", dependencies: ["Graph", "CFloatKernels", "COpenBLAS"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .target(name: "Graph"),
        .target(name: "CFloatKernels"),
        .target(name: "CFuzzDriver"),
        .target(
            name: "WhittleRuntime", path: "Sources/Runtime", exclude: ["tools", "Makefile"],
            cSettings: [.unsafeFlags(["-std=c99", "-O2", "-ffp-contract=off"])], linkerSettings: [.linkedLibrary("m"), .linkedLibrary("pthread")]
        ),
        .target(name: "ONNXProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(
            name: "CONNX",
            cxxSettings: [.define("ONNX_NAMESPACE", to: "onnx"), .define("ONNX_ML", to: "1")],
            linkerSettings: [.linkedLibrary("onnx"), .linkedLibrary("onnx_proto"), .linkedLibrary("protobuf")]
        ),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
        .testTarget(name: "WhittleTests", dependencies: [
            "Pipeline", "Search", "Quantize", "Training", "Export", "Runner", "WhittleRuntime", "Importer", "Rewrite", "Engine", "Datasets", "Graph",
            "ONNXProto",
        ]),
    ],
    cxxLanguageStandard: .cxx17
)
