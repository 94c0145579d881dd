/// Strides that read `shape`-shaped positions from a tensor of `source` shape broadcast to it
/// (0 on broadcast dimensions), in units of `elementStride`.
/// Example: [3, 1] to [2, 3, 4] → [0, 1, 0].
public func broadcastStrides(_ source: [Int], to shape: [Int], elementStride: Int = 1) -> [Int] {
    let padded = Array(repeating: 1, count: shape.count - source.count) + source
    var strides = Array(repeating: 0, count: shape.count)
    var stride = elementStride
    for d in shape.indices.reversed() {
        strides[d] = padded[d] == 1 ? 0 : stride
        stride *= padded[d]
    }
    return strides
}

/// Steps a row-major multi-index; the last dimension moves fastest.
/// Example: [0, 2] in shape [2, 3] becomes [1, 0].
public func advance(_ index: inout [Int], shape: [Int]) {
    var d = shape.count - 1
    while d >= 0 {
        index[d] += 1
        if index[d] < shape[d] { return }
        index[d] = 0
        d -= 1
    }
}
