import Foundation
import LightCore
import ProfileFormat
import RouteSim
import Testing

@Suite("SimulationModelLoader")
struct SimulationModelLoaderTests {
    // MARK: - Fixtures

    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let trafficDir = packageRoot.appendingPathComponent("Profiles/traffic")
    static let ruralPath = trafficDir.appendingPathComponent("rural-night.yaml").path

    static func ruralText() throws -> String {
        try String(contentsOfFile: ruralPath, encoding: .utf8)
    }

    /// `text` with `old` (which must occur exactly once) replaced by `new`.
    static func replacing(_ old: String, with new: String, in text: String,
                          sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let parts = text.components(separatedBy: old)
        try #require(parts.count == 2, "'\(old)' occurs \(parts.count - 1) times in the fixture", sourceLocation: sourceLocation)
        return parts.joined(separator: new)
    }

    /// The 1-based line of the only line containing `needle`.
    static func line(of needle: String, in text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let hits = lines.indices.filter { lines[$0].contains(needle) }
        try #require(hits.count == 1, "'\(needle)' is on \(hits.count) lines", sourceLocation: sourceLocation)
        return hits[0] + 1
    }

    static func modelProblems(_ text: String, file: String = "model.yaml",
                              sourceLocation: SourceLocation = #_sourceLocation) throws -> [ProfileDiagnostic] {
        switch SimulationModelLoader.load(text, file: file) {
        case .success:
            Issue.record("the model was accepted", sourceLocation: sourceLocation)
            return []
        case let .failure(problems):
            return problems.diagnostics
        }
    }

    static func countProblems(_ text: String, file: String = "count.csv",
                              sourceLocation: SourceLocation = #_sourceLocation) throws -> [ProfileDiagnostic] {
        switch SimulationModelLoader.loadCounts(text, file: file) {
        case let .success(counts):
            Issue.record("the counts were accepted: \(counts)", sourceLocation: sourceLocation)
            return []
        case let .failure(problems):
            return problems.diagnostics
        }
    }

    // MARK: - The shipped model

    @Test("rural-night.yaml loads with the values written in it")
    func ruralNightLoads() throws {
        let model = try SimulationModelLoader.load(try Self.ruralText(), file: Self.ruralPath).get()
        #expect(model.name == "rural connecting road, weekday night (Partheland estimate)")
        #expect(model.source.hasPrefix("Lichtweg estimate for a Kreisstraße"))
        #expect(Set(model.users.keys) == Set(RoadUserKind.allCases))

        let pedestrian = try #require(model.users[.pedestrian])
        #expect(pedestrian.hourly.count == 24)
        #expect(pedestrian.hourly.first == 0.6)
        #expect(pedestrian.hourly[17] == 6.0)
        #expect(pedestrian.hourly.last == 1.0)
        #expect(pedestrian.speed == SpeedDistribution(mean: 1.3, sd: 0.25, min: 0.5, max: 2.2))
        #expect(pedestrian.stopProbability == 0.10)
        #expect(pedestrian.stopSeconds == 20...180)
        #expect(pedestrian.turnBackProbability == 0.08)
        #expect(pedestrian.sight == StoppingSight(minimum: 20, reactionSeconds: 1.0, deceleration: 1.0))
        #expect(pedestrian.approachMetres == 60)

        let car = try #require(model.users[.car])
        #expect(car.hourly.count == 24)
        #expect(car.hourly[7] == 60)
        #expect(car.speed.mean == 19.0)
        #expect(car.speed.max == 25.0)
        // Optional fields left out default to "never".
        #expect(car.stopProbability == 0)
        #expect(car.stopSeconds == 0...0)
        #expect(car.turnBackProbability == 0.01)
        #expect(car.approachMetres == 250)

        #expect(model.users[.cyclist]?.speed.mean == 5.0)

        #expect(model.sensors.missProbability[.pir]?[.car] == 0.30)
        #expect(model.sensors.missProbability[.radar]?[.cyclist] == 0.02)
        #expect(model.sensors.slowExtraMiss[.radar] == 0.25)
        #expect(model.sensors.slowSpeed == 1.0)
        #expect(model.sensors.falseTriggersPerHour[.pir] == 0.3)
        #expect(model.sensors.holdSeconds[.radar] == 1.0)
        #expect(model.sensors.angleDegrees[.pir] == 100)
        #expect(model.sensors.lateralOffset == 2.5)
        #expect(model.sensors.seesStationary == false)
        #expect(model.sensors.ideal == false)

        #expect(model.network == NetworkModel(latencyMedian: 0.08, latencyP95: 0.40, loss: 0.005))
        #expect(model.co2GramsPerKWh == 380)
        #expect(model.co2Source.contains("Umweltbundesamt"))
    }

