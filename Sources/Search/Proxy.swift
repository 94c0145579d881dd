import Foundation
import Graph

/// A training-free sensitivity proxy as EMQ (Dong et al. 2023) evolves them: a formula over the
/// primitives of `ProxyInputs` (w, e, g, h, a, b) with unary and binary operations, reduced over a
/// layer's weights to Ω(layer, scheme). Written as text, e.g. HAWQ-V3's
/// `sum(mul(h, sq(e)))` = Tr(H_l)/n_l · ‖Q_s(W_l) − W_l‖².
///
/// Operations are protected so that every formula gives a number: `sqrt` and `log` take |x|
/// (log adds 10⁻³⁰), `inv` and `div` give 0 where they would divide by 0.
public struct Proxy: Hashable, Sendable, CustomStringConvertible {
    public enum Primitive: String, CaseIterable, Sendable {
        case w, e, g, h, a, b
    }

    public enum Unary: String, CaseIterable, Sendable {
        case abs, sq, sqrt, log, neg, inv
    }

    public enum Binary: String, CaseIterable, Sendable {
        case add, sub, mul, div
    }

    /// How a layer's values become one number: their sum (scaled from the sample to the layer),
    /// their mean, or their Euclidean norm (likewise scaled).
    public enum Reduction: String, CaseIterable, Sendable {
        case sum, mean, norm
    }

    public indirect enum Expression: Hashable, Sendable {
        case primitive(Primitive)
        case unary(Unary, Expression)
        case binary(Binary, Expression, Expression)

        /// Nodes in the tree.
        public var size: Int {
            switch self {
            case .primitive: return 1
            case .unary(_, let x): return 1 + x.size
            case .binary(_, let x, let y): return 1 + x.size + y.size
            }
        }

        /// Whether the value can differ between schemes (it reads `e` or `b`).
        var readsScheme: Bool {
            switch self {
            case .primitive(let p): return p == .e || p == .b
            case .unary(_, let x): return x.readsScheme
            case .binary(_, let x, let y): return x.readsScheme || y.readsScheme
            }
        }
    }

    public var reduction: Reduction
    public var expression: Expression

    public init(reduction: Reduction, expression: Expression) {
        self.reduction = reduction
        self.expression = expression
    }

    /// Whittle's default proxy, evolved by `compress evolve-proxy` (3 rounds of 5,000 children, 8
    /// finalists, seed 1) on the MQ benchmarks of EfficientNet-Lite0, MobileNetV2 and CIFAR
    /// ResNet-20 (50 plans each at 0.75–1× uniform int4's bytes, top-1 on 200 imagenet-train and 500
    /// CIFAR-10 training images). Kendall's τ on the held-out third of each model's plans 0.857,
    /// 0.808 and 0.794, against HAWQ-V3's 0.827, 0.702 and 0.765; its plans at the benchmarks'
    /// smallest and largest sizes kept the outputs 7.6 % closer to float than HAWQ-V3's (KL,
    /// geometric mean). Ω = √Σ √(h·g·a) · (e/b)²: the squared weight error in units of the scheme's
    /// bits, weighted by the root of the curvature and of the input's size.
    public static let evolved = try! Proxy(parsing: "norm(mul(sqrt(sqrt(mul(mul(h, g), a))), div(e, b)))")

    /// HAWQ-V3's Ω as a proxy, for comparison: Tr(H)/n · ‖Q(W) − W‖².
    public static let hawq = try! Proxy(parsing: "sum(mul(h, sq(e)))")

    public var description: String { "\(reduction.rawValue)(\(Self.text(expression)))" }

    static func text(_ x: Expression) -> String {
        switch x {
        case .primitive(let p): return p.rawValue
        case .unary(let f, let y): return "\(f.rawValue)(\(text(y)))"
        case .binary(let f, let y, let z): return "\(f.rawValue)(\(text(y)), \(text(z)))"
        }
    }

