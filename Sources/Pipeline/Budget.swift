import Foundation

/// A limit the compressed model must meet: "6MB" of weights or "300MFLOPs" of multiply-accumulates.
///
/// Sizes are decimal (1 MB = 1,000,000 bytes) and count the weights, biases, requantization
/// parameters and tables the `.wtm` carries. "FLOPs" and "MACs" both mean multiply-accumulates,
/// as in the MobileNet and BCNet papers. Examples: "6MB" → 6,000,000 bytes; "300MFLOPs" and
/// "300MMACs" → 300,000,000 MACs; "1.5GMACs" → 1,500,000,000 MACs.
public enum Budget: Equatable, Sendable, CustomStringConvertible {
    case weightBytes(Int)
    case macs(Int)

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(parsing text: String) throws {
        let lower = text.lowercased()
        let units: [(suffix: String, make: (Double) -> Budget)] = [
            ("flops", { .macs(Int($0)) }), ("macs", { .macs(Int($0)) }),
            ("b", { .weightBytes(Int($0)) }),
        ]
        for (suffix, make) in units where lower.hasSuffix(suffix) {
            var number = String(lower.dropLast(suffix.count))
            var factor = 1.0
            if let last = number.last, let f = ["k": 1e3, "m": 1e6, "g": 1e9][String(last)] {
                factor = f
                number.removeLast()
            }
            guard let value = Double(number), value > 0, value.isFinite else { break }
            self = make((value * factor).rounded())
            return
        }
        throw ParseError(description: "'\(text)' is not a budget; write a weight size like 6MB or 500KB, or MACs like 300MFLOPs or 300MMACs")
    }

    public var description: String {
        switch self {
        case .weightBytes(let b): return "\(Budget.decimal(b))B of weights"
        case .macs(let m): return "\(Budget.decimal(m))MACs"
        }
    }

    /// 6_000_000 → "6M", 1_500 → "1.5K".
    static func decimal(_ value: Int) -> String {
        for (limit, suffix) in [(1e9, "G"), (1e6, "M"), (1e3, "K")] where Double(value) >= limit {
            let scaled = Double(value) / limit
            return (scaled == scaled.rounded() ? String(Int(scaled)) : String(format: "%.3g", scaled)) + suffix
        }
        return String(value)
    }
}
