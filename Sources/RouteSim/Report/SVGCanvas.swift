import LightCore

/// A hand-written SVG document: elements are appended as text, numbers are written with a fixed
/// number of decimals (no locale, no Foundation formatters), and every piece of text goes through
/// `ReportText.xml` so the result is well-formed XML whatever a route or pole is called.
struct SVGCanvas {
    let width: Double
    let height: Double
    private var body = ""
    private var defs = ""
    /// Elements written so far (for keeping the pictures small).
    private(set) var elementCount = 0

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
        body.reserveCapacity(64 * 1024)
    }

    // MARK: - Elements

    mutating func rect(x: Double, y: Double, width w: Double, height h: Double, fill: String,
                       stroke: String? = nil, strokeWidth: Double = 1, opacity: Double? = nil,
                       cls: String? = nil, title: String? = nil) {
        var s = "<rect"
        if let cls { s += " class=\"\(ReportText.xml(cls))\"" }
        s += " x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(max(0, w)))\" height=\"\(n(max(0, h)))\" fill=\"\(fill)\""
        if let stroke { s += " stroke=\"\(stroke)\" stroke-width=\"\(n(strokeWidth))\"" }
        if let opacity { s += " fill-opacity=\"\(n(opacity, 2))\"" }
        append(s, title: title, tag: "rect")
    }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width w: Double = 1,
                       dash: String? = nil, opacity: Double? = nil, cls: String? = nil) {
        var s = "<line"
        if let cls { s += " class=\"\(ReportText.xml(cls))\"" }
        s += " x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(n(w))\""
        if let dash { s += " stroke-dasharray=\"\(dash)\"" }
        if let opacity { s += " stroke-opacity=\"\(n(opacity, 2))\"" }
        append(s, title: nil, tag: "line")
    }

    enum Anchor: String { case start, middle, end }

    mutating func text(_ content: String, x: Double, y: Double, size: Double = 12, anchor: Anchor = .start,
                       fill: String = "#222", bold: Bool = false, rotate: Double? = nil, cls: String? = nil) {
        var s = "<text"
        if let cls { s += " class=\"\(ReportText.xml(cls))\"" }
        s += " x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\""
        if anchor != .start { s += " text-anchor=\"\(anchor.rawValue)\"" }
        if fill != "#222" { s += " fill=\"\(fill)\"" }
        if bold { s += " font-weight=\"bold\"" }
        if let rotate { s += " transform=\"rotate(\(n(rotate)) \(n(x)) \(n(y)))\"" }
        s += ">" + ReportText.xml(content) + "</text>\n"
        body += s
        elementCount += 1
    }

    mutating func polyline(_ points: [(x: Double, y: Double)], stroke: String, width w: Double,
                           opacity: Double? = nil, cls: String? = nil, title: String? = nil) {
        guard points.count >= 2 else { return }
        var s = "<polyline"
        if let cls { s += " class=\"\(ReportText.xml(cls))\"" }
        s += " fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(n(w))\" stroke-linejoin=\"round\" stroke-linecap=\"round\""
        if let opacity { s += " stroke-opacity=\"\(n(opacity, 2))\"" }
        s += " points=\""
        for (i, p) in points.enumerated() {
            if i > 0 { s += " " }
            s += n(p.x) + "," + n(p.y)
        }
        s += "\""
        append(s, title: title, tag: "polyline")
    }

    /// A stroked path (no fill), e.g. horizontal runs `M x y h w` of one colour.
    mutating func path(_ d: String, stroke: String, width w: Double, cls: String? = nil) {
        var s = "<path"
        if let cls { s += " class=\"\(ReportText.xml(cls))\"" }
        s += " fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(n(w, 2))\" d=\"\(d)\""
        append(s, title: nil, tag: "path")
    }

    /// Opens a group; close it with `endGroup()`.
    mutating func beginGroup(cls: String? = nil, clip: String? = nil, title: String? = nil) {
        var s = "<g"
        if let cls { s += " class=\"\(ReportText.xml(cls))\"" }
        if let clip { s += " clip-path=\"url(#\(clip))\"" }
        s += ">\n"
        if let title { s += "<title>\(ReportText.xml(title))</title>\n" }
        body += s
        elementCount += 1
    }

    mutating func endGroup() { body += "</g>\n" }

    /// A rectangular clip path usable as `clip:` of a group.
    mutating func clipRect(id: String, x: Double, y: Double, width w: Double, height h: Double) {
        defs += "<clipPath id=\"\(id)\"><rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"\(n(h))\"/></clipPath>\n"
        elementCount += 2
    }

    private mutating func append(_ open: String, title: String?, tag: String) {
        if let title {
            body += open + "><title>" + ReportText.xml(title) + "</title></" + tag + ">\n"
            elementCount += 2
        } else {
            body += open + "/>\n"
            elementCount += 1
        }
    }

    // MARK: - Document

    /// The complete document. `title` becomes the SVG's `<title>` (shown as a tooltip and read by
    /// screen readers).
    func document(title: String) -> String {
        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(n(width))\" height=\"\(n(height))\""
        s += " viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"sans-serif\">\n"
        s += "<title>\(ReportText.xml(title))</title>\n"
        if !defs.isEmpty { s += "<defs>\n" + defs + "</defs>\n" }
        s += "<rect x=\"0\" y=\"0\" width=\"\(n(width))\" height=\"\(n(height))\" fill=\"#ffffff\"/>\n"
        s += body
        s += "</svg>\n"
        return s
    }

    // MARK: - Numbers

    /// A coordinate with at most `decimals` decimals, trailing zeros dropped.
    func n(_ value: Double, _ decimals: Int = 1) -> String { ReportText.number(value, decimals: decimals, trim: true) }
}

