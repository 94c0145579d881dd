import Graph

/// A named graph rewrite. `apply` reports how many sites it changed and anything a user should
/// know (a site it had to leave alone, and why); the graph it leaves must still `verify()`.
public struct Pass: Sendable {
    public let name: String
    public let apply: @Sendable (inout Graph) throws -> PassReport

    public init(name: String, apply: @escaping @Sendable (inout Graph) throws -> PassReport) {
        self.name = name
        self.apply = apply
    }
}

public struct PassReport: Sendable {
    public var changes: Int
    public var notes: [String]

    public init(changes: Int, notes: [String] = []) {
        self.changes = changes
        self.notes = notes
    }
}
