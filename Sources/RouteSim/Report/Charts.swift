import LightCore

/// The bar charts of the report: energy per hour, the light-ahead distribution and dark exposure
/// by pole.
enum Charts {
    // MARK: - Shared frame

    /// A plot area with a value axis on the left.
    struct Frame {
        var x0: Double, y0: Double, width: Double, height: Double
        var ticks: [Double]
        var top: Double { ticks.last ?? 1 }

        func y(_ value: Double) -> Double { y0 + height - max(0, value) / max(top, 1e-12) * height }

        /// Grid lines, tick labels and the axis title.
        func drawValueAxis(_ svg: inout SVGCanvas, title: String) {
            let step = ticks.count > 1 ? ticks[1] - ticks[0] : top
            for t in ticks {
                let yy = y(t)
                svg.line(x1: x0, y1: yy, x2: x0 + width, y2: yy, stroke: "#000000", width: 0.5, opacity: t == 0 ? 0.8 : 0.15)
                svg.text(ReportText.tick(t, step: step), x: x0 - 6, y: yy + 4, size: 11, anchor: .end)
            }
            svg.line(x1: x0, y1: y0, x2: x0, y2: y0 + height, stroke: "#333")
            svg.text(title, x: 16, y: y0 + height / 2, size: 12, anchor: .middle, rotate: -90, cls: "axis-label")
        }
    }

    static func header(_ svg: inout SVGCanvas, title: String, subtitle: String, x: Double) {
        svg.text(ReportText.fit(title, pixels: svg.width - x - 10, fontSize: 17, bold: true), x: x, y: 26, size: 17, bold: true)
        svg.text(ReportText.fit(subtitle, pixels: svg.width - x - 10, fontSize: 12), x: x, y: 47, size: 12, fill: "#555")
    }

    // MARK: - Energy per hour

    /// The route's energy in each hour of the showcase night, with the same lamps at full output
    /// while the schedule has them on (and in standby otherwise) as the reference.
    static func hourlyEnergy(record: NightRecord, profile: Profile, zone: ZoneRules) -> String {
        let values = record.hourlyEnergyWh
        let marks = record.hourMarks
        let n = values.count
        let baseline = hourlyFullLight(record: record, profile: profile)
        let peak = max(values.max() ?? 0, baseline.max() ?? 0)
        let inKWh = peak >= 2000
        let unit = inKWh ? "kWh" : "Wh"
        let scale = inKWh ? 0.001 : 1

        let width = 1000.0, height = 470.0
        var svg = SVGCanvas(width: width, height: height)
        let total = values.reduce(0, +)
        header(&svg, title: "Energy per hour — night beginning \(record.date)",
               subtitle: "route total \(ReportText.number(total / 1000, decimals: 2)) kWh over the night's 24 h window "
                   + "(\(ReportText.number(record.energyWh / 1000, decimals: 2)) kWh from switch-on to switch-off; "
                   + "full light \(ReportText.number(record.baselineFullWh / 1000, decimals: 2)) kWh)", x: 70)
        let frame = Frame(x0: 70, y0: 70, width: width - 70 - 24, height: height - 70 - 110,
                          ticks: ReportText.niceTicks(maximum: peak * scale * 1.08, count: 5))
        frame.drawValueAxis(&svg, title: "energy per hour (\(unit))")

        let slot = frame.width / Double(max(1, n))
        let labelEvery = max(1, Int((44 / slot).rounded(.up)))
        for i in 0..<n {
            let x = frame.x0 + Double(i) * slot
            let startLabel = i < marks.count ? ReportText.clock(marks[i], zone) : "?"
            let endLabel = i + 1 < marks.count ? ReportText.clock(marks[i + 1], zone) : "?"
            if i < baseline.count {
                let b = baseline[i] * scale
                svg.rect(x: x + slot * 0.1, y: frame.y(b), width: slot * 0.8, height: frame.y(0) - frame.y(b),
                         fill: "#d5dbe3", cls: "baseline",
                         title: "\(startLabel)–\(endLabel): full light \(ReportText.number(b, decimals: inKWh ? 3 : 1)) \(unit)")
            }
            let v = values[i] * scale
            svg.rect(x: x + slot * 0.25, y: frame.y(v), width: slot * 0.5, height: frame.y(0) - frame.y(v),
                     fill: "#e8a317", cls: "bar",
                     title: "\(startLabel)–\(endLabel): \(ReportText.number(v, decimals: inKWh ? 3 : 1)) \(unit) simulated")
            if slot >= 26 && v > 0 {
                svg.text(ReportText.number(v, decimals: v >= 100 ? 0 : (v >= 10 ? 1 : 2), trim: true), x: x + slot / 2, y: frame.y(v) - 3,
                         size: 9, anchor: .middle, fill: "#7a5200")
            }
            if i % labelEvery == 0 {
                svg.line(x1: x + slot / 2, y1: frame.y(0), x2: x + slot / 2, y2: frame.y(0) + 4, stroke: "#333")
                svg.text(startLabel, x: x + slot / 2, y: frame.y(0) + 17, size: 10.5, anchor: .middle)
            }
        }
        let yAxis = frame.y0 + frame.height
        svg.text("hour starting at (local time, \(zone.identifier))", x: frame.x0 + frame.width / 2, y: yAxis + 36,
                 size: 12, anchor: .middle, cls: "axis-label")
        // Legend.
        let ly = yAxis + 66
        svg.rect(x: frame.x0, y: ly - 11, width: 18, height: 13, fill: "#e8a317")
        svg.text("simulated (presence-controlled lamps, standby included)", x: frame.x0 + 24, y: ly, size: 11, cls: "legend")
        svg.rect(x: frame.x0 + 380, y: ly - 11, width: 18, height: 13, fill: "#d5dbe3")
        svg.text("full light while the schedule has the lamps on, standby otherwise", x: frame.x0 + 404, y: ly,
                 size: 11, cls: "legend")
        return svg.document(title: "Energy per hour, \(profile.route.name), night beginning \(record.date)")
    }