// MARK: - Colours

/// An sRGB colour, written as `#rrggbb`.
struct RGB: Hashable {
    var r: Double, g: Double, b: Double

    init(hex: UInt32) {
        r = Double((hex >> 16) & 0xff)
        g = Double((hex >> 8) & 0xff)
        b = Double(hex & 0xff)
    }

    init(r: Double, g: Double, b: Double) {
        self.r = r
        self.g = g
        self.b = b
    }

    func mixed(with other: RGB, _ f: Double) -> RGB {
        RGB(r: r + (other.r - r) * f, g: g + (other.g - g) * f, b: b + (other.b - b) * f)
    }

    var hex: String {
        let digits = Array("0123456789abcdef")
        func two(_ v: Double) -> String {
            let i = Int(min(255, max(0, v.rounded())))
            return String([digits[i / 16], digits[i % 16]])
        }
        return "#" + two(r) + two(g) + two(b)
    }
}

/// The colours of lamp output: 11 steps, off and 10 % … 100 %, from near-black to warm yellow.
enum LevelPalette {
    static let steps = 11
    static let dark = RGB(hex: 0x111111)
    static let bright = RGB(hex: 0xffd54a)

    /// The step of a level in percent: 0 only for a dark lamp, otherwise the nearest 10 % (at least 1).
    static func step(_ percent: Double) -> Int {
        guard percent > 0.05 else { return 0 }
        return min(10, max(1, Int((percent / 10).rounded())))
    }

    /// The colour of a step; brightness grows with the square root so that 10 % is clearly not off.
    static let colours: [String] = (0..<steps).map { i in
        dark.mixed(with: bright, (Double(i) / 10).squareRoot()).hex
    }

    static func label(_ step: Int) -> String { step == 0 ? "off" : "\(step * 10) %" }
}

/// The colours and names of road-user kinds in the pictures.
enum UserStyle {
    static func colour(_ kind: RoadUserKind) -> String {
        switch kind {
        case .pedestrian: "#29b6f6"
        case .cyclist: "#ff4f9a"
        case .car: "#ffffff"
        }
    }

    static func plural(_ kind: RoadUserKind) -> String {
        switch kind {
        case .pedestrian: "pedestrians"
        case .cyclist: "cyclists"
        case .car: "cars"
        }
    }

    static let casing = "#000000"
    static let darkMark = "#ff1f1f"
}
