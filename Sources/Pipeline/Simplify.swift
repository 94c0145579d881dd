import Graph
import Rewrite

/// The passes every imported graph goes through, in order.
public enum Simplify {
    public static let passes: [Pass] = [.foldBatchNorm, .fuseBranches, .foldIntoClassifier, .removeDeadNodes]

    /// Runs the passes; returns each one's report, by pass name, in order.
    @discardableResult
    public static func run(_ graph: inout Graph) throws -> [(pass: String, report: PassReport)] {
        try passes.map { pass in
            let report = try pass.apply(&graph)
            #if DEBUG
            try graph.verify()
            #endif
            return (pass.name, report)
        }
    }
}
