/// Training losses: each returns the loss (a mean over the batch) and its gradient with respect
/// to the prediction, the seed `Tape.backward` takes.
public enum Loss {
    /// Softmax cross-entropy of logits [N, K] against class indices.
    /// Example: logits [0, ln 3] and label 1: p = [0.25, 0.75], loss −ln 0.75 ≈ 0.2877,
    /// gradient p − onehot = [0.25, −0.25].
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func crossEntropy<T: TrainingScalar>(_ logits: Buffer<T>, labels: [Int]) -> (loss: T, gradient: Buffer<T>) {
        let n = logits.shape[0], k = logits.count / max(n, 1)
        var gradient = ElementwiseGradients.softmax(Buffer(shape: [n, k], values: logits.values), axis: 1)
        var loss: T = 0
        for (row, label) in labels.enumerated() {
            loss -= T.log(Swift.max(gradient.values[row * k + label], T.leastNormalMagnitude))
            gradient.values[row * k + label] -= 1
        }
        for i in gradient.values.indices { gradient.values[i] /= T(n) }
        return (loss / T(n), Buffer(shape: logits.shape, values: gradient.values))
    }

    /// Hinton's distillation loss KL(teacher ‖ student) on logits softened by `temperature`,
    /// scaled by temperature² so its gradients keep their size as the temperature changes.
    /// The gradient with respect to the student's logits is temperature · (p_student − p_teacher) / N.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func distillation<T: TrainingScalar>(student: Buffer<T>, teacher: Buffer<T>,
                                                       temperature: T) -> (loss: T, gradient: Buffer<T>) {
        let n = student.shape[0], k = student.count / max(n, 1)
        func soft(_ logits: Buffer<T>) -> Buffer<T> {
            ElementwiseGradients.softmax(Buffer(shape: [n, k], values: logits.values.map { $0 / temperature }), axis: 1)
        }
        let ps = soft(student), pt = soft(teacher)
        var loss: T = 0
        var gradient = Buffer<T>(zeros: student.shape)
        for i in 0..<n * k {
            if pt.values[i] > 0 { loss += pt.values[i] * (T.log(pt.values[i]) - T.log(Swift.max(ps.values[i], T.leastNormalMagnitude))) }
            gradient.values[i] = temperature * (ps.values[i] - pt.values[i]) / T(n)
        }
        return (temperature * temperature * loss / T(n), gradient)
    }

    /// Mean squared error over every element.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func meanSquared<T: TrainingScalar>(_ prediction: Buffer<T>, _ target: Buffer<T>) -> (loss: T, gradient: Buffer<T>) {
        let count = T(prediction.count)
        var loss: T = 0
        var gradient = Buffer<T>(zeros: prediction.shape)
        for i in prediction.values.indices {
            let d = prediction.values[i] - target.values[i]
            loss += d * d
            gradient.values[i] = 2 * d / count
        }
        return (loss / count, gradient)
    }

    /// NORM's N-to-one loss: the student feature [B, N·C, H, W] is split along channels into N
    /// segments of C, each matched to the teacher feature [B, C, H, W] by mean squared error;
    /// the loss is the mean over segments.
    /// Example: a teacher of 8 channels and a student of 32 make 4 segments.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func nToOne<T: TrainingScalar>(student: Buffer<T>, teacher: Buffer<T>) throws -> (loss: T, gradient: Buffer<T>) {
        guard student.shape.count == teacher.shape.count, student.shape.count >= 2, student.shape[0] == teacher.shape[0],
              student.shape.dropFirst(2) == teacher.shape.dropFirst(2), teacher.shape[1] > 0, student.shape[1] % teacher.shape[1] == 0 else {
            throw EngineError("N-to-one loss: the student feature \(student.shape) is not N copies of the teacher's \(teacher.shape) along channels")
        }
        let batch = teacher.shape[0], block = teacher.count / max(batch, 1)
        let segments = student.count / max(teacher.count, 1)
        let count = T(teacher.count * segments)
        var loss: T = 0
        var gradient = Buffer<T>(zeros: student.shape)
        for b in 0..<batch { for s in 0..<segments { for i in 0..<block {
            let at = (b * segments + s) * block + i
            let d = student.values[at] - teacher.values[b * block + i]
            loss += d * d
            gradient.values[at] = 2 * d / count
        } } }
        return (loss / count, gradient)
    }
}
