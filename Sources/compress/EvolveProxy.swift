import ArgumentParser
import Foundation
import Graph
import Pipeline

struct EvolveProxy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evolve-proxy",
        abstract: "Evolve EMQ's training-free sensitivity proxy on plans measured by sample-plans.",
        discussion: """
        Formulas over each layer's weights (w), their error under a scheme (e), the root of the loss's \
        Gauss-Newton curvature per weight (g), the layer's mean curvature (h), the root mean square of the \
        input channel each weight reads (a) and the scheme's bits (b), with abs, sq, sqrt, log, neg, inv, \
        add, sub, mul, div and a sum, mean or norm over the layer, are evolved by tournament selection \
        towards the one whose predicted order of the plans agrees best (Kendall's tau) with their measured \
        top-1 — with several --benchmark files, the mean of their tau. Two thirds of each benchmark's plans \
        are fitted, every third is held out and reported beside HAWQ-V3's formula. After each of --rounds \
        rounds the --finalists best formulas (and HAWQ-V3's) choose plans at the benchmark's smallest and \
        largest weight size; each plan is measured as the benchmark's were and joins the fitted plans. The \
        formula whose plans kept the float outputs closest wins: a better order of sampled plans alone does \
        not make a better search. Each model is calibrated as the benchmark says it was (run from the \
        folder sample-plans ran in), its primitives measured on 32 of those images. Writes the winner (JSON) for \
        --method emq --proxy.
        """)

    @Option(help: ArgumentHelp("Plans measured by compress sample-plans --output; repeat to fit several models at once.", valueName: "plans.json"))
    var benchmark: [String] = []
    @Option(help: "Rounds of evolution; after each, the finalists' plans are measured and join the fitted plans.") var rounds = 3
    @Option(help: "Formulas in the population.") var population = 48
    @Option(help: "Children bred per round (each scored on every plan; about 150 a second for three models).") var iterations = 5000
    @Option(help: "The best formulas of each round that then choose plans, each measured; the one whose plans keep the float outputs closest wins (HAWQ-V3's formula competes too).")
    var finalists = 8
    @Option(help: "Seed of the random draws.") var seed: UInt64 = 1
    @Option(name: [.short, .customLong("output")], help: "Write the best formula and its figures here (JSON).") var output: String = "proxy.json"
    @Flag(help: "Print the JSON written instead of the table.") var json = false

    func run() throws {
        guard !benchmark.isEmpty else { throw CommandError("give at least one --benchmark of compress sample-plans --output") }
        try OutputFile.checkDistinct(inputs: benchmark, outputs: [("-o", output)])
        guard population >= 2, iterations >= 1 else { throw CommandError("--population needs at least 2 formulas and --iterations at least 1") }
        let result = try ProxySearch.run(benchmarks: benchmark, population: population, iterations: iterations, rounds: rounds,
                                         seed: seed, finalists: finalists) { note($0) }
        let bytes = try result.encoded()
        try OutputFile.write(bytes, to: output)
        if json { return print(String(decoding: bytes, as: UTF8.self)) }
        print("best proxy  \(result.proxy)")
        print("tau: fitted  held out  HAWQ-V3 fitted  held out  plans  model")
        for (figures, measured) in zip(result.benchmarks, result.measured) {
            print(String(format: "%11.3f  %8.3f  %14.3f  %8.3f  %5d  %@ (%@)", figures.tauFit, figures.tauHeldOut, figures.hawqFit, figures.hawqHeldOut,
                         figures.plans, figures.model, measured))
        }
        print("finalists (log KL ratio of their plans to HAWQ-V3's; below 0: closer to float)")
        for finalist in result.finalists { print(String(format: "  %7.3f  tau %.3f  %@", finalist.allocation, finalist.fitness, finalist.proxy)) }
        print(String(format: "time        %.0f s; wrote %@", result.seconds, output))
    }
}
