import LightCore

/// A space–time picture of one night: local time across, chainage up; each pole a horizontal
/// band coloured by its lamp's output, the road users as lines over it, and the moments a road
/// user had a too-dark pole within stopping sight ahead marked red.
///
/// The bands are drawn per pixel column from the exact mean output over the column (the integral of
/// the piecewise-linear ramps), quantised to `LevelPalette`, with equal neighbouring columns merged
/// into one rectangle. The number of columns shrinks for long routes so that a picture has at most
/// about `maxCells` rectangles, whatever happens in the night.
struct SpaceTimeDiagram {
    var record: NightRecord
    var analysis: LightAheadAnalysis
    var profile: Profile
    var model: SimulationModel
    var zone: ZoneRules
    var from: Instant
    var to: Instant
    var title: String
    var subtitle: String

    static let maxCells = 45_000

    // Layout.
    let width = 1200.0
    let left = 96.0, right = 86.0, top = 70.0

    var poleCount: Int { min(profile.route.poles.count, record.timelines.count) }

    func render() -> String {
        let route = profile.route
        let poles = Array(route.poles.prefix(poleCount))
        let chainages = poles.map(\.chainage)
        let plotW = width - left - right
        let plotH = min(860, max(300, Double(poles.count) * 16))
        let height = top + plotH + 150
        let x0 = left, y0 = top
        let span = max(1, to - from)
        func tx(_ t: Instant) -> Double { x0 + (t - from) / span * plotW }

        // Chainage range: the poles' bands plus some of the approach outside the route.
        let (lower, upper) = Self.bands(chainages)
        let routeLength = (chainages.last ?? 0) - (chainages.first ?? 0)
        let gap = chainages.count >= 2 ? routeLength / Double(chainages.count - 1) : 30
        let pad = max(20, gap * 1.5, routeLength * 0.06)
        let lo = min(lower.first ?? -pad, (chainages.first ?? 0) - pad)
        let hi = max(upper.last ?? pad, (chainages.last ?? 0) + pad)
        func cy(_ c: Double) -> Double { y0 + plotH - (c - lo) / (hi - lo) * plotH }

        var svg = SVGCanvas(width: width, height: height)
        svg.clipRect(id: "plot", x: x0, y: y0, width: plotW, height: plotH)
        svg.text(ReportText.fit(title, pixels: width - x0 - 10, fontSize: 17, bold: true), x: x0, y: 26, size: 17, bold: true)
        svg.text(ReportText.fit(subtitle, pixels: width - x0 - 10, fontSize: 12), x: x0, y: 48, size: 12, fill: "#555")

        // Background: the approach outside the route, and the route itself with the lamps off.
        svg.rect(x: x0, y: y0, width: plotW, height: plotH, fill: "#3a4654", cls: "approach")
        if let l = lower.first, let u = upper.last {
            svg.rect(x: x0, y: cy(u), width: plotW, height: cy(l) - cy(u), fill: LevelPalette.colours[0], cls: "route")
        }
        if cy(hi) < cy(upper.last ?? hi) - 14 {
            svg.text("approach (outside the route)", x: x0 + 6, y: cy(hi) + 13, size: 10, fill: "#c8d0d8")
        }
        if cy(lower.first ?? lo) < cy(lo) - 14 {
            svg.text("approach (outside the route)", x: x0 + 6, y: cy(lo) - 5, size: 10, fill: "#c8d0d8")
        }

        // The lamps.
        let columns = max(20, min(Int(plotW.rounded()), Self.maxCells / max(1, poles.count)))
        let colW = plotW / Double(columns)
        // One path per pole and colour: each run of equal colour is a horizontal stroke as tall as
        // the band ("M x y h w"), which keeps a busy night's file small.
        svg.beginGroup(cls: "lamps")
        for p in poles.indices {
            let means = Self.meanLevels(record.timelines[p], from: from.secondsSinceEpoch, to: to.secondsSinceEpoch,
                                        columns: columns)
            let yTop = cy(upper[p]), yBottom = cy(lower[p])
            let yMid = svg.n((yTop + yBottom) / 2, 2)
            var runs = [String](repeating: "", count: LevelPalette.steps)
            var c = 0
            while c < columns {
                let step = LevelPalette.step(means[c])
                var end = c + 1
                while end < columns && LevelPalette.step(means[end]) == step { end += 1 }
                if step > 0 {
                    runs[step] += "M" + svg.n(x0 + Double(c) * colW, 2) + " " + yMid + "h" + svg.n(Double(end - c) * colW, 2)
                }
                c = end
            }
            for (step, d) in runs.enumerated() where !d.isEmpty {
                svg.path(d, stroke: LevelPalette.colours[step], width: yBottom - yTop, cls: "lamp")
            }
        }
        svg.endGroup()
        // Band separators, where bands are tall enough to tell apart.
        if poles.count > 1 && plotH / Double(poles.count) >= 5 {
            for p in 1..<poles.count {
                svg.line(x1: x0, y1: cy(lower[p]), x2: x0 + plotW, y2: cy(lower[p]), stroke: "#000000", width: 0.6, opacity: 0.45)
            }
        }

        // Switch times.
        let plan = record.plan
        for (instant, label) in [(plan.switchOn, "switch-on"), (plan.switchOff, "switch-off")]
        where plan.isLitAtAll && instant >= from && instant <= to {
            let x = tx(instant)
            svg.line(x1: x, y1: y0 - 4, x2: x, y2: y0 + plotH, stroke: "#8fa3b8", width: 1.2, dash: "5 4", cls: "switch")
            svg.text("\(label) \(ReportText.clock(instant, zone))", x: x, y: y0 - 8, size: 11,
                     anchor: label == "switch-on" ? .start : .end, fill: "#444")
        }

        // Road users, and where they had too little light ahead.
        let darkByUser = Dictionary(analysis.users.map { ($0.user.number, $0.darkSeconds) }, uniquingKeysWith: +)
        let darkIntervals = Self.darkIntervals(record: record, profile: profile, model: model)
        let shown = record.users.filter { $0.departure > from && $0.arrival < to }
        // Many road users in little width (a whole night): thin lines without casing, so the lamps show.
        let crowded = Double(shown.count) > plotW / 12
        svg.beginGroup(cls: "road-users", clip: "plot")
        for user in shown {
            let pts = Self.path(of: user, from: max(from, user.arrival), to: min(to, user.departure))
                .map { (x: tx($0.t), y: cy($0.x)) }
            guard pts.count >= 2 else { continue }
            var tip = "\(user.kind.rawValue) \(user.number): \(ReportText.number(user.speed * 3.6, decimals: 0)) km/h, "
            tip += "entered \(ReportText.clock(user.arrival, zone, seconds: true)) from the "
            tip += user.entryDirection == .increasing ? "start" : "end"
            if user.stopped { tip += ", stopped" }
            if user.turnedBack { tip += ", turned back" }
            if let dark = darkByUser[user.number], dark > 0 { tip += "; dark ahead \(ReportText.duration(dark))" }
            svg.beginGroup(cls: "road-user", title: tip)
            if !crowded { svg.polyline(pts, stroke: UserStyle.casing, width: 3.2, opacity: 0.55, cls: "casing") }
            svg.polyline(pts, stroke: UserStyle.colour(user.kind), width: crowded ? 0.9 : 1.5, opacity: crowded ? 0.8 : nil,
                         cls: "user \(user.kind.rawValue)")
            for interval in darkIntervals[user.number] ?? [] {
                let a = max(interval.start, from.secondsSinceEpoch), b = min(interval.end, to.secondsSinceEpoch)
                guard b > a else { continue }
                var mark = Self.path(of: user, from: Instant(secondsSinceEpoch: a), to: Instant(secondsSinceEpoch: b))
                    .map { (x: tx($0.t), y: cy($0.x)) }
                if mark.count == 2 && abs(mark[1].x - mark[0].x) < 1 && abs(mark[1].y - mark[0].y) < 1 {
                    mark[1].x = mark[0].x + 1  // keep very short moments visible
                }
                svg.polyline(mark, stroke: UserStyle.darkMark, width: crowded ? 3.5 : 4.5, cls: "dark")
            }
            svg.endGroup()
        }
        svg.endGroup()
        svg.rect(x: x0, y: y0, width: plotW, height: plotH, fill: "none", stroke: "#333", strokeWidth: 1)

        // Time axis.
        let yAxis = y0 + plotH
        let step = ReportText.clockStep(span: span, pixels: plotW)
        for t in ReportText.clockTicks(from: from, to: to, step: step, zone: zone) {
            let x = tx(t)
            svg.line(x1: x, y1: yAxis, x2: x, y2: yAxis + 5, stroke: "#333")
            svg.text(ReportText.clock(t, zone), x: x, y: yAxis + 18, size: 11, anchor: .middle)
        }
        svg.text("local time (\(zone.identifier)), night beginning \(record.date)", x: x0 + plotW / 2, y: yAxis + 36,
                 size: 12, anchor: .middle, cls: "axis-label")

        // Pole axis (left) and chainage axis (right).
        svg.text("pole", x: x0 - 8, y: y0 - 8, size: 11, anchor: .end, bold: true, cls: "axis-label")
        var lastLabelY = Double.infinity
        for (p, pole) in poles.enumerated() {
            let y = cy(chainages[p])
            svg.line(x1: x0 - 4, y1: y, x2: x0, y2: y, stroke: "#333")
            if lastLabelY - y >= 12 || p == 0 {
                svg.text(pole.id, x: x0 - 7, y: y + 4, size: 10, anchor: .end)
                lastLabelY = y
            }
        }
        let cTicks = ReportText.niceTicks(maximum: hi - lo, count: 6)
        let cStep = cTicks.count > 1 ? cTicks[1] : max(1, hi - lo)
        var c = (lo / cStep).rounded(.up) * cStep
        while c <= hi {
            let y = cy(c)
            svg.line(x1: x0 + plotW, y1: y, x2: x0 + plotW + 5, y2: y, stroke: "#333")
            svg.text(ReportText.tick(c, step: cStep), x: x0 + plotW + 8, y: y + 4, size: 10)
            c += cStep
        }
        svg.text("chainage (m)", x: width - 14, y: y0 + plotH / 2, size: 12, anchor: .middle, rotate: -90, cls: "axis-label")

        // Legends.
        var ly = yAxis + 66
        svg.text("lamp output (mean over each pixel column):", x: x0, y: ly, size: 11, cls: "legend")
        var lx = x0 + 262
        for s in 0..<LevelPalette.steps {
            svg.rect(x: lx, y: ly - 11, width: 34, height: 14, fill: LevelPalette.colours[s], stroke: "#666", strokeWidth: 0.5)
            svg.text(LevelPalette.label(s), x: lx + 17, y: ly + 15, size: 9.5, anchor: .middle, cls: "legend")
            lx += 38
        }
        if let level = plan.presence?.level {
            svg.text("presence level \(level)", x: lx + 8, y: ly, size: 11, fill: "#555", cls: "legend")
        }
        ly += 40
        svg.text("road users:", x: x0, y: ly, size: 11, cls: "legend")
        lx = x0 + 74
        var present: [RoadUserKind: Int] = [:]
        for user in record.users { present[user.kind, default: 0] += 1 }
        for kind in RoadUserKind.allCases {
            svg.line(x1: lx, y1: ly - 4, x2: lx + 26, y2: ly - 4, stroke: UserStyle.casing, width: 4, opacity: 0.55)
            svg.line(x1: lx, y1: ly - 4, x2: lx + 26, y2: ly - 4, stroke: kind == .car ? "#e8e8e8" : UserStyle.colour(kind), width: 2.2)
            let label = "\(kind.rawValue) (\(present[kind] ?? 0) tonight)"
            svg.text(label, x: lx + 32, y: ly, size: 11, cls: "legend")
            lx += 32 + Double(label.count) * 6.2 + 18
        }
        svg.line(x1: lx, y1: ly - 4, x2: lx + 26, y2: ly - 4, stroke: UserStyle.darkMark, width: 4.5)
        svg.text("dark ahead: a pole within stopping sight below the presence level", x: lx + 32, y: ly, size: 11, cls: "legend")
        svg.rect(x: x0, y: ly + 14, width: 26, height: 10, fill: "#3a4654")
        svg.text("approach outside the route (no lamps); a line is a road user's position over time, its slope their speed",
                 x: x0 + 32, y: ly + 23, size: 11, fill: "#444", cls: "legend")

        return svg.document(title: title)
    }

