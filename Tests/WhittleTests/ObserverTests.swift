import Foundation
import Graph
import Quantize
import XCTest

/// `Histogram` (one pass, growing grid) and the ranges each `Observer` picks from it.
final class ObserverTests: XCTestCase {
    private func histogram(_ batches: [[Float]], binned: Bool = true) -> Histogram {
        var h = Histogram(binned: binned)
        for batch in batches { batch.withUnsafeBufferPointer { h.add($0) } }
        return h
    }

    /// Growing the grid keeps every count, and every value stays in a bin that contains it.
    func testGrowingGridKeepsCountsInTheirBins() {
        var random = SeededRandom(seed: 3)
        let batches: [[Float]] = [(0..<1000).map { _ in random.next() }, (0..<1000).map { _ in 40 * random.next() },
                                  (0..<1000).map { _ in 3 + random.next() }, [-300, 0.5]]
        let h = histogram(batches)
        XCTAssertEqual(h.counts.reduce(0, +), 3002)
        XCTAssertEqual(h.low, batches.joined().min())
        XCTAssertEqual(h.high, batches.joined().max())
        for v in batches.joined() {
            let bin = Int(((v - h.gridLow) / h.width).rounded(.down))
            XCTAssert((0..<Histogram.binCount).contains(bin) && h.counts[bin] > 0, "\(v) in bin \(bin)")
        }
        // The example of the documentation: 0.5 moves from bin 1024 of [0, 1] to bin 1536 of [−1, 1].
        var small = histogram([[1, 0, 0.5]])
        XCTAssertEqual(small.counts[1024], 1)
        [Float(-1)].withUnsafeBufferPointer { small.add($0) }
        XCTAssertEqual(small.gridLow, -1)
        XCTAssertEqual(small.width, 2 / 2048)
        XCTAssertEqual(small.counts[1536], 1)
        XCTAssertEqual(small.counts[2047], 1)
    }

    /// Min/max reads the exact extent, with 0 inside, binned or not.
    func testMinMaxIsTheExtentWithZero() {
        for binned in [true, false] {
            let h = histogram([[0.25, 3.5], [1, 2]], binned: binned)
            XCTAssertEqual(h.range(.minMax).low, 0)
            XCTAssertEqual(h.range(.minMax).high, 3.5)
        }
    }

    /// A Relu-like tensor: most values 0, the rest spread over [0, 1) with one outlier at 100.
    /// Percentile and entropy drop the outlier; neither clips the bulk (the entropy search once
    /// picked ranges a tenth of the bulk, ruining top-1). (MSE rightly keeps a lone outlier:
    /// clipping it costs more squared error than the coarser grid.)
    func testObserversClipOutliersNotTheBulk() {
        var random = SeededRandom(seed: 11)
        var values = [Float](repeating: 0, count: 60_000)
        values += (0..<40_000).map { _ in (random.next() + 1) / 2 }
        values.append(100)
        let h = histogram([values])
        XCTAssertEqual(h.range(.minMax).high, 100)
        for observer in [Observer.percentile, .entropy] {
            let high = h.range(observer).high
            XCTAssertLessThan(high, 20, "\(observer) keeps the outlier")
            XCTAssertGreaterThan(high, 0.9, "\(observer) clips the bulk")
            XCTAssertEqual(h.range(observer).low, 0, "\(observer)")
        }
    }

    /// MSE clips an outlier when the finer grid saves more squared error than the clip costs:
    /// 400,000 values in [−1, 1) and one at 2. Keeping it: 400,000 · (3/255)²/12 ≈ 4.6; clipping
    /// it at 1: 1² + 400,000 · (2/255)²/12 ≈ 3.1.
    func testMSEClipsWhenTheGridGainsMore() {
        var random = SeededRandom(seed: 9)
        let values = (0..<400_000).map { _ in random.next() } + [2]
        let (low, high) = histogram([values]).range(.mse)
        XCTAssert(low < -0.9, "low \(low)")
        XCTAssert(high < 1.9 && high > 0.9, "high \(high)")
    }

    /// Symmetric values: each end found on its own side.
    func testObserversFindBothEnds() {
        var random = SeededRandom(seed: 5)
        let values = (0..<50_000).map { _ in 2 * random.next() } + [-50]
        let h = histogram([values])
        for observer in [Observer.percentile, .entropy] {
            let (low, high) = h.range(observer)
            XCTAssert(low < -1.8 && low > -10, "\(observer) low \(low)")
            XCTAssert(high > 1.8 && high <= 2, "\(observer) high \(high)")
        }
    }
}
