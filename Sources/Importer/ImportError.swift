import Graph

/// Why a model could not be imported. The description names the file, and the node and op
/// where one is at fault, so a user can find it in Netron.
public struct ImportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// `checkedElementCount(shape)`, its error an import error that starts with `what`.
@discardableResult
func checkedCount(_ shape: [Int], of what: String) throws -> Int {
    do { return try checkedElementCount(shape) } catch let error as ShapeError { throw ImportError("\(what): \(error.description)") }
}