    /// Wh per hour of the route at full output while the plan has the lamps on, standby otherwise.
    static func hourlyFullLight(record: NightRecord, profile: Profile) -> [Double] {
        var fullW = 0.0, standbyW = 0.0
        for pole in profile.route.poles {
            guard let luminaire = profile.route.luminaire(of: pole) else { continue }
            fullW += luminaire.power(at: .full)
            standbyW += luminaire.standby
        }
        let plan = record.plan
        let lit = Interval(plan.switchOn.secondsSinceEpoch, plan.switchOff.secondsSinceEpoch)
        var result: [Double] = []
        for i in 0..<min(record.hourlyEnergyWh.count, max(0, record.hourMarks.count - 1)) {
            let hour = Interval(record.hourMarks[i].secondsSinceEpoch, record.hourMarks[i + 1].secondsSinceEpoch)
            let on = plan.isLitAtAll ? (hour.intersection(lit)?.length ?? 0) : 0
            result.append((fullW * on + standbyW * (hour.length - on)) / 3600)
        }
        return result
    }

    // MARK: - Light-ahead distribution

    struct RatioBin {
        var label: String
        var count: Int
        var colour: String
    }

    /// Road users by light-ahead ratio: < 0.9, 0.9–0.95, 0.95–0.99, 0.99–< 1, = 1.
    static func ratioBins(_ ratios: [Double]) -> [RatioBin] {
        var counts = [0, 0, 0, 0, 0]
        for r in ratios {
            let i: Int
            if r >= 1 - 1e-12 { i = 4 } else if r >= 0.99 { i = 3 } else if r >= 0.95 { i = 2 } else if r >= 0.9 { i = 1 } else { i = 0 }
            counts[i] += 1
        }
        let labels = ["< 0.90", "0.90 – 0.95", "0.95 – 0.99", "0.99 – < 1", "= 1 (always lit)"]
        let colours = ["#c62828", "#ef6c00", "#f9a825", "#9ccc65", "#2e7d32"]
        return (0..<5).map { RatioBin(label: labels[$0], count: counts[$0], colour: colours[$0]) }
    }

