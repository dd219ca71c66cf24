import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import LightCore
import ProfileFormat
@testable import RouteSim
import Testing

@Suite("SimReport")
struct SimReportTests {
    // MARK: - Fixtures

    static let zone = ZoneRules(identifier: "Europe/Berlin")!
    static let date = LocalDate(year: 2026, month: 11, day: 23)

    static func local(_ date: LocalDate, _ h: Int, _ m: Int, _ s: Double = 0) -> Instant {
        zone.instant(on: date, secondsOfDay: Double(h * 3600 + m * 60) + s)
    }

    /// Three poles 35 m apart, a name that needs escaping, fixed switch times 18:00–06:00, 20 % base,
    /// presence at 100 %.
    static func profile(name: String = "Brandis & <Beucha>", poles count: Int = 3, spacing: Double = 35) -> Profile {
        let poles = (0..<count).map { i in
            Pole(id: "P\(i + 1)", chainage: Double(i) * spacing, position: GeoPoint(latitude: 51.33, longitude: 12.6),
                 luminaire: "led", sensors: [Sensor(id: "s", kind: .pir, facing: .increasing, range: 12)])
        }
        let route = Route(id: "test-route", name: name, timeZone: "Europe/Berlin",
                          location: GeoPoint(latitude: 51.33, longitude: 12.6),
                          luminaires: ["led": Luminaire(power: 24, standby: 0.5)], poles: poles)
        let program = Program(
            switchOn: .fixed(LocalTime(hour: 18, minute: 0)), switchOff: .fixed(LocalTime(hour: 6, minute: 0)),
            lightingClass: LightingClass("P5")!, steps: [BaseStep(start: .switchOn, level: 20)],
            stepRampSeconds: 30, presence: PresenceControl(level: 100, holdSeconds: 60))
        return Profile(version: 7, route: route, classMinimums: [LightingClass("P5")!: 20], safety: SafetySettings(),
                       calendar: ProgramCalendar(rules: [], defaultProgram: "night"), programs: ["night": program])
    }

    static func model(carsPerHour: Double = 0, pedestriansPerHour: Double = 0) -> SimulationModel {
        let sight = StoppingSight(minimum: 40, reactionSeconds: 2, deceleration: 4.4)
        let car = RoadUserModel(hourly: Array(repeating: carsPerHour, count: 24),
                                speed: SpeedDistribution(mean: 19, sd: 2, min: 12, max: 25), stopProbability: 0,
                                stopSeconds: 0...0, turnBackProbability: 0, sight: sight, approachMetres: 250)
        let pedestrian = RoadUserModel(hourly: Array(repeating: pedestriansPerHour, count: 24),
                                       speed: SpeedDistribution(mean: 1.3, sd: 0.2, min: 0.6, max: 2),
                                       stopProbability: 0.2, stopSeconds: 20...60, turnBackProbability: 0.1,
                                       sight: StoppingSight(minimum: 20, reactionSeconds: 1, deceleration: 1),
                                       approachMetres: 60)
        let kinds: [Sensor.Kind: Double] = [.pir: 0, .radar: 0]
        let sensors = SensorPhysics(
            missProbability: [.pir: [.pedestrian: 0.05, .cyclist: 0.05, .car: 0.3], .radar: [.pedestrian: 0, .cyclist: 0, .car: 0]],
            slowExtraMiss: kinds, slowSpeed: 1, falseTriggersPerHour: [.pir: 0.2, .radar: 0],
            holdSeconds: [.pir: 2.5, .radar: 1], angleDegrees: [.pir: 100, .radar: 80], lateralOffset: 2.5,
            seesStationary: false)
        return SimulationModel(name: "test world", source: "made up for tests", users: [.car: car, .pedestrian: pedestrian],
                               sensors: sensors, network: NetworkModel(latencyMedian: 0.08, latencyP95: 0.4, loss: 0),
                               co2GramsPerKWh: 380, co2Source: "UBA 2023 (test)")
    }