    // MARK: - Geometry

    /// Each pole's band of chainage: halfway to its neighbours, and as far beyond the end poles.
    static func bands(_ chainages: [Double]) -> (lower: [Double], upper: [Double]) {
        guard !chainages.isEmpty else { return ([], []) }
        if chainages.count == 1 { return ([chainages[0] - 15], [chainages[0] + 15]) }
        var lower: [Double] = [], upper: [Double] = []
        for i in chainages.indices {
            let below = i > 0 ? (chainages[i] - chainages[i - 1]) / 2 : (chainages[1] - chainages[0]) / 2
            let above = i + 1 < chainages.count ? (chainages[i + 1] - chainages[i]) / 2
                : (chainages[i] - chainages[i - 1]) / 2
            lower.append(chainages[i] - below)
            upper.append(chainages[i] + above)
        }
        return (lower, upper)
    }

    /// The road user's position at the leg boundaries between `from` and `to` (inclusive).
    static func path(of user: RoadUser, from: Instant, to: Instant) -> [(t: Instant, x: Double)] {
        guard to > from else { return [] }
        var points: [(t: Instant, x: Double)] = []
        for leg in user.legs where leg.end >= from && leg.start <= to {
            let a = max(leg.start, from), b = min(leg.end, to)
            if points.isEmpty || points.last!.t < a || abs(points.last!.x - leg.position(at: a)) > 1e-6 {
                points.append((a, leg.position(at: a)))
            }
            if b > a { points.append((b, leg.position(at: b))) }
        }
        return points
    }

