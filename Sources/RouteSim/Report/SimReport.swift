import LightCore

/// The simulator's report: a Markdown page with the key figures and SVG pictures of one night and
/// of the whole run. Pure rendering: the caller writes the files.
public enum SimReport {
    public static let markdownName = "report.md"
    public static let spaceTimeName = "space-time.svg"
    public static let spaceTimeZoomName = "space-time-zoom.svg"
    public static let hourlyEnergyName = "hourly-energy.svg"
    public static let lightAheadName = "light-ahead.svg"
    public static let darkByPoleName = "dark-by-pole.svg"

    /// Length of the zoomed space–time picture.
    static let zoomSeconds = 1800.0
    /// Margin of the night's picture before switch-on and after switch-off.
    static let marginSeconds = 900.0

    /// The report's files: "report.md" and the SVGs it links ("space-time.svg",
    /// "space-time-zoom.svg", "hourly-energy.svg", "light-ahead.svg", "dark-by-pole.svg").
    ///
    /// - Parameters:
    ///   - showcase: one night of the run to picture (e.g. the one with the most dark exposure).
    ///   - showcaseAnalysis: its light-ahead analysis.
    ///   - userRatios: the light-ahead ratio of every simulated road user of the run (0…1).
    ///   - command: the command line that produced the run, printed so the run can be repeated.
    public static func render(summary: SimulationSummary, showcase: NightRecord, showcaseAnalysis: LightAheadAnalysis,
                              userRatios: [Double], profile: Profile, model: SimulationModel,
                              command: String) -> [(name: String, contents: String)] {
        let zone = ZoneRules(identifier: profile.route.timeZone) ?? .utc
        let plan = showcase.plan
        let routeName = profile.route.name

        // The night, and its busiest half hour.
        let from = plan.switchOn - marginSeconds
        let to = plan.switchOff + marginSeconds
        let zoomFrom = SpaceTimeDiagram.busiestWindow(record: showcase, route: profile.route, from: from, to: to,
                                                      length: zoomSeconds)
            ?? min(max(from, plan.switchOn - 300), to - zoomSeconds)
        let zoomTo = min(to, zoomFrom + zoomSeconds)
        let zoomUsers = showcase.users.filter { $0.departure > zoomFrom && $0.arrival < zoomTo }.count
        let nightDark = showcaseAnalysis.darkSeconds

        var night = SpaceTimeDiagram(
            record: showcase, analysis: showcaseAnalysis, profile: profile, model: model, zone: zone, from: from, to: to,
            title: "Lamps and road users, night beginning \(showcase.date) — \(routeName)",
            subtitle: "program \(plan.programName) · switch-on \(ReportText.clock(plan.switchOn, zone)) · switch-off "
                + "\(ReportText.clock(plan.switchOff, zone)) · \(showcase.users.count) road users · dark ahead "
                + "\(ReportText.duration(nightDark))")
        let spaceTime = night.render()
        night.from = zoomFrom
        night.to = zoomTo
        night.title = "Busiest 30 minutes, \(ReportText.clock(zoomFrom, zone))–\(ReportText.clock(zoomTo, zone)) — \(routeName)"
        night.subtitle = "night beginning \(showcase.date) · \(zoomUsers) road users in this window · each band one pole, "
            + "its colour the lamp's output"
        let zoom = night.render()

        let hourly = Charts.hourlyEnergy(record: showcase, profile: profile, zone: zone)
        let ratios = Charts.lightAhead(ratios: userRatios, routeName: routeName)
        let byPole = Charts.darkByPole(summary.darkSecondsByPole, route: profile.route)

        let markdown = self.markdown(
            summary: summary, showcase: showcase, analysis: showcaseAnalysis, userRatios: userRatios, profile: profile,
            model: model, command: command, zone: zone, zoom: (zoomFrom, zoomTo, zoomUsers))
        return [
            (markdownName, markdown),
            (spaceTimeName, spaceTime),
            (spaceTimeZoomName, zoom),
            (hourlyEnergyName, hourly),
            (lightAheadName, ratios),
            (darkByPoleName, byPole),
        ]
    }

    // MARK: - Markdown