    /// A hand-made night: pole 1 boosted at 20:00 for a car coming from the start, poles 2 and 3
    /// left at the base level (so the car sees dark poles ahead), and a pedestrian who stops.
    static func handMadeNight(profile: Profile) -> NightRecord {
        let plan = NightPlan.make(for: profile, date: date)
        var marks: [Instant] = []
        var t = plan.windowStart
        while t <= plan.windowEnd { marks.append(t); t = t + 3600 }
        let hourly = (0..<(marks.count - 1)).map { i -> Double in
            let hour = Interval(marks[i].secondsSinceEpoch, marks[i + 1].secondsSinceEpoch)
            let lit = hour.intersection(Interval(plan.switchOn.secondsSinceEpoch, plan.switchOff.secondsSinceEpoch))?.length ?? 0
            return 3 * (0.5 * 3600 + 24 * 0.2 * lit) / 3600
        }
        let on = plan.switchOn, off = plan.switchOff
        let boost = local(date, 20, 0)
        func base() -> [LevelRamp] {
            [.steady(.off, since: plan.windowStart), LevelRamp(from: .off, to: 20, start: on, duration: 0.5),
             LevelRamp(from: 20, to: .off, start: off, duration: 0)]
        }
        var first = base()
        first.insert(contentsOf: [LevelRamp(from: 20, to: 100, start: boost, duration: 1),
                                  LevelRamp(from: 100, to: 20, start: boost + 90, duration: 20)], at: 2)
        let car = RoadUser(number: 1, kind: .car, entryDirection: .increasing, speed: 19,
                           legs: [RoadUser.Leg(start: boost - 10, end: boost - 10 + 570 / 19, x0: -250, velocity: 19, facing: .increasing)],
                           stopped: false, turnedBack: false)
        let walkStart = local(date, 20, 5)
        let pedestrian = RoadUser(number: 2, kind: .pedestrian, entryDirection: .decreasing, speed: 1.3, legs: [
            RoadUser.Leg(start: walkStart, end: walkStart + 60, x0: 130, velocity: -1.3, facing: .decreasing),
            RoadUser.Leg(start: walkStart + 60, end: walkStart + 100, x0: 52, velocity: 0, facing: .decreasing),
            RoadUser.Leg(start: walkStart + 100, end: walkStart + 100 + 112 / 1.3, x0: 52, velocity: -1.3, facing: .decreasing),
        ], stopped: true, turnedBack: false)
        return NightRecord(date: date, plan: plan, hourMarks: marks, hourlyEnergyWh: hourly,
                           energyWh: hourly.reduce(0, +), baselineFullWh: 3 * 24.5 * (off - on) / 3600,
                           baselineScheduleWh: 3 * (0.5 + 4.8) * (off - on) / 3600, users: [car, pedestrian],
                           timelines: [first, base(), base()], switchCycles: [2, 1, 1], events: 42)
    }

    static let command = "lichtweg sim Profiles/brandis-beucha.yaml --model Profiles/traffic/rural-night.yaml --nights 3 --seed 7 --report out/"

    struct Rendered {
        var files: [String: String]
        var summary: SimulationSummary
        var record: NightRecord
    }

    static func renderHandMade(name: String = "Brandis & <Beucha>", nights: Int = 1) -> Rendered {
        let profile = profile(name: name)
        let model = model()
        let record = handMadeNight(profile: profile)
        let analysis = record.lightAhead(profile: profile, model: model)
        var summary = SimulationSummary(profile: profile, model: model, seed: 7, from: date)
        for _ in 0..<nights { summary.add(record, analysis: analysis, profile: profile) }
        summary.finish(wallSeconds: 0.25)
        let files = SimReport.render(summary: summary, showcase: record, showcaseAnalysis: analysis,
                                     userRatios: analysis.users.map(\.ratio), profile: profile, model: model,
                                     command: command)
        return Rendered(files: Dictionary(files.map { ($0.name, $0.contents) }, uniquingKeysWith: { a, _ in a }),
                        summary: summary, record: record)
    }

    static let svgNames = ["space-time.svg", "space-time-zoom.svg", "hourly-energy.svg", "light-ahead.svg", "dark-by-pole.svg"]

    // MARK: - XML

    final class Collector: NSObject, XMLParserDelegate {
        struct Element { var name: String; var attributes: [String: String]; var text = "" }
        var elements: [Element] = []
        private var open: [Int] = []

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes attributeDict: [String: String]) {
            elements.append(Element(name: elementName, attributes: attributeDict))
            open.append(elements.count - 1)
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if let i = open.last { elements[i].text += string }
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
            open.removeLast()
        }

