import LightCore

/// Text helpers of the report: escaping for XML and Markdown, numbers without locale, local
/// clock times, and "nice" axis ticks.
enum ReportText {
    // MARK: - Escaping

    /// Text safe inside an XML element or a double-quoted attribute.
    static func xml(_ text: String) -> String {
        guard text.contains(where: { $0 == "&" || $0 == "<" || $0 == ">" || $0 == "\"" || $0 == "'" || isControl($0) })
        else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(isControl(c) ? " " : c)  // control characters are not allowed in XML 1.0
            }
        }
        return out
    }

    private static func isControl(_ c: Character) -> Bool {
        c.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" && $0 != "\r" }
    }

    /// Text safe in a Markdown paragraph or table cell: HTML-significant characters as entities,
    /// Markdown punctuation backslash-escaped, line breaks as spaces.
    static func markdown(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "|", "*", "_", "`", "[", "]", "\\", "#": out += "\\" + String(c)
            case "\n", "\r": out += " "
            default: out.append(c)
            }
        }
        return out
    }

    /// `text` as a fenced code block whose fence cannot occur inside it.
    static func codeBlock(_ text: String) -> String {
        var fence = "```"
        while text.contains(fence) { fence += "`" }
        return fence + "sh\n" + text + "\n" + fence
    }

    /// `text` cut with an ellipsis so that it fits about `pixels` at `fontSize` (sans-serif; an
    /// estimate, as the reader's font decides).
    static func fit(_ text: String, pixels: Double, fontSize: Double, bold: Bool = false) -> String {
        let perChar = fontSize * (bold ? 0.62 : 0.55)
        let maxChars = max(4, Int(pixels / perChar))
        guard text.count > maxChars else { return text }
        return String(text.prefix(maxChars - 1)) + "…"
    }

    // MARK: - Numbers

    /// `value` with `decimals` decimals ("1234.5"); with `trim`, trailing zeros (and the point) go.
    static func number(_ value: Double, decimals: Int, trim: Bool = false, grouped: Bool = false) -> String {
        guard value.isFinite else { return value.isNaN ? "–" : (value > 0 ? "∞" : "−∞") }
        var scale = 1.0
        for _ in 0..<max(0, decimals) { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e15 else { return String(value) }
        let whole = UInt64(scaled)
        let unit = UInt64(scale)
        var intPart = String(whole / unit)
        if grouped && intPart.count > 4 {
            var groups: [Substring] = []
            var rest = Substring(intPart)
            while rest.count > 3 {
                groups.insert(rest.suffix(3), at: 0)
                rest = rest.dropLast(3)
            }
            groups.insert(rest, at: 0)
            intPart = groups.joined(separator: ",")
        }
        var s = (value < 0 && whole > 0 ? "-" : "") + intPart
        if decimals > 0 {
            var frac = String(whole % unit)
            frac = String(repeating: "0", count: decimals - frac.count) + frac
            if trim { while frac.last == "0" { frac.removeLast() } }
            if !frac.isEmpty { s += "." + frac }
        }
        return s
    }

    /// A share 0…1 as a percentage with one decimal: "63.2 %".
    static func percent(_ share: Double, decimals: Int = 1) -> String {
        number(share * 100, decimals: decimals) + " %"
    }

    /// An integer with thousands separators.
    static func count(_ value: Int) -> String { number(Double(value), decimals: 0, grouped: true) }

    /// A duration in seconds, with hours or minutes where that reads better.
    static func duration(_ seconds: Double) -> String {
        if seconds >= 7200 { return number(seconds, decimals: 0, grouped: true) + " s (" + number(seconds / 3600, decimals: 1) + " h)" }
        if seconds >= 120 { return number(seconds, decimals: 0, grouped: true) + " s (" + number(seconds / 60, decimals: 1) + " min)" }
        return number(seconds, decimals: seconds < 10 ? 2 : 1) + " s"
    }

    // MARK: - Time

    /// Local wall-clock time `HH:MM` of `instant` in `zone`.
    static func clock(_ instant: Instant, _ zone: ZoneRules, seconds: Bool = false) -> String {
        let sod = Int(zone.local(instant).secondsOfDay.rounded(.down))
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let hm = two(sod / 3600 % 24) + ":" + two(sod % 3600 / 60)
        return seconds ? hm + ":" + two(sod % 60) : hm
    }

    /// The local-time ticks in [from, to] at multiples of `step` seconds of the local day.
    static func clockTicks(from: Instant, to: Instant, step: Double, zone: ZoneRules) -> [Instant] {
        guard step > 0, to > from else { return [] }
        var ticks: [Instant] = []
        let sod = zone.local(from).secondsOfDay
        var rem = sod.truncatingRemainder(dividingBy: step)
        if rem < 0 { rem += step }
        var t = rem == 0 ? from : from + (step - rem)
        while t <= to && ticks.count < 1000 {
            ticks.append(t)
            // Re-align after a DST change (the local offset moves by whole hours; rarely by 30 min).
            let next = t + step
            var r = zone.local(next).secondsOfDay.truncatingRemainder(dividingBy: step)
            if r < 0 { r += step }
            t = r < 1 || r > step - 1 ? next : next - r
        }
        return ticks
    }

    /// A tick step for a time axis of `span` seconds drawn over `pixels`, at least `minPixels` apart.
    static func clockStep(span: Double, pixels: Double, minPixels: Double = 64) -> Double {
        let candidates: [Double] = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200]
        for c in candidates where span / c * minPixels <= pixels { return c }
        return candidates.last!
    }

    /// Round axis ticks from 0 to at least `maximum`: about `count` of them, steps of 1, 2, 2.5 or 5 × 10^k.
    static func niceTicks(maximum: Double, count: Int = 5, integer: Bool = false) -> [Double] {
        let top = maximum > 0 && maximum.isFinite ? maximum : 1
        let raw = integer ? max(1, top / Double(max(1, count))) : top / Double(max(1, count))
        var magnitude = 1.0
        while magnitude * 10 <= raw { magnitude *= 10 }
        while magnitude > raw { magnitude /= 10 }
        let multiples: [Double] = integer && magnitude < 10 ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10]
        let step = multiples.map { $0 * magnitude }.first { $0 >= raw } ?? magnitude * 10
        var ticks: [Double] = [0]
        while ticks.last! < top - step * 1e-9 { ticks.append(Double(ticks.count) * step) }
        return ticks
    }

    /// A tick value written with as many decimals as its step needs.
    static func tick(_ value: Double, step: Double) -> String {
        var decimals = 0
        var scaled = step
        while decimals < 4 && abs(scaled - scaled.rounded()) > 1e-9 * max(1, abs(scaled)) {
            scaled *= 10
            decimals += 1
        }
        return number(value, decimals: decimals, trim: true, grouped: true)
    }
}