    static func lightAhead(ratios: [Double], routeName: String) -> String {
        let bins = ratioBins(ratios)
        let total = ratios.count
        let width = 780.0, height = 440.0
        var svg = SVGCanvas(width: width, height: height)
        let below = ratios.filter { $0 < 1 - 1e-12 }.count
        header(&svg, title: "Light ahead per road user — \(ReportText.count(total)) road users, all nights",
               subtitle: "share of each road user's time with a pole in sight ahead in which the whole stopping sight distance was lit; "
                   + "\(ReportText.count(below)) had less than 1", x: 70)
        let peak = Double(bins.map(\.count).max() ?? 0)
        let frame = Frame(x0: 70, y0: 80, width: width - 70 - 24, height: height - 80 - 80,
                          ticks: ReportText.niceTicks(maximum: max(1, peak * 1.12), count: 5, integer: true))
        frame.drawValueAxis(&svg, title: "road users")
        let slot = frame.width / Double(bins.count)
        for (i, bin) in bins.enumerated() {
            let x = frame.x0 + Double(i) * slot
            let share = total > 0 ? Double(bin.count) / Double(total) : 0
            svg.rect(x: x + slot * 0.15, y: frame.y(Double(bin.count)), width: slot * 0.7,
                     height: frame.y(0) - frame.y(Double(bin.count)), fill: bin.colour, cls: "bar",
                     title: "\(bin.label): \(bin.count) road users (\(ReportText.percent(share, decimals: 2)))")
            svg.text("\(ReportText.count(bin.count)) (\(ReportText.percent(share)))", x: x + slot / 2,
                     y: frame.y(Double(bin.count)) - 5, size: 11.5, anchor: .middle, bold: true, cls: "value")
            svg.text(bin.label, x: x + slot / 2, y: frame.y(0) + 18, size: 11.5, anchor: .middle)
        }
        svg.text("light-ahead ratio of the road user (1 = never a too-dark pole within stopping sight ahead)",
                 x: frame.x0 + frame.width / 2, y: frame.y(0) + 42, size: 12, anchor: .middle, cls: "axis-label")
        return svg.document(title: "Light-ahead ratio per road user, \(routeName)")
    }

    // MARK: - Dark exposure by pole

    static func darkByPole(_ seconds: [String: Double], route: Route) -> String {
        let width = 1000.0, height = 440.0
        var svg = SVGCanvas(width: width, height: height)
        let total = seconds.values.reduce(0, +)
        guard total > 0 else {
            header(&svg, title: "Dark exposure by pole", subtitle: "\(route.name): \(route.poles.count) poles, all nights", x: 70)
            svg.rect(x: 70, y: 80, width: width - 140, height: height - 140, fill: "#eef6ee", stroke: "#9ccc65",
                     strokeWidth: 1.5)
            svg.text("no dark exposure", x: width / 2, y: height / 2, size: 28, anchor: .middle, fill: "#2e7d32", bold: true,
                     cls: "empty")
            svg.text("no road user ever had a pole within stopping sight ahead below the presence level",
                     x: width / 2, y: height / 2 + 30, size: 13, anchor: .middle, fill: "#444")
            return svg.document(title: "Dark exposure by pole, \(route.name): none")
        }
        // Route order; ids not on the route (should not happen) go last.
        var items: [(id: String, seconds: Double)] = route.poles.map { ($0.id, seconds[$0.id] ?? 0) }
        let known = Set(route.poles.map(\.id))
        for (id, s) in seconds.sorted(by: { $0.key < $1.key }) where !known.contains(id) { items.append((id, s)) }
        let worst = items.max { $0.seconds < $1.seconds }!
        header(&svg, title: "Dark exposure by pole — all nights, \(route.name)",
               subtitle: "seconds in which the pole was below the presence level within a road user's stopping sight ahead; "
                   + "most at \(worst.id) (\(ReportText.duration(worst.seconds)))", x: 70)
        let frame = Frame(x0: 70, y0: 80, width: width - 70 - 24, height: height - 80 - 96,
                          ticks: ReportText.niceTicks(maximum: worst.seconds * 1.1, count: 5))
        frame.drawValueAxis(&svg, title: "dark seconds")
        let slot = frame.width / Double(items.count)
        let labelEvery = max(1, Int((14 / slot).rounded(.up)))
        for (i, item) in items.enumerated() {
            let x = frame.x0 + Double(i) * slot
            if item.seconds > 0 {
                let h = max(1, frame.y(0) - frame.y(item.seconds))  // a visible sliver even for a fraction of a second
                svg.rect(x: x + slot * 0.12, y: frame.y(0) - h, width: max(1, slot * 0.76), height: h,
                         fill: "#d32f2f", cls: "bar", title: "\(item.id): \(ReportText.duration(item.seconds))")
            }
            if i % labelEvery == 0 || item.seconds == worst.seconds {
                let lx = x + slot / 2, ly = frame.y(0) + 12
                if slot >= 40 {
                    svg.text(item.id, x: lx, y: ly + 4, size: 10.5, anchor: .middle)
                } else {
                    svg.text(item.id, x: lx, y: ly, size: 9.5, anchor: .end, rotate: -55)
                }
            }
        }
        svg.text("poles in route order (increasing chainage)", x: frame.x0 + frame.width / 2, y: height - 12, size: 12,
                 anchor: .middle, cls: "axis-label")
        return svg.document(title: "Dark exposure by pole, \(route.name)")
    }
}