        func all(_ name: String, classPrefix: String? = nil) -> [Element] {
            elements.filter { e in
                e.name == name && (classPrefix.map { (e.attributes["class"] ?? "").hasPrefix($0) } ?? true)
            }
        }

        var texts: [String] { elements.filter { $0.name == "text" || $0.name == "title" }.map(\.text) }
    }

    /// The document's elements, or nil (with the parser's error recorded) when it is not well-formed XML.
    static func parse(_ xml: String) -> Collector? {
        let parser = XMLParser(data: Data(xml.utf8))
        let collector = Collector()
        parser.delegate = collector
        guard parser.parse() else {
            Issue.record("not well-formed: \(parser.parserError.map { "\($0)" } ?? "?") at line \(parser.lineNumber)")
            return nil
        }
        return collector
    }

    // MARK: - Tests

    @Test func rendersAllFilesAsWellFormedSVG() throws {
        let r = Self.renderHandMade()
        #expect(Set(r.files.keys) == Set(["report.md"] + Self.svgNames))
        if let dir = ProcessInfo.processInfo.environment["LICHTWEG_REPORT_DIR"] {
            try FileManager.default.createDirectory(atPath: dir + "/hand-made", withIntermediateDirectories: true)
            for (name, contents) in r.files { try contents.write(toFile: dir + "/hand-made/" + name, atomically: true, encoding: .utf8) }
        }
        for name in Self.svgNames {
            let svg = try #require(r.files[name])
            let doc = try #require(Self.parse(svg), "\(name)")
            let root = try #require(doc.elements.first)
            #expect(root.name == "svg", "\(name)")
            #expect(root.attributes["width"] != nil && root.attributes["height"] != nil, "\(name)")
            #expect(root.attributes["viewBox"]?.hasPrefix("0 0 ") == true, "\(name)")
            #expect(root.attributes["font-family"] == "sans-serif", "\(name)")
            #expect(doc.all("text", classPrefix: "axis-label").count >= 1, "\(name) has no axis label")
        }
    }

    @Test func spaceTimeHasUsersLampsAndLegends() throws {
        let r = Self.renderHandMade()
        let doc = try #require(Self.parse(r.files["space-time.svg"]!))
        let users = doc.all("polyline", classPrefix: "user ")
        #expect(users.count == 2)
        #expect(users.map { $0.attributes["class"]! }.sorted() == ["user car", "user pedestrian"])
        #expect(doc.all("g", classPrefix: "road-user").count == 2 + 1)  // one per user, plus the container
        // The car sees poles 2 and 3 at 20 % ahead: its dark moments are marked.
        #expect(!doc.all("polyline", classPrefix: "dark").isEmpty)
        // Legends: every level step and every kind.
        let legend = doc.all("text", classPrefix: "legend").map(\.text)
        for step in 0..<LevelPalette.steps { #expect(legend.contains(LevelPalette.label(step))) }
        for kind in RoadUserKind.allCases { #expect(legend.contains { $0.hasPrefix(kind.rawValue) }) }
        // Hour ticks in local time: 18:00 is switch-on (17:45 to 06:15 is drawn).
        let texts = doc.texts
        #expect(texts.contains("18:00") && texts.contains("00:00") && texts.contains("06:00"))
        #expect(texts.contains("switch-on 18:00") && texts.contains("switch-off 06:00"))
        // Pole labels.
        for pole in ["P1", "P2", "P3"] { #expect(texts.contains(pole)) }
        // Lamp runs exist in the bands: the base level and the boost.
        let fills = Set(doc.all("path", classPrefix: "lamp").compactMap { $0.attributes["stroke"] })
        #expect(fills.contains(LevelPalette.colours[2]))
        #expect(fills.contains(LevelPalette.colours[10]) || fills.contains(LevelPalette.colours[9]))
        // The SVG stays small.
        #expect(doc.elements.count < 2_000)
    }

    @Test func zoomShowsTheBusyHalfHour() throws {
        let r = Self.renderHandMade()
        let doc = try #require(Self.parse(r.files["space-time-zoom.svg"]!))
        // The busiest half hour contains both road users (20:00–20:07).
        #expect(doc.all("polyline", classPrefix: "user ").count == 2)
        let title = doc.all("text").first { $0.text.hasPrefix("Busiest 30 minutes") }
        let text = try #require(title?.text)
        // Its window starts at most 30 min before the car and ends after it.
        #expect(text.contains("19:") || text.contains("20:"))
        // The boost is wide enough here to be drawn at full output.
        let fills = Set(doc.all("path", classPrefix: "lamp").compactMap { $0.attributes["stroke"] })
        #expect(fills.contains(LevelPalette.colours[10]))
    }

    @Test func hourlyEnergyHasOneBarPerHour() throws {
        let r = Self.renderHandMade()
        let doc = try #require(Self.parse(r.files["hourly-energy.svg"]!))
        #expect(doc.all("rect", classPrefix: "bar").count == r.record.hourlyEnergyWh.count)
        #expect(doc.all("rect", classPrefix: "baseline").count == r.record.hourlyEnergyWh.count)
        #expect(r.record.hourlyEnergyWh.count == 24)
        let texts = doc.texts
        #expect(texts.contains("12:00") && texts.contains("energy per hour (Wh)"))
        // The full-light reference: 3 × 24.5 W for a lit hour, 3 × 0.5 W by day.
        let baseline = Charts.hourlyFullLight(record: r.record, profile: Self.profile())
        #expect(abs(baseline[8] - 73.5) < 1e-9)  // 20:00–21:00
        #expect(abs(baseline[0] - 1.5) < 1e-9)   // 12:00–13:00
        #expect(abs(baseline.reduce(0, +) - (r.record.baselineFullWh + 12 * 1.5)) < 1e-6)
    }

    @Test func lightAheadHistogramBins() throws {
        let ratios = [0.5, 0.92, 0.97, 0.995, 1, 1, 1, 1]
        let bins = Charts.ratioBins(ratios)
        #expect(bins.map(\.count) == [1, 1, 1, 1, 4])
        let doc = try #require(Self.parse(Charts.lightAhead(ratios: ratios, routeName: "R & <S>")))
        #expect(doc.all("rect", classPrefix: "bar").count == 5)
        let values = doc.all("text", classPrefix: "value").map(\.text)
        #expect(values.contains("4 (50.0 %)"))
        #expect(doc.texts.contains("= 1 (always lit)"))
        #expect(doc.texts.contains("< 0.90"))
    }

    @Test func darkByPoleBarsOrNone() throws {
        let profile = Self.profile()
        let some = try #require(Self.parse(Charts.darkByPole(["P2": 3.5, "P3": 1.25], route: profile.route)))
        #expect(some.all("rect", classPrefix: "bar").count == 2)
        #expect(some.texts.contains("P1") && some.texts.contains("P3"))
        let none = try #require(Self.parse(Charts.darkByPole([:], route: profile.route)))
        #expect(none.all("rect", classPrefix: "bar").isEmpty)
        #expect(none.texts.contains("no dark exposure"))
    }

    @Test func markdownLinksEveryPictureAndHasTheFigures() throws {
        let r = Self.renderHandMade()
        let md = try #require(r.files["report.md"])
        for name in Self.svgNames { #expect(md.contains("](\(name))"), "\(name) not linked") }
        #expect(md.contains(Self.command))
        #expect(md.contains("profile version 7"))
        let s = r.summary
        #expect(s.darkExposureSeconds > 0)
        #expect(md.contains(ReportText.number(s.energyKWh, decimals: 3) + " kWh"))
        #expect(md.contains(ReportText.number(s.baselineFullKWh, decimals: 3) + " kWh"))
        #expect(md.contains(ReportText.percent(s.savingsVsFull)))
        #expect(md.contains(ReportText.percent(s.savingsVsSchedule)))
        #expect(md.contains("UBA 2023 (test)"))
        #expect(md.contains("380 g/kWh"))
        #expect(md.contains(ReportText.number(s.lightAheadRatio, decimals: 5)))
        #expect(md.contains("car 1") && md.contains("pedestrian 1"))
        #expect(md.contains("max 2"))
        #expect(md.contains("## Worst-case road user") && md.contains("A **pedestrian**"))
        #expect(md.contains("Dark exposure") && md.contains("Light-ahead ratio"))
        #expect(md.contains("| 2026-11-23 | night | 18:00 | 06:00 | 2 |"))
        #expect(!md.contains("not shown"))
    }

    @Test func namesAreEscaped() throws {
        let r = Self.renderHandMade(name: "Brandis & <Beucha> \"Nord\"")
        for name in Self.svgNames {
            let svg = r.files[name]!
            #expect(!svg.contains("Brandis & <Beucha>"), "\(name)")
            _ = try #require(Self.parse(svg), "\(name)")
        }
        #expect(r.files["space-time.svg"]!.contains("Brandis &amp; &lt;Beucha&gt; &quot;Nord&quot;"))
        let md = r.files["report.md"]!
        #expect(md.contains("# Lichtweg simulation: Brandis &amp; &lt;Beucha&gt; \"Nord\", profile version 7"))
        #expect(!md.contains("<Beucha>"))
    }

    @Test func longRunsAbbreviateTheNightTable() {
        let r = Self.renderHandMade(nights: 40)
        let md = r.files["report.md"]!
        let rows = md.split(separator: "\n").filter { $0.hasPrefix("| 2026-11-23 |") }
        #expect(rows.count == 20)
        #expect(md.contains("20 nights not shown"))
    }

    @Test func quietUnlitNightWithoutPresenceStillRenders() throws {
        // Switch-on equals switch-off (the lamps never come on), no presence control, nobody on the road.
        var profile = Self.profile(name: "Quiet")
        profile.programs["night"]!.switchOff = .fixed(LocalTime(hour: 18, minute: 0))
        profile.programs["night"]!.presence = nil
        let model = Self.model()
        var simulator = RouteSimulator(profile: profile, model: model, seed: 3)
        let record = simulator.simulateNight(Self.date)
        #expect(record.users.isEmpty)
        let analysis = record.lightAhead(profile: profile, model: model)
        let summary = SimulationSummary(profile: profile, model: model, seed: 3, from: Self.date)
        let files = SimReport.render(summary: summary, showcase: record, showcaseAnalysis: analysis, userRatios: [],
                                     profile: profile, model: model, command: "lichtweg sim quiet")
        #expect(files.count == 6)
        for file in files where file.name.hasSuffix(".svg") {
            let doc = try #require(Self.parse(file.contents), "\(file.name)")
            #expect(doc.all("polyline", classPrefix: "user ").isEmpty)
        }
        let md = try #require(files.first { $0.name == "report.md" }?.contents)
        #expect(md.contains("no dark exposure in this run"))
    }

    @Test func meanLevelsIntegrateRampsExactly() {
        let t0 = Instant(secondsSinceEpoch: 1_000)
        let timeline = [LevelRamp.steady(20, since: t0), LevelRamp(from: 20, to: 100, start: t0 + 10, duration: 10),
                        LevelRamp(from: 100, to: 0, start: t0 + 30, duration: 0)]
        let means = SpaceTimeDiagram.meanLevels(timeline, from: 1_000, to: 1_040, columns: 4)
        #expect(means.map { ($0 * 1000).rounded() / 1000 } == [20, 60, 100, 0])
        let halves = SpaceTimeDiagram.meanLevels(timeline, from: 995, to: 1_005, columns: 2)
        #expect(halves == [20, 20])  // before the first ramp: its starting level
    }

    @Test func clockTicksFollowLocalTimeAcrossDST() {
        // The night of 2026-10-24/25: clocks go back at 03:00 CEST → 02:00 CET.
        let date = LocalDate(year: 2026, month: 10, day: 24)
        let from = Self.local(date, 22, 10)
        let to = Self.local(date.adding(days: 1), 5, 0)
        let labels = ReportText.clockTicks(from: from, to: to, step: 3600, zone: Self.zone).map { ReportText.clock($0, Self.zone) }
        #expect(labels == ["23:00", "00:00", "01:00", "02:00", "02:00", "03:00", "04:00", "05:00"])
    }

    @Test func simulatedNightRenders() throws {
        let profile = Self.profile(name: "Simulated road", poles: 12, spacing: 33)
        let model = Self.model(carsPerHour: 4, pedestriansPerHour: 2)
        var simulator = RouteSimulator(profile: profile, model: model, seed: 11)
        let record = simulator.simulateNight(Self.date)
        let analysis = record.lightAhead(profile: profile, model: model)
        var summary = SimulationSummary(profile: profile, model: model, seed: 11, from: Self.date)
        summary.add(record, analysis: analysis, profile: profile)
        summary.finish(wallSeconds: 0.1)
        let files = SimReport.render(summary: summary, showcase: record, showcaseAnalysis: analysis,
                                     userRatios: analysis.users.map(\.ratio), profile: profile, model: model,
                                     command: "lichtweg sim test")
        #expect(files.count == 6)
        let byName = Dictionary(files.map { ($0.name, $0.contents) }, uniquingKeysWith: { a, _ in a })
        let doc = try #require(Self.parse(byName["space-time.svg"]!))
        let plan = record.plan
        let inWindow = record.users.filter { $0.departure > plan.switchOn - 900 && $0.arrival < plan.switchOff + 900 }
        #expect(!inWindow.isEmpty)
        #expect(doc.all("polyline", classPrefix: "user ").count == inWindow.count)
        for name in Self.svgNames { _ = try #require(Self.parse(byName[name]!), "\(name)") }
        let hourly = try #require(Self.parse(byName["hourly-energy.svg"]!))
        #expect(hourly.all("rect", classPrefix: "bar").count == record.hourlyEnergyWh.count)
    }

    /// With `LICHTWEG_REPORT_DIR` set: simulates a winter night of the Brandis–Beucha pilot route
    /// (50 poles) with the rural-night model, writes the report there and prints the file sizes.
    @Test func pilotRouteReportSize() throws {
        guard let dir = ProcessInfo.processInfo.environment["LICHTWEG_REPORT_DIR"] else { return }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let profileText = try String(contentsOf: root.appendingPathComponent("Profiles/brandis-beucha.yaml"), encoding: .utf8)
        let modelText = try String(contentsOf: root.appendingPathComponent("Profiles/traffic/rural-night.yaml"), encoding: .utf8)
        let profile = try ProfileLoader.load(profileText, file: "brandis-beucha.yaml").get()
        let model = try SimulationModelLoader.load(modelText, file: "rural-night.yaml").get()
        let first = LocalDate(year: 2026, month: 12, day: 14)
        var simulator = RouteSimulator(profile: profile, model: model, seed: 1)
        var summary = SimulationSummary(profile: profile, model: model, seed: 1, from: first)
        var ratios: [Double] = []
        var best: (NightRecord, LightAheadAnalysis)?
        let started = Date()
        let nights = Int(ProcessInfo.processInfo.environment["LICHTWEG_REPORT_NIGHTS"] ?? "") ?? 1
        for d in 0..<nights {
            let record = simulator.simulateNight(first.adding(days: d))
            let analysis = record.lightAhead(profile: profile, model: model)
            summary.add(record, analysis: analysis, profile: profile)
            ratios += analysis.users.map(\.ratio)
            if analysis.darkSeconds >= (best?.1.darkSeconds ?? -1) { best = (record, analysis) }
        }
        summary.finish(wallSeconds: Date().timeIntervalSince(started))
        let renderStart = Date()
        let files = SimReport.render(summary: summary, showcase: best!.0, showcaseAnalysis: best!.1, userRatios: ratios,
                                     profile: profile, model: model,
                                     command: "lichtweg sim Profiles/brandis-beucha.yaml --model Profiles/traffic/rural-night.yaml --from 2026-12-14 --nights \(nights) --seed 1")
        let renderSeconds = Date().timeIntervalSince(renderStart)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for file in files {
            try file.contents.write(toFile: dir + "/" + file.name, atomically: true, encoding: .utf8)
            let elements = file.name.hasSuffix(".svg") ? (Self.parse(file.contents)?.elements.count ?? -1) : 0
            print("report file \(file.name): \(file.contents.utf8.count) bytes, \(elements) elements")
        }
        print("render took \(renderSeconds) s; showcase users \(best!.0.users.count)")
    }
}