    static func markdown(summary s: SimulationSummary, showcase: NightRecord, analysis: LightAheadAnalysis,
                         userRatios: [Double], profile: Profile, model: SimulationModel, command: String,
                         zone: ZoneRules, zoom: (from: Instant, to: Instant, users: Int)) -> String {
        typealias T = ReportText
        let md = T.markdown
        let route = profile.route
        var out: [String] = []
        func kwh(_ v: Double) -> String { T.number(v, decimals: v >= 100 ? 1 : 3, grouped: true) + " kWh" }

        out.append("# Lichtweg simulation: \(md(route.name)), profile version \(s.profileVersion)")
        out.append("")
        out.append("Route `\(inlineCode(route.id))` · \(route.poles.count) poles over "
            + "\(T.number(route.length, decimals: 0, grouped: true)) m · time zone \(md(route.timeZone))  ")
        out.append("Model: \(md(s.model))\(s.idealSensors ? " (ideal sensors)" : "") · seed \(s.seed) · "
            + "\(s.nights) night\(s.nights == 1 ? "" : "s") from \(md(s.from))")
        out.append("")
        out.append("Produced by:")
        out.append("")
        out.append(T.codeBlock(command))
        out.append("")

        // Key figures.
        out.append("## Key figures")
        out.append("")
        out.append("| figure | value |")
        out.append("|---|---|")
        out.append("| energy, switch-on to switch-off | **\(kwh(s.energyKWh))** |")
        out.append("| full-light baseline | \(kwh(s.baselineFullKWh)) — saving **\(T.percent(s.savingsVsFull))** |")
        out.append("| schedule baseline (no presence control) | \(kwh(s.baselineScheduleKWh)) — saving "
            + "**\(T.percent(s.savingsVsSchedule))** |")
        out.append("| CO2 | \(T.number(s.co2Kg, decimals: 2, grouped: true)) kg at \(T.number(s.co2GramsPerKWh, decimals: 0)) g/kWh; "
            + "saved vs full light \(T.number(s.co2SavedVsFullKg, decimals: 2, grouped: true)) kg |")
        out.append("| CO2 factor source | \(md(s.co2Source)) |")
        out.append("| dark exposure | **\(T.duration(s.darkExposureSeconds))** of \(T.duration(s.exposedSeconds)) "
            + "road-user time with a pole in sight; \(T.count(s.usersWithDarkness)) road user"
            + "\(s.usersWithDarkness == 1 ? "" : "s") affected |")
        out.append("| light-ahead ratio | **\(T.number(s.lightAheadRatio, decimals: 5))** "
            + "(\(T.percent(s.lightAheadRatio, decimals: 3))) |")
        let totalUsers = s.usersByKind.values.reduce(0, +)
        let byKind = RoadUserKind.allCases.map { "\($0.rawValue) \(T.count(s.usersByKind[$0.rawValue] ?? 0))" }
            + s.usersByKind.keys.filter { RoadUserKind(rawValue: $0) == nil }.sorted().map { "\(md($0)) \(s.usersByKind[$0]!)" }
        out.append("| road users | \(T.count(totalUsers)) (\(byKind.joined(separator: ", "))) |")
        out.append("| switching cycles per lamp and night | mean \(T.number(s.switchCyclesPerLampNight, decimals: 1)), "
            + "max \(s.maxSwitchCyclesPerLampNight) |")
        out.append("| events | \(T.count(s.events)) (\(T.number(s.eventsPerSecond, decimals: 0, grouped: true)) per wall second) |")
        out.append("| simulated time | \(T.duration(s.simulatedSeconds)) |")
        out.append("| wall time | \(T.number(s.wallSeconds, decimals: 2)) s |")
        out.append("| speed-up | \(T.number(s.speedup, decimals: 0, grouped: true)) × real time |")
        out.append("")

        // Worst case.
        out.append("## Worst-case road user")
        out.append("")
        if let w = s.worstUser {
            var what: [String] = []
            if w.stopped { what.append("stopped on the way") }
            if w.turnedBack { what.append("turned back") }
            out.append("A **\(md(w.kind))** in the night beginning \(md(w.night)), entering at \(md(w.entered)) from the "
                + "\(md(w.from)) at \(T.number(w.speedKmh, decimals: 1)) km/h\(what.isEmpty ? "" : " (" + what.joined(separator: ", ") + ")"), "
                + "had a too-dark pole within stopping sight ahead for **\(T.duration(w.darkSeconds))** "
                + "(light-ahead ratio \(T.number(w.lightAheadRatio, decimals: 4))).")
        } else {
            out.append("No road user had a too-dark pole within stopping sight ahead: no dark exposure in this run.")
        }
        out.append("")

        // How to read.
        out.append("## How to read this")
        out.append("")
        out.append("- **Dark exposure** is the number of seconds in which a road user had a pole within their stopping "
            + "sight distance ahead (in the way they face) whose lamp was below the profile's presence level. It includes "
            + "the approach from outside the route, when the first poles come into sight. The stopping sight distance "
            + "depends on the kind of road user and their speed (reaction distance plus braking distance, with a minimum). "
            + "Nights whose program has no presence control have no presence level and therefore no dark exposure.")
        out.append("- **Light-ahead ratio** is the share of road-user seconds with the whole sight distance lit, counted "
            + "over the time in which at least one pole was within sight ahead. 1 means nobody ever looked at a too-dark pole.")
        out.append("- **Full-light baseline** is the same lamps at 100 % from switch-on to switch-off; the **schedule "
            + "baseline** is the profile's dimming schedule with nobody on the road and no presence control. Both use the "
            + "same switch times and luminaire powers (standby included) as the simulated lamps.")
        out.append("- **Switching cycles** count the times a lamp was raised to a higher level, per lamp and night.")
        out.append("- **CO2** is the simulated energy times the emission factor above.")
        out.append("")

        // Pictures.
        let plan = showcase.plan
        out.append("## Pictures")
        out.append("")
        out.append("The first three pictures show one night, beginning \(showcase.date) (program \(md(plan.programName)), "
            + "switch-on \(T.clock(plan.switchOn, zone)), switch-off \(T.clock(plan.switchOff, zone)), "
            + "\(showcase.users.count) road users, \(T.duration(analysis.darkSeconds)) dark exposure, "
            + "\(kwh(showcase.energyWh / 1000))). The last two cover every night of the run.")
        out.append("")
        out.append("![Space-time diagram of the night](\(spaceTimeName))")
        out.append("")
        out.append("*Space-time diagram, \(T.clock(plan.switchOn - marginSeconds, zone))–\(T.clock(plan.switchOff + marginSeconds, zone)): "
            + "time runs to the right, the road upwards. Each horizontal band is one pole; its colour is the lamp's output "
            + "(dark = off, yellow = 100 %). Each line is a road user (blue pedestrian, pink cyclist, white car); a steeper "
            + "line is a faster road user, a horizontal piece one who stands. Red pieces mark where a road user had a "
            + "too-dark pole within stopping sight ahead.*")
        out.append("")
        out.append("![Space-time diagram of the busiest half hour](\(spaceTimeZoomName))")
        out.append("")
        out.append("*The busiest 30 minutes of that night, \(T.clock(zoom.from, zone))–\(T.clock(zoom.to, zone)) "
            + "(\(zoom.users) road users): the light should travel with every road user, ahead of them.*")
        out.append("")
        out.append("![Energy per hour](\(hourlyEnergyName))")
        out.append("")
        out.append("*Energy of the whole route in each hour of that night (orange), against the same lamps at full output "
            + "while the schedule has them on (grey). Daytime hours show the controllers' standby only.*")
        out.append("")
        out.append("![Light-ahead ratio per road user](\(lightAheadName))")
        out.append("")
        let bins = Charts.ratioBins(userRatios)
        out.append("*How many of the \(T.count(userRatios.count)) road users of the run had light ahead all the time "
            + "(\(bins.map { "\(md($0.label)): \(T.count($0.count))" }.joined(separator: "; "))).*")
        out.append("")
        out.append("![Dark exposure by pole](\(darkByPoleName))")
        out.append("")
        if s.darkSecondsByPole.isEmpty {
            out.append("*Where dark exposure happens along the route: nowhere in this run.*")
        } else {
            let worst = s.darkSecondsByPole.sorted { $0.value > $1.value }.prefix(3)
                .map { "\(md($0.key)) \(T.duration($0.value))" }
            out.append("*Where the remaining dark seconds happen along the route, by the pole that was too dark (most: "
                + "\(worst.joined(separator: ", "))). A second in which two poles ahead were too dark counts for both, "
                + "so the bars can add up to more than the dark exposure.*")
        }
        out.append("")

        // Per night.
        out.append("## Nights")
        out.append("")
        out.append("| night | program | switch-on | switch-off | road users | energy kWh | full kWh | schedule kWh | "
            + "saving vs full | dark s | light ahead | cycles/lamp | events |")
        out.append("|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        func row(_ n: SimulationSummary.Night) -> String {
            let saving = n.baselineFullKWh > 0 ? 1 - n.energyKWh / n.baselineFullKWh : 0
            return "| \(md(n.date)) | \(md(n.program)) | \(clockPart(n.switchOn)) | \(clockPart(n.switchOff)) | \(n.users) | "
                + "\(T.number(n.energyKWh, decimals: 3)) | \(T.number(n.baselineFullKWh, decimals: 3)) | "
                + "\(T.number(n.baselineScheduleKWh, decimals: 3)) | \(T.percent(saving)) | "
                + "\(T.number(n.darkExposureSeconds, decimals: 1)) | \(T.number(n.lightAheadRatio, decimals: 5)) | "
                + "\(T.number(n.switchCyclesPerLamp, decimals: 1)) | \(T.count(n.events)) |"
        }
        let nights = s.perNight
        if nights.count > 31 {
            nights.prefix(10).forEach { out.append(row($0)) }
            out.append("| … | \(nights.count - 20) nights not shown | | | | | | | | | | | |")
            nights.suffix(10).forEach { out.append(row($0)) }
            out.append("")
            out.append("\(nights.count) nights in all; the first and the last 10 are shown (the CLI's JSON output has every night).")
        } else {
            nights.forEach { out.append(row($0)) }
        }
        out.append("")
        out.append("Simulation model source: \(md(model.source))")
        out.append("")
        return out.joined(separator: "\n")
    }

    /// `HH:MM` of an ISO 8601 timestamp with offset (the whole text if it is not one).
    static func clockPart(_ iso: String) -> String {
        guard let t = iso.firstIndex(of: "T") else { return ReportText.markdown(iso) }
        return ReportText.markdown(String(iso[iso.index(after: t)...].prefix(5)))
    }

    /// Text for inside a single-backtick code span.
    static func inlineCode(_ text: String) -> String { String(text.map { $0 == "`" ? "'" : $0 }) }
}
