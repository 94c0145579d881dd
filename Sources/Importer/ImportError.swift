/// Why a model could not be imported. The description names the file, and the node and op
/// where one is at fault, so a user can find it in Netron.
public struct ImportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
