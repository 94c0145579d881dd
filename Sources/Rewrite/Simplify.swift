import Graph

/// The passes every imported graph goes through, in order.
public enum Simplify {
    /// Each pass drops the nodes it leaves dead (`Graph.removeDeadNodes`), so the next one sees
    /// only live readers.
    public static let passes: [Pass] = [.foldBatchNorm, .fuseBranches, .foldIntoClassifier]

    /// Runs the passes; returns what each changed and said, by pass name, in order.
    @discardableResult
    public static func run(_ graph: inout Graph) throws -> [(pass: String, changes: Int, notes: [String])] {
        try passes.map { pass in
            let report = try pass.apply(&graph)
            #if DEBUG
            try graph.verify()
            #endif
            return (pass.name, report.changes, report.notes)
        }
    }
}