    /// Reads a formula as `description` writes it, e.g. `mean(div(sq(e), a))`.
    public init(parsing formula: String) throws {
        var rest = Substring(formula.filter { !$0.isWhitespace })
        func name() -> String {
            let word = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(word.count)
            return String(word)
        }
        func expect(_ c: Character) throws {
            guard rest.first == c else { throw ProxyError("proxy '\(formula)': expected '\(c)' at '\(rest)'") }
            rest = rest.dropFirst()
        }
        func expression() throws -> Expression {
            let word = name()
            if let p = Primitive(rawValue: word) { return .primitive(p) }
            guard Unary(rawValue: word) != nil || Binary(rawValue: word) != nil else {
                throw ProxyError("proxy '\(formula)': '\(word)' is no primitive (\(Primitive.allCases.map(\.rawValue).joined(separator: ", "))) or operation")
            }
            try expect("(")
            let first = try expression()
            if let f = Unary(rawValue: word) {
                try expect(")")
                return .unary(f, first)
            }
            let f = Binary(rawValue: word)!
            try expect(",")
            let second = try expression()
            try expect(")")
            return .binary(f, first, second)
        }
        guard let reduction = Reduction(rawValue: name()) else {
            throw ProxyError("proxy '\(formula)' must begin with a reduction: \(Reduction.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        try expect("(")
        let body = try expression()
        try expect(")")
        guard rest.isEmpty else { throw ProxyError("proxy '\(formula)': unexpected '\(rest)'") }
        self.init(reduction: reduction, expression: body)
    }

    /// Ω(layer, scheme) for every layer and option of `inputs`; nil when some value is not finite
    /// or the formula cannot tell schemes apart.
    ///
    /// Example: `sum(mul(h, sq(e)))` on a layer of 4 weights, all sampled, with h = 2 and int4
    /// errors 0.01, 0.02, 0, 0.01 gives 2 · 0.0006 = 0.0012 (`Sensitivity.hawq`'s value).
    public func sensitivity(_ inputs: ProxyInputs) -> Sensitivity? {
        guard expression.readsScheme else { return nil }
        var omega: [[Scheme: Double]] = []
        for layer in inputs.layers {
            var row: [Scheme: Double] = [:]
            for scheme in inputs.options {
                let n = max(layer.w.count, 1), totals = Self.evaluate(expression, layer, scheme).totals(over: n)
                let scale = Double(layer.count) / Double(n)
                let value: Double
                switch reduction {
                case .sum: value = totals.sum * scale
                case .mean: value = totals.sum / Double(n)
                case .norm: value = (totals.squares * scale).squareRoot()
                }
                guard value.isFinite else { return nil }
                row[scheme] = value
            }
            omega.append(row)
        }
        return Sensitivity(layers: inputs.layers.map(\.name), omega: omega)
    }

    /// A value of the tree: one number for every sampled weight, or one for the layer.
    enum Value {
        case scalar(Double)
        case vector([Double])

        /// Σx and Σx² over `n` sampled weights.
        func totals(over n: Int) -> (sum: Double, squares: Double) {
            switch self {
            case .scalar(let x): return (x * Double(n), x * x * Double(n))
            case .vector(let v): return (v.reduce(0, +), v.reduce(0) { $0 + $1 * $1 })
            }
        }
    }

    static func evaluate(_ x: Expression, _ layer: ProxyInputs.Layer, _ scheme: Scheme) -> Value {
        switch x {
        case .primitive(let p):
            switch p {
            case .w: return .vector(layer.w)
            case .e: return .vector(layer.e[scheme]!)
            case .g: return .vector(layer.g)
            case .a: return .vector(layer.a)
            case .h: return .scalar(layer.h)
            case .b: return .scalar(log2(Double(scheme.levels.count)))
            }
        case .unary(let f, let y):
            let op: (Double) -> Double
            switch f {
            case .abs: op = { Swift.abs($0) }
            case .sq: op = { $0 * $0 }
            case .sqrt: op = { Swift.abs($0).squareRoot() }
            case .log: op = { Foundation.log(Swift.abs($0) + 1e-30) }
            case .neg: op = { -$0 }
            case .inv: op = { $0 == 0 ? 0 : 1 / $0 }
            }
            switch evaluate(y, layer, scheme) {
            case .scalar(let v): return .scalar(op(v))
            case .vector(let v): return .vector(v.map(op))
            }
        case .binary(let f, let y, let z):
            let op: (Double, Double) -> Double
            switch f {
            case .add: op = (+)
            case .sub: op = (-)
            case .mul: op = (*)
            case .div: op = { $1 == 0 ? 0 : $0 / $1 }
            }
            switch (evaluate(y, layer, scheme), evaluate(z, layer, scheme)) {
            case (.scalar(let u), .scalar(let v)): return .scalar(op(u, v))
            case (.scalar(let u), .vector(let v)): return .vector(v.map { op(u, $0) })
            case (.vector(let u), .scalar(let v)): return .vector(u.map { op($0, v) })
            case (.vector(let u), .vector(let v)): return .vector(zip(u, v).map(op))
            }
        }
    }
}

public struct ProxyError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