    /// The mean output (percent) of a lamp over `columns` equal slices of [from, to], exactly.
    static func meanLevels(_ timeline: [LevelRamp], from: Double, to: Double, columns: Int) -> [Double] {
        var result = [Double](repeating: 0, count: max(0, columns))
        guard !timeline.isEmpty, to > from, columns > 0 else { return result }
        let dt = (to - from) / Double(columns)
        var j = 0
        while j + 1 < timeline.count && timeline[j + 1].start.secondsSinceEpoch <= from { j += 1 }
        for c in 0..<columns {
            let a = from + dt * Double(c)
            let b = c == columns - 1 ? to : a + dt
            var total = 0.0
            var t = a
            var k = j
            while t < b {
                let ramp = timeline[k]
                let start = ramp.start.secondsSinceEpoch
                if t < start {  // before the first ramp: its starting level
                    let e = min(b, start)
                    total += ramp.from.percent * (e - t)
                    t = e
                    continue
                }
                let nextStart = k + 1 < timeline.count ? timeline[k + 1].start.secondsSinceEpoch : .infinity
                let segEnd = min(b, max(t, nextStart))
                if segEnd > t {
                    total += ramp.integral(from: Instant(secondsSinceEpoch: t), to: Instant(secondsSinceEpoch: segEnd))
                }
                t = segEnd
                if t < b { k += 1 }
            }
            // The next column starts in the ramp in force at its start.
            while j + 1 < timeline.count && timeline[j + 1].start.secondsSinceEpoch <= b { j += 1 }
            result[c] = total / (b - a)
        }
        return result
    }

