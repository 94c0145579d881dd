import Graph
import XCTest

/// The one progress facility: count, rate and time left, at most one line per interval.
final class ProgressTests: XCTestCase {
    func testLinesCountRateAndTimeLeft() {
        XCTAssertEqual(ProgressMeter.line(label: "eval", done: 120, total: 500, unit: "images", elapsed: 2.9, detail: nil),
                       "eval 120/500 images, 41.4/s, 9 s left")
        XCTAssertEqual(ProgressMeter.line(label: "eval", done: 500, total: 500, unit: "images", elapsed: 12.1, detail: nil),
                       "eval 500/500 images, 41.3/s, 12 s")
        XCTAssertEqual(ProgressMeter.line(label: "FLIQS", done: 3, total: 200, unit: "steps", elapsed: 30, detail: "reward 0.5"),
                       "FLIQS 3/200 steps, 10.0 s each, 32 min 50 s left: reward 0.5")
    }

    func testAtMostOneLinePerIntervalAndAlwaysTheLast() {
        var meter = ProgressMeter("calibrating", total: 3, unit: "batches", interval: 60)
        let first = meter.line(1)
        XCTAssertEqual(first?.hasPrefix("\rcalibrating 1/3 batches"), true, "\(first ?? "")")
        XCTAssertNil(meter.line(2), "within the interval")
        let last = meter.line(3)
        XCTAssertEqual(last?.hasSuffix("\n"), true, "the last line closes the progress line")
    }
}
