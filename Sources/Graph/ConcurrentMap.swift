import Dispatch

/// `body(0)`, …, `body(count − 1)` run at once on as many threads as Dispatch gives, their
/// results in order; rethrows the error of the lowest index that threw. `body` must be safe to
/// run concurrently (each call touching its own data): the decoders of a batch of images, the
/// tapes of a split batch.
/// Example: `try concurrentMap(3) { $0 * $0 }` → [0, 1, 4].
public func concurrentMap<R>(_ count: Int, _ body: (Int) throws -> R) throws -> [R] {
    guard count > 0 else { return [] }
    var results = [Result<R, Error>?](repeating: nil, count: count)
    withoutActuallyEscaping(body) { body in
        let work = Unchecked(value: body)
        results.withUnsafeMutableBufferPointer { slots in
            let target = Unchecked(value: slots.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: count) { i in target.value[i] = Result { try work.value(i) } }
        }
    }
    return try results.map { try $0!.get() }
}

/// A value the threads of `concurrentMap` share, each using its own part of it.
private struct Unchecked<T>: @unchecked Sendable {
    let value: T
}