    @Test("a network of measured latencies: the notices' latencies are those, their median and p95 the samples'")
    func measuredLatencies() throws {
        let text = try Self.replacing("  latencyMedianSeconds: 0.08\n  latencyP95Seconds: 0.40\n",
                                      with: "  latencySamplesSeconds: [1.2, 0.61, 0.62, 2.4, 0.6]\n", in: try Self.ruralText())
        let model = try SimulationModelLoader.load(text, file: "measured.yaml").get()
        #expect(model.network.latencySamples == [0.6, 0.61, 0.62, 1.2, 2.4])
        #expect(model.network.latencyMedian == 0.62)
        #expect(model.network.latencyP95 == 2.4)
        #expect(model.network.loss == 0.005)
    }

    @Test("every shipped traffic model loads")
    func shippedModelsLoad() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.trafficDir.path).filter { $0.hasSuffix(".yaml") }
        #expect(names.contains("rural-night.yaml"))
        for name in names {
            let path = Self.trafficDir.appendingPathComponent(name).path
            let text = try String(contentsOfFile: path, encoding: .utf8)
            switch SimulationModelLoader.load(text, file: path) {
            case let .success(model): #expect(!model.users.isEmpty, "\(name)")
            case let .failure(problems): Issue.record("\(name): \(problems)")
            }
        }
    }

    // MARK: - Bad models: line and field path

    struct BadModel: CustomTestStringConvertible, Sendable {
        var label: String
        var old: String
        var new: String
        /// Text on the line the diagnostic must point at (in the changed document).
        var lineWith: String
        var path: String
        var message: [String]
        var testDescription: String { label }
    }

    static let badModels: [BadModel] = [
        BadModel(label: "unknown key in sensors", old: "  slowSpeed: 1.0\n", new: "  slowSpeed: 1.0\n  slowSpeeds: 2\n",
                 lineWith: "slowSpeeds:", path: "sensors.slowSpeeds", message: ["unknown key 'slowSpeeds'", "did you mean 'slowSpeed'"]),
        BadModel(label: "unknown key at the top", old: "co2:\n", new: "colour: red\nco2:\n",
                 lineWith: "colour: red", path: "colour", message: ["unknown key 'colour'"]),
        BadModel(label: "unknown road-user kind", old: "users:\n", new: "users:\n  tractor:\n    hourly: [1]\n",
                 lineWith: "tractor:", path: "users.tractor", message: ["unknown key 'tractor'"]),
        BadModel(label: "hourly with 23 values", old: "hourly: [3, 2, 1, 1, ", new: "hourly: [2, 1, 1, ",
                 lineWith: "hourly: [2, 1, 1, ", path: "users.car.hourly", message: ["24", "found 23"]),
        BadModel(label: "hourly with 25 values", old: "hourly: [0.5, 0.2,", new: "hourly: [0.5, 0.5, 0.2,",
                 lineWith: "hourly: [0.5, 0.5, 0.2,", path: "users.cyclist.hourly", message: ["24", "found 25"]),
        BadModel(label: "negative hourly count", old: "hourly: [0.6, 0.3,", new: "hourly: [0.6, -0.3,",
                 lineWith: "hourly: [0.6, -0.3,", path: "users.pedestrian.hourly[1]", message: ["-0.3/h is out of range"]),
        BadModel(label: "negative speed", old: "min: 11.0, max: 25.0", new: "min: -11.0, max: 25.0",
                 lineWith: "min: -11.0", path: "users.car.speed.min", message: ["-11.0 m/s is out of range 0–100 m/s"]),
        BadModel(label: "speed min above max", old: "{mean: 5.0, sd: 1.2, min: 2.5, max: 9.0}",
                 new: "{mean: 5.0, sd: 1.2, min: 9.5, max: 9.0}",
                 lineWith: "min: 9.5", path: "users.cyclist.speed", message: ["0 < min ≤ mean ≤ max", "min 9.5", "max 9.0"]),
        BadModel(label: "speed mean outside min–max", old: "{mean: 1.3, sd: 0.25, min: 0.5, max: 2.2}",
                 new: "{mean: 3.3, sd: 0.25, min: 0.5, max: 2.2}",
                 lineWith: "mean: 3.3", path: "users.pedestrian.speed", message: ["mean 3.3"]),
        BadModel(label: "zero minimum speed", old: "{mean: 1.3, sd: 0.25, min: 0.5, max: 2.2}",
                 new: "{mean: 1.3, sd: 0.25, min: 0, max: 2.2}",
                 lineWith: "min: 0,", path: "users.pedestrian.speed", message: ["0 < min"]),
        BadModel(label: "stop seconds min above max", old: "stopSeconds: {min: 20, max: 180}", new: "stopSeconds: {min: 200, max: 180}",
                 lineWith: "min: 200", path: "users.pedestrian.stopSeconds", message: ["min 200.0 is more than max 180.0"]),
        BadModel(label: "stop probability 1.5", old: "stopProbability: 0.10", new: "stopProbability: 1.5",
                 lineWith: "stopProbability: 1.5", path: "users.pedestrian.stopProbability", message: ["1.5 is out of range 0–1"]),
        BadModel(label: "turn-back probability 1.5", old: "turnBackProbability: 0.02", new: "turnBackProbability: 1.5",
                 lineWith: "turnBackProbability: 1.5", path: "users.cyclist.turnBackProbability", message: ["1.5 is out of range 0–1"]),
        BadModel(label: "miss probability 1.5", old: "radar: {pedestrian: 0.05, cyclist: 0.02, car: 0.01}",
                 new: "radar: {pedestrian: 0.05, cyclist: 0.02, car: 1.5}",
                 lineWith: "car: 1.5", path: "sensors.missProbability.radar.car", message: ["1.5 is out of range 0–1"]),
        BadModel(label: "network loss 1.5", old: "loss: 0.005", new: "loss: 1.5",
                 lineWith: "loss: 1.5", path: "network.loss", message: ["1.5 is out of range 0–1"]),
        BadModel(label: "p95 below the median latency", old: "latencyP95Seconds: 0.40", new: "latencyP95Seconds: 0.05",
                 lineWith: "latencyP95Seconds: 0.05", path: "network.latencyP95Seconds",
                 message: ["95th percentile 0.05 s is below the median 0.08 s"]),
        BadModel(label: "measured latencies and a median", old: "latencyP95Seconds: 0.40\n",
                 new: "latencyP95Seconds: 0.40\n  latencySamplesSeconds: [0.6, 1.2]\n",
                 lineWith: "latencyMedianSeconds: 0.08", path: "network.latencyMedianSeconds",
                 message: ["not with latencySamplesSeconds"]),
        BadModel(label: "a negative measured latency", old: "  latencyMedianSeconds: 0.08\n  latencyP95Seconds: 0.40\n",
                 new: "  latencySamplesSeconds: [0.6, -1.2]\n",
                 lineWith: "latencySamplesSeconds: [0.6, -1.2]", path: "network.latencySamplesSeconds[1]",
                 message: ["-1.2 s is out of range 0–600 s"]),
        BadModel(label: "no measured latencies", old: "  latencyMedianSeconds: 0.08\n  latencyP95Seconds: 0.40\n",
                 new: "  latencySamplesSeconds: []\n",
                 lineWith: "latencySamplesSeconds: []", path: "network.latencySamplesSeconds", message: ["at least one latency"]),
        BadModel(label: "no latency at all", old: "  latencyMedianSeconds: 0.08\n  latencyP95Seconds: 0.40\n", new: "",
                 lineWith: "loss: 0.005", path: "network.latencyMedianSeconds",
                 message: ["missing required fields 'latencyMedianSeconds' and 'latencyP95Seconds' (or give latencySamplesSeconds)"]),
        BadModel(label: "wrong format string", old: "format: lichtweg-traffic/1", new: "format: lichtweg-traffic/2",
                 lineWith: "format: lichtweg-traffic/2", path: "format",
                 message: ["unsupported format 'lichtweg-traffic/2'", "lichtweg-traffic/1"]),
        BadModel(label: "a profile's format string", old: "format: lichtweg-traffic/1", new: "format: lichtweg-profile/1",
                 lineWith: "format: lichtweg-profile/1", path: "format", message: ["unsupported format 'lichtweg-profile/1'"]),
        BadModel(label: "text where a number belongs", old: "gramsPerKWh: 380", new: "gramsPerKWh: lots",
                 lineWith: "gramsPerKWh: lots", path: "co2.gramsPerKWh", message: ["expected a number, found 'lots'"]),
        BadModel(label: "text where true/false belongs", old: "seesStationary: false", new: "seesStationary: sometimes",
                 lineWith: "seesStationary: sometimes", path: "sensors.seesStationary", message: ["expected true or false"]),
        BadModel(label: "missing required field", old: "    approachMetres: 100\n", new: "",
                 // At the cyclist's mapping, which begins with its first field.
                 lineWith: "hourly: [0.5, 0.2,", path: "users.cyclist.approachMetres", message: ["missing required field 'approachMetres'"]),
    ]

    @Test("a bad model gives exactly one diagnostic, at the right line and field path", arguments: badModels)
    func badModel(_ bad: BadModel) throws {
        let text = try Self.replacing(bad.old, with: bad.new, in: try Self.ruralText())
        let expectedLine = try Self.line(of: bad.lineWith, in: text)
        let problems = try Self.modelProblems(text, file: "Profiles/traffic/bad.yaml")
        try #require(problems.count == 1, "\(problems.map(\.description))")
        let d = problems[0]
        #expect(d.file == "Profiles/traffic/bad.yaml")
        #expect(d.path == bad.path, "\(d)")
        #expect(d.line == expectedLine, "\(d)")
        for part in bad.message { #expect(d.message.contains(part), "\(d)") }
        #expect(d.description == "Profiles/traffic/bad.yaml:\(expectedLine): \(bad.path): \(d.message)")
    }

    @Test("every problem in a document is reported, not only the first")
    func severalProblems() throws {
        var text = try Self.ruralText()
        text = try Self.replacing("loss: 0.005", with: "loss: 1.5", in: text)
        text = try Self.replacing("stopProbability: 0.10", with: "stopProbability: 2", in: text)
        text = try Self.replacing("  slowSpeed: 1.0\n", with: "  slowSpeed: 1.0\n  bogus: 1\n", in: text)
        let problems = try Self.modelProblems(text)
        #expect(Set(problems.map(\.path)) == ["network.loss", "users.pedestrian.stopProbability", "sensors.bogus"],
                "\(problems.map(\.description))")
        #expect(problems.first { $0.path == "network.loss" }?.line == (try Self.line(of: "loss: 1.5", in: text)))
    }

    @Test("an empty document is reported at line 1, a YAML syntax error where libyaml found it, as in profiles")
    func unreadableDocuments() throws {
        let empty = try Self.modelProblems("")
        #expect(empty.count == 1)
        #expect(empty.first?.line == 1)
        #expect(empty.first?.message.contains("empty") == true, "\(empty)")

        // The unclosed list is noticed where the text ends, on its last line.
        let broken = try Self.modelProblems("format: lichtweg-traffic/1\nusers: [unclosed")
        #expect(broken.count == 1)
        #expect(broken.first?.message.hasPrefix("YAML syntax error") == true, "\(broken)")
        #expect(broken.first?.line == 2, "\(broken)")
        let late = try Self.modelProblems("format: lichtweg-traffic/1\nname: x\nsource: y\nusers: {a: 1\n\nsensors: ]\n")
        #expect(late.first?.message.hasPrefix("YAML syntax error") == true, "\(late)")
        #expect((4...6).contains(late.first?.line ?? 0), "\(late)")

        let list = try Self.modelProblems("- a\n- b\n")
        #expect(list.first?.message.contains("expected a mapping") == true, "\(list)")
    }

    // MARK: - Traffic counts (CSV)

    /// A header and 24 rows; `row(h)` gives the cells after the hour.
    static func csv(header: String = "hour,pedestrian,cyclist,car", hours: [Int] = Array(0..<24),
                    row: (Int) -> String = { "\($0),\(2 * $0),\(10 + $0)" }) -> String {
        ([header] + hours.map { "\($0),\(row($0))" }).joined(separator: "\n") + "\n"
    }

    @Test("a good count file gives 24 values per kind")
    func goodCounts() throws {
        let counts = try SimulationModelLoader.loadCounts(Self.csv(), file: "count.csv").get()
        #expect(Set(counts.keys) == Set(RoadUserKind.allCases))
        #expect(counts[.pedestrian] == (0..<24).map(Double.init))
        #expect(counts[.cyclist] == (0..<24).map { Double(2 * $0) })
        #expect(counts[.car] == (0..<24).map { Double(10 + $0) })
    }

    /// Hours in reverse order, columns `car, pedestrian`, comments, blank lines, spaces, decimals.
    static func lenientCSV(lineEnd: String) -> String {
        var lines = ["# Verkehrszählung Panitzscher Straße", "", "hour, car ,pedestrian"]
        for h in (0..<24).reversed() {
            lines.append(" \(h) , \(Double(h) + 0.5), \(100 + h)")
            if h == 12 { lines.append("# midday"); lines.append("") }
        }
        return lines.joined(separator: lineEnd) + lineEnd
    }

    static func checkLenient(_ result: Result<[RoadUserKind: [Double]], ProfileDiagnostics>,
                             sourceLocation: SourceLocation = #_sourceLocation) {
        switch result {
        case let .success(counts):
            #expect(Set(counts.keys) == [.car, .pedestrian], sourceLocation: sourceLocation)
            #expect(counts[.car] == (0..<24).map { Double($0) + 0.5 }, sourceLocation: sourceLocation)
            #expect(counts[.pedestrian] == (0..<24).map { Double(100 + $0) }, sourceLocation: sourceLocation)
        case let .failure(problems):
            Issue.record("rejected: \(problems)", sourceLocation: sourceLocation)
        }
    }

    @Test("columns in any order, a subset of kinds, comments, blank lines, spaces and decimals")
    func lenientCounts() {
        Self.checkLenient(SimulationModelLoader.loadCounts(Self.lenientCSV(lineEnd: "\n"), file: "count.csv"))
    }

    @Test("a count file with Windows line ends (CRLF, as spreadsheets write them)")
    func crlfCounts() {
        // In Swift "\r\n" is one Character; the loader must split on any line end.
        Self.checkLenient(SimulationModelLoader.loadCounts(Self.lenientCSV(lineEnd: "\r\n"), file: "count.csv"))
    }

    @Test("a count file with a non-numeric count")
    func nonNumericCount() throws {
        let text = Self.csv { $0 == 5 ? "1,x,3" : "1,2,3" }
        let problems = try Self.countProblems(text)
        try #require(problems.count == 1, "\(problems)")
        #expect(problems[0].line == 7)  // header on line 1, hour 0 on line 2
        #expect(problems[0].path == "cyclist")
        #expect(problems[0].message.contains("'x' is not a count"), "\(problems[0])")
        #expect(problems[0].description.hasPrefix("count.csv:7: cyclist: "))
    }

    @Test("a count file with a negative count")
    func negativeCount() throws {
        let problems = try Self.countProblems(Self.csv { $0 == 0 ? "1,2,-3" : "1,2,3" })
        try #require(problems.count == 1, "\(problems)")
        #expect(problems[0].line == 2)
        #expect(problems[0].path == "car")
        #expect(problems[0].message.contains("'-3'"))
    }

    @Test("a count file with hour 24")
    func hour24() throws {
        let text = Self.csv(hours: Array(1...24))
        let problems = try Self.countProblems(text)
        try #require(problems.count == 1, "\(problems)")
        #expect(problems[0].line == 25)
        #expect(problems[0].path == "hour")
        #expect(problems[0].message.contains("'24' is not an hour 0–23"), "\(problems[0])")
    }

    @Test("a count file with a duplicate hour")
    func duplicateHour() throws {
        let text = Self.csv(hours: Array(0..<24) + [5])
        let problems = try Self.countProblems(text)
        #expect(!problems.isEmpty)
        #expect(problems.allSatisfy { $0.line == 26 && $0.path == "hour" && $0.message == "hour 5 appears twice" },
                "\(problems.map(\.description))")
    }

    @Test("a count file with missing hours")
    func missingHours() throws {
        let text = Self.csv(hours: (0..<24).filter { $0 != 7 && $0 != 19 })
        let problems = try Self.countProblems(text)
        // The same hours are missing for every kind; one diagnostic names them.
        #expect(problems.count == 1, "\(problems.map(\.description))")
        for d in problems {
            #expect(d.path == "hour", "\(d)")
            #expect(d.line == 23)  // the last row
            #expect(d.message.contains("no row for hour(s) 7, 19"), "\(d)")
        }
    }

    @Test("a count file with an unknown kind in the header")
    func unknownKind() throws {
        let text = "# comment first\n" + Self.csv(header: "hour,pedestrian,bus,car")
        let problems = try Self.countProblems(text)
        try #require(!problems.isEmpty)
        #expect(problems[0].line == 2)
        #expect(problems[0].path == "header")
        #expect(problems[0].message.contains("unknown road-user kind 'bus'"), "\(problems[0])")
    }

    @Test("a count file whose first column is not the hour")
    func headerWithoutHour() throws {
        let problems = try Self.countProblems(Self.csv(header: "pedestrian,hour,cyclist,car"))
        try #require(problems.count == 1)
        #expect(problems[0].line == 1)
        #expect(problems[0].path == "header")
    }

    @Test("a count file with a row of the wrong column count")
    func wrongColumnCount() throws {
        let text = Self.csv { h in h == 3 ? "1,2" : (h == 9 ? "1,2,3,4" : "1,2,3") }
        let problems = try Self.countProblems(text)
        #expect(problems.map(\.line) == [5, 11], "\(problems.map(\.description))")
        #expect(problems.allSatisfy { $0.path == "row" })
        #expect(problems.first?.message == "expected 4 columns, found 3")
        #expect(problems.last?.message == "expected 4 columns, found 5")
    }

    @Test("an empty count file or one with only comments")
    func emptyCounts() throws {
        for text in ["", "\n\n", "# nothing here\n"] {
            let problems = try Self.countProblems(text)
            #expect(problems.count == 1)
            #expect(problems.first?.line == 1)
            #expect(problems.first?.message.contains("no header") == true, "\(problems)")
        }
    }

    @Test("every bad row of a count file is reported")
    func severalBadRows() throws {
        let text = Self.csv { h in h == 2 ? "a,2,3" : (h == 20 ? "1,2,?" : "1,2,3") }
        let problems = try Self.countProblems(text)
        #expect(problems.map(\.line) == [4, 22], "\(problems.map(\.description))")
        #expect(problems.map(\.path) == ["pedestrian", "car"])
    }
}
