import Foundation

/// Updates parameters from their gradients. `step` skips parameters without a gradient and
/// parameters not in `trainable` (BatchNorm running statistics, for one).
public protocol Optimizer {
    mutating func step<T: TrainingScalar>(_ parameters: inout [String: Buffer<T>], gradients: [String: Buffer<T>], trainable: Set<String>)
}

/// Stochastic gradient descent with momentum and weight decay, as PyTorch's SGD:
/// v ← momentum · v + (g + decay · w); w ← w − rate · v.
/// Example: rate 0.1, momentum 0.9, g = 1 twice from w = 0: v = 1 then 1.9; w = −0.1 then −0.29.
public struct SGD: Optimizer {
    public var learningRate: Double
    public var momentum: Double
    public var weightDecay: Double
    private var velocity: [String: [Double]] = [:]

    public init(learningRate: Double, momentum: Double = 0.9, weightDecay: Double = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public mutating func step<T: TrainingScalar>(_ parameters: inout [String: Buffer<T>], gradients: [String: Buffer<T>],
                                                 trainable: Set<String>) {
        for name in trainable.sorted() {
            guard var w = parameters[name], let g = gradients[name] else { continue }
            var v = velocity[name] ?? [Double](repeating: 0, count: w.count)
            for i in w.values.indices {
                v[i] = momentum * v[i] + Double(g.values[i]) + weightDecay * Double(w.values[i])
                w.values[i] -= T(learningRate * v[i])
            }
            velocity[name] = v
            parameters[name] = w
        }
    }
}

/// Adam (Kingma & Ba) with bias correction and decoupled weight decay (AdamW when decay > 0).
/// Example: the first step moves every parameter by rate · g / (|g| + ε) ≈ rate in the sign of −g.
public struct Adam: Optimizer {
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var weightDecay: Double
    private var moments: [String: (first: [Double], second: [Double])] = [:]
    private var steps = 0

    public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    public mutating func step<T: TrainingScalar>(_ parameters: inout [String: Buffer<T>], gradients: [String: Buffer<T>],
                                                 trainable: Set<String>) {
        steps += 1
        let correction1 = 1 - pow(beta1, Double(steps)), correction2 = 1 - pow(beta2, Double(steps))
        for name in trainable.sorted() {
            guard var w = parameters[name], let g = gradients[name] else { continue }
            var (m, v) = moments[name] ?? ([Double](repeating: 0, count: w.count), [Double](repeating: 0, count: w.count))
            for i in w.values.indices {
                let gi = Double(g.values[i])
                m[i] = beta1 * m[i] + (1 - beta1) * gi
                v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
                let update = (m[i] / correction1) / ((v[i] / correction2).squareRoot() + epsilon) + weightDecay * Double(w.values[i])
                w.values[i] -= T(learningRate * update)
            }
            moments[name] = (m, v)
            parameters[name] = w
        }
    }
}
