import Datasets
import Engine
import Foundation
import Graph
import Rewrite
import Search
import Training

/// The width part of the main job: a model over its MAC budget loses channels (`WidthSearch`
/// on images of the user's folder), then is fine-tuned towards the full model's outputs on that
/// folder's images (distillation: no labels needed).
enum Narrowing {
    /// The graph's MACs for one image.
    static func macs(_ graph: Graph) throws -> Int { try graph.withBatch(1).layerCosts().reduce(0) { $0 + $1.macs } }

    /// Throws at once when no widths reach `limit` MACs, naming the smallest reachable.
    static func checkReachable(_ graph: Graph, limit: Int) throws {
        let groups = try graph.channelGroups()
        let cost = try WidthCost(graph, groups: groups)
        let smallest = cost.macs(groups.map { WidthSearch.choices(channels: $0.channels)[0] })
        guard smallest <= limit else {
            let budget = Budget.macs(limit)
            throw Budget.Unmet(description: "the budget of \(budget) cannot be met: the smallest any widths reach is \(budget.format(Double(smallest))) (every channel group at its smallest width, an eighth of its channels; \(budget.format(Double(cost.fixedMACs))) are in layers whose channels cannot be removed)")
        }
    }

    struct Result {
        var graph: Graph
        var notes: [String]
    }

    /// `graph` cut to at most `limit` MACs, then fine-tuned for `epochs` over `data` (stopping at
    /// `deadline`), scored on `scoring` of its images.
    static func narrow(_ graph: Graph, limit: Int, data: LabeledData, preset: Preset, scoring: Int = 32, epochs: Int,
                       deadline: Date?, progress: (String) -> Void) throws -> Result {
        let before = try macs(graph)
        let inputs = try Compression.calibrationBatches(graph, data: data, preset: preset, limit: scoring)
        let joined = Tensor(shape: [inputs.reduce(0) { $0 + $1.shape[0] }] + inputs[0].shape.dropFirst(), floats: inputs.flatMap(\.floats))
        let search = try WidthSearch(graph: graph, inputs: joined)
        progress("width search: \(search.groups.count) channel groups, \(Budget.macs(before).format(Double(before))) to at most \(Budget.macs(limit).format(Double(limit))), scored on \(joined.shape[0]) images")
        let widths = try search.search(budget: limit, progress: progress)
        var cut = try search.cut(widths)
        let after = try macs(cut)
        let removed = zip(search.groups, widths).filter { $0.0.channels != $0.1 }.count
        var notes = [String(format: "widths: %d of %d channel groups cut, %@ → %@; divergence from the full model on %d images %.4f before fine-tuning",
                            removed, search.groups.count, Budget.macs(before).format(Double(before)), Budget.macs(after).format(Double(after)),
                            joined.shape[0], try search.divergence(of: cut))]
        if epochs > 0 {
            let trainer = Trainer(graph: cut, optimizer: Adam(learningRate: 1e-4))
            let started = Date()
            try trainer.train(data: data, preset: preset, epochs: epochs, batchSize: 32, augmentation: Augmentation(padding: 0, flip: true),
                              deadline: deadline, objective: Trainer.distillation(teacher: graph)) { step in
                let elapsed = Date().timeIntervalSince(started)
                let done = Double(step.epoch * step.steps + step.step) / Double(epochs * step.steps)
                progress(String(format: "  fine-tuning %@, %.0f s left", step.description, elapsed / max(done, 1e-9) * (1 - done)))
            }
            cut = trainer.trainedGraph
            notes.append(String(format: "fine-tuned %d steps of 32 images from %d (distillation from the full model, %.0f s): divergence %.4f",
                                trainer.log.count, data.samples.count, Date().timeIntervalSince(started), try search.divergence(of: cut)))
        }
        return Result(graph: cut, notes: notes)
    }
}
