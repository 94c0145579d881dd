/// A file that cannot be read as data: missing, truncated, of an unsupported kind.
public struct DatasetError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
