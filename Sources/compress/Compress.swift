import ArgumentParser
import Runner

@main
struct Compress: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress",
        abstract: "Whittle: compress ONNX vision models for edge CPUs.",
        discussion: """
        The default command is the main job: compress MODEL.onnx --budget 6MB --data DIR --prep P \
        writes an int8 .wtm for the C runtime. \
        Budgets count MACs (multiply-accumulates) where they say FLOPs, as the MobileNet and \
        BCNet papers do: MobileNetV2-1.0 at 224×224 is 300M.
        """,
        version: Runner.runtimeVersion,
        subcommands: [Main.self, Inspect.self, Run.self, Eval.self, Verify.self, ProfileCommand.self, SamplePlans.self, EvolveProxy.self],
        defaultSubcommand: Main.self
    )
}