    /// For each road user (by number), the merged intervals in which a pole within their stopping
    /// sight ahead was below the presence level — exactly `LightAheadAnalysis`'s.
    static func darkIntervals(record: NightRecord, profile: Profile, model: SimulationModel) -> [Int: [Interval]] {
        record.lightAhead(profile: profile, model: model).darkIntervalsByUser
    }

    /// The start of the `length`-second window in [from, to] with the most road-user time on the
    /// route (between the first and the last pole), searched on a one-minute grid; nil when nobody
    /// is on the route then.
    static func busiestWindow(record: NightRecord, route: Route, from: Instant, to: Instant, length: Double) -> Instant? {
        guard let first = route.poles.first?.chainage, let last = route.poles.last?.chainage else { return nil }
        var onRoute: [Interval] = []
        for user in record.users {
            for leg in user.legs where leg.end > leg.start {
                var a = leg.start.secondsSinceEpoch, b = leg.end.secondsSinceEpoch
                if leg.velocity == 0 {
                    guard leg.x0 >= first && leg.x0 <= last else { continue }
                } else {
                    let t1 = a + (first - leg.x0) / leg.velocity, t2 = a + (last - leg.x0) / leg.velocity
                    a = max(a, min(t1, t2))
                    b = min(b, max(t1, t2))
                }
                if b > a { onRoute.append(Interval(a, b)) }
            }
        }
        guard !onRoute.isEmpty else { return nil }
        let lastStart = max(from.secondsSinceEpoch, to.secondsSinceEpoch - length)
        var starts: [Double] = []
        var totals: [Double] = []
        var s = from.secondsSinceEpoch
        while s <= lastStart + 1e-6 {
            let window = Interval(s, s + length)
            var total = 0.0
            for i in onRoute { total += window.intersection(i)?.length ?? 0 }
            starts.append(s)
            totals.append(total)
            s += 60
        }
        guard let best = totals.max(), best > 0, let first = totals.firstIndex(where: { $0 >= best - 1e-6 }) else { return nil }
        // Several windows can hold the same road-user time (a short burst fits in many): take the
        // middle one of the first run of them, so the burst sits in the middle of the picture.
        var runEnd = first
        while runEnd + 1 < totals.count && totals[runEnd + 1] >= best - 1e-6 { runEnd += 1 }
        return Instant(secondsSinceEpoch: starts[(first + runEnd) / 2])
    }
}
