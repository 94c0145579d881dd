import ArgumentParser

@main
struct Compress: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress",
        abstract: "Whittle: compress ONNX vision models for edge CPUs.",
        discussion: """
        Budgets count MACs (multiply-accumulates) where they say FLOPs, as the MobileNet and \
        BCNet papers do: MobileNetV2-1.0 at 224×224 is 300M.
        """,
        subcommands: [Inspect.self, Run.self, Eval.self]
    )
}
