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
    /// `deadline`; kept only if the held-out divergence fell): cut models scored on `scoring` of
    /// its images, channels chosen and consumers refitted from the statistics of `statisticsImages`.
    static func narrow(_ graph: Graph, limit: Int, method: Job.WidthMethod, data: LabeledData, preset: Preset, scoring: Int = 32,
                       statisticsImages: Int = 128, epochs: Int,
                       deadline: Date?, progress: (String) -> Void) throws -> Result {
        // Cut models are scored on images the statistics that refit them did not see.
        let statistics = Compression.spread(min(statisticsImages, data.samples.count), over: data)
        let rest = Array(Set(0..<data.samples.count).subtracting(statistics)).sorted()
        let held = rest.isEmpty ? statistics : (0..<min(scoring, rest.count)).map { rest[$0 * rest.count / min(scoring, rest.count)] }
        let inputs = try Compression.batches(graph, data: data, preset: preset, indices: held)
        let joined = Tensor(shape: [held.count] + inputs[0].shape.dropFirst(), floats: inputs.flatMap(\.floats))
        progress("width search: channel statistics on \(statistics.count) images of \(data.samples.count), cut models scored on \(held.count) others")
        let search = try WidthSearch(graph: graph, inputs: joined, batches: try Compression.batches(graph, data: data, preset: preset, indices: statistics))
        let before = search.cost.macs(search.groups.map(\.channels))
        progress("width search: \(search.groups.count) channel groups, \(Budget.macs(before).format(Double(before))) to at most \(Budget.macs(limit).format(Double(limit)))")
        let widths: [Int]
        switch method {
        case .evolution: widths = try search.search(budget: limit, progress: progress)
        case .layerAdaptive: widths = try search.layerAdaptive(budget: limit, progress: progress)
        case .uniform: widths = search.uniform(budget: limit)
        }
        var cut = try search.cut(widths)
        let after = search.cost.macs(widths)
        let removed = zip(search.groups, widths).filter { $0.0.channels != $0.1 }.count
        let divergence = try search.divergence(of: cut)
        var notes = [String(format: "widths (%@): %d of %d channel groups cut, %@ → %@; divergence from the full model on %d held-out images %.4f before fine-tuning",
                            method.rawValue, removed, search.groups.count, Budget.macs(before).format(Double(before)), Budget.macs(after).format(Double(after)),
                            joined.shape[0], divergence)]
        if epochs > 0 {
            // Adam at 1e-5: at 3e-5 Lite0 cut to 300M MACs ended an epoch 0.081 from the full
            // model on held-out images, at 1e-5 0.053 (from 0.146); SGD at 1e-3 diverged to 0.55.
            let trainer = Trainer(graph: cut, optimizer: Adam(learningRate: 1e-5))
            let started = Date()
            var meter: ProgressMeter?
            try trainer.train(data: data, preset: preset, epochs: epochs, batchSize: 32, augmentation: Augmentation(padding: 0, flip: true),
                              deadline: deadline, objective: Trainer.distillation(teacher: graph)) { step in
                if meter == nil { meter = ProgressMeter("fine-tuning", total: epochs * step.steps, unit: "steps", started: started) }
                meter?.line(step.epoch * step.steps + step.step, detail: step.description).map(progress)
            }
            // Kept only if it moved the model closer to the full one on the held-out images: a cut
            // that costs nothing (MobileNetV2 trimmed to 300M MACs: 0.0000) only drifts in training.
            let trained = trainer.trainedGraph, reached = try search.divergence(of: trained)
            if reached < divergence { cut = trained }
            notes.append(String(format: "fine-tuned %d steps of 32 images from %d (distillation from the full model, %.0f s): divergence %.4f%@",
                                trainer.log.count, data.samples.count, Date().timeIntervalSince(started), reached,
                                reached < divergence ? "" : ", no closer: the model before fine-tuning is kept"))
        }
        return Result(graph: cut, notes: notes)
    }
}
