import Foundation

/// A scatter of plans, cost across and quality up, as a standalone SVG: uniform plans as grey
/// squares, searched plans as blue dots joined in cost order, the chosen plan ringed in red and
/// labelled. `--pareto` writes one.
///
/// Example: points (2.4 MB, 61 %), (3.2 MB, 97 %) and (4.9 MB, 100 %) span the x axis
/// 2.275…5.025 MB (5 % room each side) and the y axis 59.05…100 (a percentage stops at 100);
/// the chosen one is drawn last, on top.
struct ParetoChart {
    struct Point {
        var label: String
        var cost: Double
        var quality: Double
        var searched: Bool
        var chosen = false
    }

    var title: String
    var costAxis: String
    var qualityAxis: String
    var points: [Point]
    /// Whether quality is a percentage (the axis then stays within 0…100).
    var percent: Bool

    func svg() -> String {
        let (width, height, left, right, top, bottom) = (760.0, 440.0, 70.0, 130.0, 40.0, 50.0)
        let costs = points.map(\.cost), qualities = points.map(\.quality)
        let (x0, x1) = padded(costs.min() ?? 0, costs.max() ?? 1)
        var (y0, y1) = padded(qualities.min() ?? 0, qualities.max() ?? 1)
        if percent { (y0, y1) = (max(y0, 0), min(y1, 100)) }
        func x(_ v: Double) -> Double { left + (v - x0) / (x1 - x0) * (width - left - right) }
        func y(_ v: Double) -> Double { height - bottom - (v - y0) / (y1 - y0) * (height - top - bottom) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(width / 2))" y="22" text-anchor="middle" font-size="15">\(escaped(title))</text>
        <line x1="\(f(left))" y1="\(f(height - bottom))" x2="\(f(width - right))" y2="\(f(height - bottom))" stroke="black"/>
        <line x1="\(f(left))" y1="\(f(top))" x2="\(f(left))" y2="\(f(height - bottom))" stroke="black"/>
        <text x="\(f(width / 2))" y="\(f(height - 12))" text-anchor="middle">\(escaped(costAxis))</text>
        <text x="18" y="\(f(height / 2))" text-anchor="middle" transform="rotate(-90 18 \(f(height / 2)))">\(escaped(qualityAxis))</text>

        """
        for i in 0...4 {
            let cv = x0 + (x1 - x0) * Double(i) / 4, qv = y0 + (y1 - y0) * Double(i) / 4
            svg += "<text x=\"\(f(x(cv)))\" y=\"\(f(height - bottom + 16))\" text-anchor=\"middle\">\(tick(cv))</text>\n"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(y(qv) + 4))\" text-anchor=\"end\">\(tick(qv))</text>\n"
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y(qv)))\" x2=\"\(f(width - right))\" y2=\"\(f(y(qv)))\" stroke=\"#eee\"/>\n"
        }
        let searched = points.filter(\.searched).sorted { $0.cost < $1.cost }
        if searched.count > 1 {
            svg += "<polyline fill=\"none\" stroke=\"#4a7fd0\" points=\"" + searched.map { "\(f(x($0.cost))),\(f(y($0.quality)))" }.joined(separator: " ") + "\"/>\n"
        }
        // Uniform plans that land on one spot share one label.
        var labels: [String: [String]] = [:]
        for p in points where !p.searched { labels["\(f(x(p.cost))),\(f(y(p.quality)))", default: []].append(p.label) }
        for p in points.sorted(by: { !$0.chosen && $1.chosen }) {
            let (px, py) = (x(p.cost), y(p.quality))
            if p.searched {
                svg += "<circle cx=\"\(f(px))\" cy=\"\(f(py))\" r=\"4\" fill=\"#4a7fd0\"><title>\(escaped(p.label))</title></circle>\n"
            } else {
                svg += "<rect x=\"\(f(px - 4))\" y=\"\(f(py - 4))\" width=\"8\" height=\"8\" fill=\"#888\"><title>\(escaped(p.label))</title></rect>\n"
                if let shared = labels.removeValue(forKey: "\(f(px)),\(f(py))") {
                    svg += "<text x=\"\(f(px + 7))\" y=\"\(f(py + 4))\" fill=\"#555\">\(escaped(shared.joined(separator: ", ")))</text>\n"
                }
            }
            if p.chosen {
                svg += "<circle cx=\"\(f(px))\" cy=\"\(f(py))\" r=\"9\" fill=\"none\" stroke=\"#d03030\" stroke-width=\"2\"/>\n"
                svg += "<text x=\"\(f(px + 12))\" y=\"\(f(py - 8))\" fill=\"#d03030\">\(escaped(p.label))</text>\n"
            }
        }
        return svg + "</svg>\n"
    }

    /// The range with 5 % room on each side (1 on each side when it is a single value).
    private func padded(_ low: Double, _ high: Double) -> (Double, Double) {
        let span = high - low
        return span > 0 ? (low - 0.05 * span, high + 0.05 * span) : (low - 1, high + 1)
    }

    private func tick(_ v: Double) -> String {
        let magnitude = abs(v)
        for (limit, suffix) in [(1e9, "G"), (1e6, "M"), (1e3, "K")] where magnitude >= limit { return String(format: "%.2f", v / limit) + suffix }
        return String(format: magnitude >= 10 ? "%.0f" : "%.2f", v)
    }

    private func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
