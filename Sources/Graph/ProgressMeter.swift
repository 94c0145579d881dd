import Foundation

/// Long work counted against its total and told as one line: the count, the rate and the time
/// left, e.g. "eval 120/500 images, 41.4/s, 9 s left". Every line starts with "\r": it updates
/// the one before, so a terminal redraws it in place (`compress` does) and a log gets plain
/// lines; the last also ends in "\n". A meter gives a line for the first step, then at most one
/// per `interval` seconds, and the last.
///
///     var meter = ProgressMeter("calibrating", total: batches.count, unit: "batches")
///     for (i, batch) in batches.enumerated() { …; meter.line(i + 1).map(progress) }
public struct ProgressMeter {
    public let label: String
    public let total: Int
    public let unit: String
    let interval: Double
    let started: Date
    var lastReport: Date?

    /// `started`: when the work began, if before the meter is made (when its total became known).
    public init(_ label: String, total: Int, unit: String, interval: Double = 1, started: Date = Date()) {
        (self.label, self.total, self.unit, self.interval, self.started) = (label, total, unit, interval, started)
    }

    /// The line to report now that `done` of the total are done (`detail`, a loss or a best
    /// score, at its end), or nil when the last one went out less than `interval` seconds ago.
    public mutating func line(_ done: Int, detail: String? = nil) -> String? {
        let now = Date()
        guard done >= total || lastReport.map({ now.timeIntervalSince($0) >= interval }) ?? true else { return nil }
        lastReport = now
        return "\r" + ProgressMeter.line(label: label, done: done, total: total, unit: unit, elapsed: now.timeIntervalSince(started), detail: detail)
            + (done >= total ? "\n" : "")
    }

    /// A (done, total) callback that reports through a meter made at its first call, when the total is known.
    public static func callback(_ label: String, unit: String, report: @escaping (String) -> Void) -> (Int, Int) -> Void {
        var meter: ProgressMeter?
        let started = Date()
        return { done, total in
            if meter == nil { meter = ProgressMeter(label, total: total, unit: unit, started: started) }
            if let line = meter?.line(done) { report(line) }
        }
    }

    /// Example: ("eval", 120, 500, "images", 2.9 s) → "eval 120/500 images, 41.4/s, 9 s left";
    /// at 500/500 after 12.1 s → "eval 500/500 images, 41.3/s, 12 s".
    public static func line(label: String, done: Int, total: Int, unit: String, elapsed: Double, detail: String?) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let time = done >= total ? duration(elapsed) : done > 0 ? duration(elapsed / Double(done) * Double(total - done)) + " left" : "starting"
        let pace = rate >= 1 ? String(format: "%.1f/s", rate) : rate > 0 ? String(format: "%.1f s each", 1 / rate) : ""
        return "\(label) \(done)/\(total) \(unit)" + (pace.isEmpty ? "" : ", \(pace)") + ", \(time)" + (detail.map { ": \($0)" } ?? "")
    }

    /// 9 → "9 s", 150 → "2 min 30 s", 4000 → "1 h 7 min".
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 120 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min \(s % 60) s" }
        return "\(s / 3600) h \(s % 3600 / 60) min"
    }
}
