import Foundation
import LightCore
import ProfileFormat
import Testing

@Suite("Loading a valid profile")
struct ValidProfileTests {
    @Test("the sample YAML loads into exactly the expected model")
    func loadsExpectedModel() throws {
        let loaded = try profile(Sample.yaml)
        #expect(loaded == Sample.expected)
    }

    @Test("top level and route")
    func route() throws {
        let p = try profile(Sample.yaml)
        #expect(p.version == 3)
        #expect(p.author == "Test Engineer")
        #expect(p.comment == "unit test profile")
        #expect(p.route.id == "test-road")
        #expect(p.route.name == "Teststraße Beucha–Brandis")
        #expect(p.route.timeZone == "Europe/Berlin")
        #expect(p.route.location == GeoPoint(latitude: 51.334, longitude: 12.55))
        #expect(p.route.luminaires.count == 2)
        #expect(p.route.luminaires["led30"] == Luminaire(power: 30, standby: 0.8, description: "LED 30 W"))
        #expect(p.route.luminaires["led45"] == Luminaire(power: 45.5, standby: 1, description: nil))
    }

    @Test("poles and their sensors, in order")
    func poles() throws {
        let poles = try profile(Sample.yaml).route.poles
        #expect(poles.map(\.id) == ["P01", "P02", "P03"])
        #expect(poles.map(\.chainage) == [0, 35.5, 71])
        #expect(poles.map(\.luminaire) == ["led30", "led30", "led45"])
        #expect(poles[1].position == GeoPoint(latitude: 51.3342, longitude: 12.5405))
        #expect(poles[0].sensors == [Sensor(id: "s1", kind: .pir, facing: .increasing, range: 12)])
        #expect(poles[1].sensors.map(\.id) == ["r1", "r2"])
        #expect(poles[1].sensors[0].kind == .radar)
        #expect(poles[1].sensors[0].facing == .decreasing)
        #expect(poles[1].sensors[0].range == 40)
        #expect(poles[2].sensors.isEmpty, "a pole without 'sensors' has none")
    }

    @Test("lighting classes and safety settings with documented defaults")
    func classesAndSafety() throws {
        let p = try profile(Sample.yaml)
        #expect(p.classMinimums == [LightingClass("P4")!: 30, LightingClass("P6")!: 10, LightingClass("M5")!: 45])
        #expect(p.safety.sensorFaultLevel == 60)
        #expect(p.safety.debounceSeconds == 0.5)
        // Not given in the document: the defaults of docs/profile-format.md.
        #expect(p.safety.failsafeLevel == 100)
        #expect(p.safety.stuckSensorSeconds == 900)
        #expect(p.safety.presenceOnStart == true)
    }

    @Test("no safety section at all gives every default")
    func safetyOmitted() throws {
        let text = try Sample.replacing("safety:\n  sensorFaultLevel: 60\n  debounceSeconds: 0.5\n", with: "")
        let p = try profile(text)
        #expect(p.safety == SafetySettings(failsafeLevel: 100, sensorFaultLevel: 50, stuckSensorSeconds: 900,
                                           debounceSeconds: 0.2, presenceOnStart: true))
    }

    @Test("calendar rules: dates, weekdays, yearly and absolute ranges")
    func calendar() throws {
        let c = try profile(Sample.yaml).calendar
        #expect(c.defaultProgram == "weeknight")
        #expect(c.rules.map(\.name) == ["New Year's Eve", "Weekend nights", "Advent"])
        #expect(c.rules.map(\.program) == ["festive", "festive", "festive"])
        #expect(c.rules[0].dates == [LocalDate(year: 2026, month: 12, day: 31), LocalDate(year: 2027, month: 12, day: 31)])
        #expect(c.rules[0].weekdays.isEmpty)
        #expect(c.rules[1].weekdays == [.fri, .sat])
        #expect(c.rules[1].dates.isEmpty && c.rules[1].ranges.isEmpty)
        #expect(c.rules[2].ranges == [
            .yearly(from: MonthDay(month: 12, day: 1), to: MonthDay(month: 12, day: 23)),
            .absolute(from: LocalDate(year: 2027, month: 1, day: 2), to: LocalDate(year: 2027, month: 1, day: 6)),
        ])
    }

    @Test("the loaded calendar picks the right program", arguments: [
        ("2026-12-31", "festive", "New Year's Eve"),   // a Thursday, listed date
        ("2026-11-27", "festive", "Weekend nights"),   // a Friday
        ("2026-11-29", "weeknight", nil),              // a Sunday, before Advent's range
        ("2026-12-02", "festive", "Advent"),           // a Wednesday in the yearly range
        ("2027-01-04", "festive", "Advent"),           // a Monday in the absolute range
        ("2027-01-07", "weeknight", nil),              // a Thursday, just after it
    ] as [(String, String, String?)])
    func calendarChoice(date: String, program: String, rule: String?) throws {
        let c = try profile(Sample.yaml).calendar
        let choice = c.program(forNightOf: try #require(LocalDate(iso: date)))
        #expect(choice.program == program)
        #expect(choice.rule?.name == rule)
    }

    @Test("programs: switch times, class, steps (unquoted 05:00 too), ramp and presence defaults")
    func programs() throws {
        let p = try profile(Sample.yaml)
        #expect(p.programs.keys.sorted() == ["festive", "weeknight"])
        let w = try #require(p.programs["weeknight"])
        #expect(w.switchOn == .solar(.sunset, offsetMinutes: 10))
        #expect(w.switchOff == .solar(.sunrise, offsetMinutes: -10))
        #expect(w.lightingClass == LightingClass("P4"))
        #expect(w.stepRampSeconds == 30, "default ramp")
        #expect(w.steps.map(\.start) == [.switchOn, .time(LocalTime(hour: 22, minute: 0)), .time(LocalTime(hour: 5, minute: 0))])
        #expect(w.steps.map(\.level) == [30, 10, 30])
        #expect(w.steps.map(\.lightingClass) == [nil, LightingClass("P6"), LightingClass("P4")])
        let presence = try #require(w.presence)
        #expect(presence.level == 100)
        #expect(presence.holdSeconds == 90)
        #expect(presence.rampUpSeconds == 1)
        #expect(presence.rampDownSeconds == 20)
        #expect(presence.polesAhead == 2)
        #expect(presence.polesBehind == 1)
        #expect(presence.lookAheadSeconds == 8)
        #expect(presence.maxPolesAhead == 8)

        let f = try #require(p.programs["festive"])
        #expect(f.switchOn == .fixed(LocalTime(hour: 17, minute: 30)))
        #expect(f.switchOff == .solar(.civilDawn, offsetMinutes: 0), "offsetMinutes defaults to 0")
        #expect(f.lightingClass == LightingClass("M5"))
        #expect(f.stepRampSeconds == 60)
        #expect(f.steps == [BaseStep(start: .switchOn, level: 80), BaseStep(start: .time(LocalTime(hour: 1, minute: 30)), level: 45)])
        #expect(f.presence == nil, "no presence section: schedule only")
    }

    @Test("unquoted and quoted step times load the same")
    func unquotedTimes() throws {
        let quoted = try Sample.replacing("{at: 05:00, level: 30, class: P4}", with: "{at: \"05:00\", level: 30, class: P4}")
        let unquoted22 = try Sample.replacing("{at: \"22:00\", level: 10, class: P6}", with: "{at: 22:00, level: 10, class: P6}")
        #expect(try profile(quoted) == Sample.expected)
        #expect(try profile(unquoted22) == Sample.expected)
    }

    @Test("the same profile written as JSON loads to an equal Profile")
    func json() throws {
        let fromJSON = try profile(Sample.json, file: "Profiles/test-road.json")
        #expect(fromJSON == Sample.expected)
        #expect(fromJSON == (try profile(Sample.yaml)))
    }
}

// MARK: - One diagnostic per error class

/// One broken variant of the sample and the single diagnostic it must produce.
struct ErrorCase: Sendable, CustomTestStringConvertible {
    var name: String
    /// Replacements applied to the sample, each of a text that occurs exactly once.
    var edits: [(old: String, new: String)]
    /// A text on the line the diagnostic must point at (searched in the edited document).
    var lineOf: String
    var path: String
    var phrase: String
    /// A text the message must not contain.
    var absent: String? = nil

    var testDescription: String { name }

    init(_ name: String, _ old: String, _ new: String, line: String? = nil, path: String, phrase: String,
         absent: String? = nil) {
        self.name = name
        self.edits = [(old, new)]
        self.lineOf = line ?? new.split(separator: "\n").last.map(String.init) ?? new
        self.path = path
        self.phrase = phrase
        self.absent = absent
    }
}

@Suite("Diagnostics: line, field path and message")
struct DiagnosticTests {
    static let cases: [ErrorCase] = [
        // Unknown keys
        ErrorCase("unknown key with did-you-mean", "    stepRampSeconds: 60", "    stepRampSecond: 60",
                  path: "programs.festive.stepRampSecond",
                  phrase: "unknown key 'stepRampSecond' (did you mean 'stepRampSeconds'?)"),
        ErrorCase("unknown top-level key with did-you-mean", "comment: unit test profile", "coment: unit test profile",
                  path: "coment", phrase: "unknown key 'coment' (did you mean 'comment'?)"),
        ErrorCase("unknown key in safety with did-you-mean", "  sensorFaultLevel: 60", "  sensorFaultLevl: 60",
                  path: "safety.sensorFaultLevl", phrase: "unknown key 'sensorFaultLevl' (did you mean 'sensorFaultLevel'?)"),
        ErrorCase("unknown key without a near match", "  debounceSeconds: 0.5", "  debounceSeconds: 0.5\n  colour: red",
                  path: "safety.colour", phrase: "unknown key 'colour'", absent: "did you mean"),
        // Wrong types
        ErrorCase("text where a number is expected", "{at: \"22:00\", level: 10, class: P6}",
                  "{at: \"22:00\", level: ten, class: P6}",
                  path: "programs.weeknight.steps[1].level", phrase: "expected a number, found 'ten'"),
        ErrorCase("quoted number in lightingClasses", "  P6: 10", "  P6: \"10\"",
                  path: "lightingClasses.P6", phrase: "expected a number, found '10'"),
        ErrorCase("quoted number in presence", "      holdSeconds: 90", "      holdSeconds: \"90\"",
                  path: "programs.weeknight.presence.holdSeconds", phrase: "expected a number, found '90'"),
        ErrorCase("quoted whole number", "version: 3", "version: \"3\"",
                  path: "version", phrase: "expected a whole number, found '3'"),
        ErrorCase("fraction where a whole number is expected", "offsetMinutes: -10}", "offsetMinutes: -10.5}",
                  path: "programs.weeknight.switchOff.offsetMinutes", phrase: "expected a whole number, found '-10.5'"),
        ErrorCase("list where a mapping is expected", "  location: {lat: 51.334, lon: 12.55}", "  location: [51.334, 12.55]",
                  path: "route.location", phrase: "expected a mapping (key: value), found a list"),
        ErrorCase("unknown sensor kind", "{id: r2, kind: pir,", "{id: r2, kind: lidar,",
                  path: "route.poles[1].sensors[1].kind", phrase: "'lidar' is not one of: pir, radar"),
        // Ranges
        ErrorCase("level above 100", "{at: switchOn, level: 80}", "{at: switchOn, level: 130}",
                  path: "programs.festive.steps[0].level", phrase: "130 % is out of range 0–100 %"),
        ErrorCase("level below 0", "  sensorFaultLevel: 60", "  sensorFaultLevel: -5",
                  path: "safety.sensorFaultLevel", phrase: "-5 % is out of range 0–100 %"),
        ErrorCase("latitude out of range", "      lat: 51.3344", "      lat: 91.3344",
                  path: "route.poles[2].lat", phrase: "91.3344° is out of range -90–90°"),
        // Steps
        ErrorCase("overlapping steps (same time)", "{at: 05:00, level: 30, class: P4}", "{at: \"22:00\", level: 30, class: P4}",
                  path: "programs.weeknight.steps[2].at", phrase: "22:00 overlaps steps[1] at 22:00"),
        ErrorCase("unordered steps (22:00 after 23:00)", "{at: 05:00, level: 30, class: P4}",
                  "{at: \"23:00\", level: 30, class: P4}\n      - {at: \"22:00\", level: 30, class: P4}",
                  path: "programs.weeknight.steps[3].at", phrase: "22:00 is not after steps[2] at 23:00"),
        ErrorCase("evening step after a morning step", "{at: \"01:30\", level: 45}",
                  "{at: \"01:30\", level: 45}\n      - {at: \"23:30\", level: 50}",
                  path: "programs.festive.steps[2].at", phrase: "23:30 is not after steps[1] at 01:30"),
        ErrorCase("first step not at switchOn", "{at: switchOn, level: 80}", "{at: \"18:00\", level: 80}",
                  path: "programs.festive.steps[0].at", phrase: "the first step must start at switchOn, not 18:00"),
        ErrorCase("switchOn step that is not first", "{at: \"01:30\", level: 45}", "{at: switchOn, level: 45}",
                  path: "programs.festive.steps[1].at", phrase: "only the first step can start at switchOn"),
        ErrorCase("bad time 25:00 in a step", "{at: \"01:30\", level: 45}", "{at: \"25:00\", level: 45}",
                  path: "programs.festive.steps[1].at", phrase: "'25:00' is not a time of day \"HH:MM\""),
        ErrorCase("bad time 25:00 at switch-on", "switchOn: {at: \"17:30\"}", "switchOn: {at: \"25:00\"}",
                  path: "programs.festive.switchOn.at", phrase: "'25:00' is not a time of day"),
        // Classes
        ErrorCase("level below the class minimum", "{at: \"22:00\", level: 10, class: P6}", "{at: \"22:00\", level: 5, class: P6}",
                  path: "programs.weeknight.steps[1].level", phrase: "5 % is below the minimum 10 % of class P6"),
        ErrorCase("level below the program's class minimum", "{at: \"01:30\", level: 45}", "{at: \"01:30\", level: 40}",
                  path: "programs.festive.steps[1].level", phrase: "40 % is below the minimum 45 % of class M5"),
        ErrorCase("step class without minimum", "{at: \"22:00\", level: 10, class: P6}", "{at: \"22:00\", level: 10, class: P5}",
                  path: "programs.weeknight.steps[1].class", phrase: "no minimum level for class P5 in lightingClasses"),
        ErrorCase("program class without minimum", "    class: M5", "    class: M4",
                  path: "programs.festive.class", phrase: "no minimum level for class M4 in lightingClasses"),
        ErrorCase("invalid class name in a program", "    class: P4", "    class: P7",
                  path: "programs.weeknight.class", phrase: "'P7' is not an EN 13201 lighting class"),
        ErrorCase("invalid class name in lightingClasses", "  M5: 45", "  X5: 45",
                  path: "lightingClasses.X5", phrase: "'X5' is not an EN 13201 lighting class"),
        // Route
        ErrorCase("unknown time zone", "  timezone: Europe/Berlin", "  timezone: Europe/Leipzig",
                  path: "route.timezone", phrase: "unknown time zone 'Europe/Leipzig'"),
        ErrorCase("time zone abbreviation", "  timezone: Europe/Berlin", "  timezone: CET",
                  path: "route.timezone", phrase: "unknown time zone 'CET'"),
        ErrorCase("invalid route id", "  id: test-road", "  id: Test_Road",
                  path: "route.id", phrase: "'Test_Road' is not a route id"),
        ErrorCase("duplicate pole ids", "    - id: P03", "    - id: \"P01\"",
                  path: "route.poles[2].id", phrase: "duplicate pole id 'P01' (also route.poles[0])"),
        ErrorCase("chainage not increasing", "      chainage: 71", "      chainage: 30",
                  path: "route.poles[2].chainage",
                  phrase: "chainage 30 m is not greater than the previous pole's 35.5 m"),
        ErrorCase("chainage equal to the previous one", "      chainage: 71", "      chainage: 35.50",
                  path: "route.poles[2].chainage",
                  phrase: "chainage 35.5 m is not greater than the previous pole's 35.5 m"),
        ErrorCase("unknown luminaire type", "      luminaire: led45", "      luminaire: led60",
                  path: "route.poles[2].luminaire", phrase: "unknown luminaire type 'led60' (route.luminaires has: led30, led45)"),
        ErrorCase("duplicate sensor id on a pole", "{id: r2, kind: pir,", "{id: r1, kind: pir,",
                  path: "route.poles[1].sensors[1].id", phrase: "duplicate sensor id 'r1' on pole P02"),
        // Calendar
        ErrorCase("unknown program in calendar default", "  default: weeknight", "  default: weekday",
                  path: "calendar.default", phrase: "unknown program 'weekday' (programs has: festive, weeknight)"),
        ErrorCase("unknown program in a rule", "  weekdays: [fri, sat]\n      program: festive",
                  "  weekdays: [fri, sat]\n      program: weekend",
                  path: "calendar.rules[1].program", phrase: "unknown program 'weekend'"),
        ErrorCase("unknown weekday", "weekdays: [fri, sat]", "weekdays: [fri, saturday]",
                  path: "calendar.rules[1].weekdays[1]", phrase: "'saturday' is not one of: mon, tue, wed, thu, fri, sat, sun"),
        ErrorCase("bad date", "dates: [2026-12-31, 2027-12-31]", "dates: [2026-12-31, 2027-02-30]",
                  path: "calendar.rules[0].dates[1]", phrase: "'2027-02-30' is not a date YYYY-MM-DD"),
        ErrorCase("range mixing yearly and absolute dates", "{from: 12-01, to: 12-23}", "{from: 12-01, to: 2026-12-23}",
                  path: "calendar.rules[2].ranges[0].to", phrase: "mixes a full date and a yearly date"),
        ErrorCase("absolute range ending before it starts", "{from: 2027-01-02, to: 2027-01-06}",
                  "{from: 2027-01-06, to: 2027-01-02}",
                  path: "calendar.rules[2].ranges[1]", phrase: "ends (2027-01-02) before it starts (2027-01-06)"),
        // Switch times
        ErrorCase("switchOn at a morning event", "switchOn: {event: sunset, offsetMinutes: 10}",
                  "switchOn: {event: sunrise, offsetMinutes: 10}",
                  path: "programs.weeknight.switchOn.event", phrase: "'sunrise' is a morning event"),
        ErrorCase("switchOff at an evening event", "switchOff: {event: civilDawn}", "switchOff: {event: civilDusk}",
                  path: "programs.festive.switchOff.event", phrase: "'civilDusk' is an evening event"),
        ErrorCase("unknown solar event", "switchOff: {event: civilDawn}", "switchOff: {event: dawn}",
                  path: "programs.festive.switchOff.event", phrase: "'dawn' is not one of: sunrise, sunset, civilDawn, civilDusk"),
        ErrorCase("offset more than 3 hours", "switchOn: {event: sunset, offsetMinutes: 10}",
                  "switchOn: {event: sunset, offsetMinutes: 200}",
                  path: "programs.weeknight.switchOn.offsetMinutes", phrase: "200 min is more than 3 hours from the event"),
        ErrorCase("event and at together", "switchOn: {at: \"17:30\"}", "switchOn: {at: \"17:30\", event: sunset}",
                  path: "programs.festive.switchOn.event", phrase: "give either 'event' or 'at', not both"),
        // Safety
        ErrorCase("failsafe level 0", "  sensorFaultLevel: 60", "  sensorFaultLevel: 60\n  failsafeLevel: 0",
                  path: "safety.failsafeLevel", phrase: "must be above 0"),
        ErrorCase("not true or false", "  sensorFaultLevel: 60", "  sensorFaultLevel: 60\n  presenceOnStart: yes",
                  path: "safety.presenceOnStart", phrase: "expected true or false, found 'yes'"),
    ]

    @Test("exactly one diagnostic at the right line and field", arguments: cases)
    func errorClass(_ c: ErrorCase) throws {
        var text = Sample.yaml
        for edit in c.edits { text = try Sample.replacing(edit.old, with: edit.new, in: text) }
        let expectedLine = try lineNumber(of: c.lineOf, in: text)
        let found = try diagnostics(text)
        #expect(found.count == 1, "\(found.map(\.description))")
        let d = try #require(found.first)
        #expect(d.file == Sample.file)
        #expect(d.path == c.path)
        #expect(d.line == expectedLine, "\(d)")
        #expect(d.message.contains(c.phrase), "\(d.message)")
        if let absent = c.absent { #expect(!d.message.contains(absent), "\(d.message)") }
    }

    @Test("the sample itself has no diagnostics (the baseline of every case)")
    func baseline() throws {
        _ = try profile(Sample.yaml)
    }

    @Test("05:00 after 22:00 is night order, not disorder")
    func nightOrder() throws {
        // The sample already has 22:00 then 05:00; add 00:30 between them too.
        let text = try Sample.replacing("      - {at: 05:00, level: 30, class: P4}",
                                        with: "      - {at: \"00:30\", level: 10, class: P6}\n      - {at: 05:00, level: 30, class: P4}")
        let p = try profile(text)
        #expect(p.programs["weeknight"]?.steps.count == 4)
    }
}

/// A key written twice in one mapping. Yams refuses such a mapping as a whole; the loader marks the
/// repetition and composes again, so the diagnostic has the repeated key's line and field path.
@Suite("Diagnostics: duplicate keys")
struct DuplicateKeyTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var old: String
        var new: String
        var key: String
        var firstLine: String
        var secondLine: String
        var path: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "in a program", old: "    stepRampSeconds: 60", new: "    stepRampSeconds: 60\n    class: P6",
             key: "class", firstLine: "    class: M5", secondLine: "    class: P6", path: "programs.festive.class"),
        Case(name: "in lightingClasses", old: "  M5: 45", new: "  M5: 45\n  P6: 15",
             key: "P6", firstLine: "  P6: 10", secondLine: "  P6: 15", path: "lightingClasses.P6"),
        Case(name: "two programs of the same name", old: "  festive:\n", new: "  weeknight:\n",
             key: "weeknight", firstLine: "  weeknight:", secondLine: "  weeknight:\n    switchOn: {at", path: "programs.weeknight"),
    ]

    @Test("the document is rejected and the key named", arguments: cases)
    func rejected(_ c: Case) throws {
        let text = try Sample.replacing(c.old, with: c.new)
        let found = try diagnostics(text)
        #expect(!found.isEmpty)
        #expect(found.contains { $0.message.contains("'\(c.key)'") && $0.message.contains("duplicate") },
                "\(found.map(\.description))")
    }

    @Test("one one-line diagnostic at the repeated key, with its field path", arguments: cases)
    func located(_ c: Case) throws {
        let text = try Sample.replacing(c.old, with: c.new)
        let found = try diagnostics(text)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // The second occurrence: the first line after the first occurrence that starts the same way.
        let first = try #require(lines.firstIndex { $0.hasPrefix(c.firstLine) })
        let secondKey = c.secondLine.split(separator: "\n")[0]
        let second = try #require(lines.indices.first { $0 > first && lines[$0].hasPrefix(secondKey) })
        // Renaming a program also leaves the calendar pointing at a program that is gone; that is
        // reported too, but the repetition itself is reported exactly once.
        let duplicates = found.filter { $0.message.contains("duplicate") }
        #expect(duplicates.count == 1, "\(found.map(\.description))")
        #expect(duplicates.first?.line == second + 1)
        #expect(duplicates.first?.path == c.path)
        #expect(duplicates.first?.message.contains("duplicate key '\(c.key)'") == true)
        #expect(found.allSatisfy { !$0.message.contains("\n") }, "a diagnostic is one line")
    }
}

@Suite("Diagnostics: missing fields")
struct MissingFieldTests {
    @Test("missing required field in a program", arguments: ["switchOff", "class", "steps"])
    func missingInProgram(_ key: String) throws {
        // festive's keys, each on a line of its own (steps with its two items).
        let lines: [String: String] = [
            "switchOff": "    switchOff: {event: civilDawn}\n",
            "class": "    class: M5\n",
            "steps": "    steps:\n      - {at: switchOn, level: 80}\n      - {at: \"01:30\", level: 45}\n",
        ]
        let text = try Sample.replacing(try #require(lines[key]), with: "")
        let found = try diagnostics(text)
        #expect(found.count == 1, "\(found.map(\.description))")
        let d = try #require(found.first)
        #expect(d.path == "programs.festive.\(key)")
        #expect(d.message == "missing required field '\(key)'")
        // Reported at the mapping that lacks the key, whose first line is festive's switchOn.
        #expect(d.line == (try lineNumber(of: "switchOn: {at: \"17:30\"}", in: text)), "\(d)")
    }

    @Test("missing required top-level field", arguments: ["version", "calendar"])
    func missingTopLevel(_ key: String) throws {
        let lines: [String: String] = [
            "version": "version: 3\n",
            "calendar": """
                calendar:
                  default: weeknight
                  rules:
                    - name: New Year's Eve
                      dates: [2026-12-31, 2027-12-31]
                      program: festive
                    - name: Weekend nights
                      weekdays: [fri, sat]
                      program: festive
                    - name: Advent
                      ranges: [{from: 12-01, to: 12-23}, {from: 2027-01-02, to: 2027-01-06}]
                      program: festive

                """,
        ]
        let text = try Sample.replacing(try #require(lines[key]), with: "")
        let found = try diagnostics(text)
        #expect(found.count == 1, "\(found.map(\.description))")
        let d = try #require(found.first)
        #expect(d.path == key)
        #expect(d.line == 1)
        #expect(d.message.contains("missing required field '\(key)'"))
    }

    @Test("missing level in a step")
    func missingLevel() throws {
        let text = try Sample.replacing("{at: \"01:30\", level: 45}", with: "{at: \"01:30\"}")
        let found = try diagnostics(text)
        #expect(found.count == 1, "\(found.map(\.description))")
        let d = try #require(found.first)
        #expect(d.path == "programs.festive.steps[1].level")
        #expect(d.line == (try lineNumber(of: "{at: \"01:30\"}", in: text)))
        #expect(d.message.contains("missing required field 'level'"))
    }

    @Test("switch time with neither event nor at")
    func switchTimeEmpty() throws {
        let text = try Sample.replacing("switchOff: {event: civilDawn}", with: "switchOff: {offsetMinutes: 5}")
        let found = try diagnostics(text)
        #expect(found.count == 1, "\(found.map(\.description))")
        let d = try #require(found.first)
        #expect(d.path == "programs.festive.switchOff")
        #expect(d.line == (try lineNumber(of: "switchOff: {offsetMinutes: 5}", in: text)))
        #expect(d.message.contains("missing 'event'"))
    }
}

@Suite("Diagnostics: documents that are not YAML maps")
struct DocumentLevelTests {
    @Test("YAML syntax error: reported at the line of the error", arguments: [
        ("    class: M5", "    class: M5: bright", "class: M5: bright"),
        ("  P6: 10", "\tP6: 10", "\tP6: 10"),
        ("{at: switchOn, level: 30}", "{at: switchOn, level: 30]", "{at: switchOn, level: 30]"),
    ])
    func syntaxError(old: String, new: String, needle: String) throws {
        let text = try Sample.replacing(old, with: new)
        let found = try diagnostics(text)
        #expect(found.count == 1)
        let d = try #require(found.first)
        #expect(d.path == "")
        #expect(d.line == (try lineNumber(of: needle, in: text)), "\(d)")
        #expect(d.message.hasPrefix("YAML syntax error"), "\(d.message)")
        #expect(d.description.hasPrefix("\(Sample.file):\(d.line!): (document): YAML syntax error"))
    }

    @Test("an error at the end of a text without a final line break names the last line (found by fuzzing)",
          arguments: ["\n", "\r\n", "\r"])
    func errorAtEnd(_ lineBreak: String) throws {
        let text = ["format: lichtweg-profile/1", "safety:", "  failsafeLevel: 100", "  sensorFault"].joined(separator: lineBreak)
        let d = try #require(try diagnostics(text).first)
        #expect(d.message.hasPrefix("YAML syntax error"), "\(d)")
        #expect(d.line == 4, "\(d)")
        #expect(ProfileLoader.lineCount(text) == 4)
    }

    @Test("empty document", arguments: ["", "\n\n", "# nothing here yet\n"])
    func empty(_ text: String) throws {
        let found = try diagnostics(text)
        #expect(found == [ProfileDiagnostic(file: Sample.file, line: 1, path: "", message: "the document is empty")])
    }

    @Test("a document that is a list, not a mapping")
    func notAMapping() throws {
        let found = try diagnostics("- a\n- b\n")
        #expect(found.count == 1)
        #expect(found.first?.line == 1)
        #expect(found.first?.message == "expected a mapping (key: value), found a list")
    }
}

@Suite("Diagnostics: reporting")
struct ReportingTests {
    @Test("several independent structural problems are all reported, sorted by line")
    func severalStructural() throws {
        var text = Sample.yaml
        // Deliberately edited bottom-up, so that document order differs from edit order.
        text = try Sample.replacing("{at: \"01:30\", level: 45}", with: "{at: \"25:00\", level: 45}", in: text)
        text = try Sample.replacing("{at: switchOn, level: 30}", with: "{at: switchOn, level: 300}", in: text)
        text = try Sample.replacing("dates: [2026-12-31, 2027-12-31]", with: "dates: [2026-13-31, 2027-12-31]", in: text)
        text = try Sample.replacing("      lon: 12.5405", with: "      lon: east", in: text)
        text = try Sample.replacing("comment: unit test profile", with: "comments: unit test profile", in: text)

        let found = try diagnostics(text)
        let expected: [(String, String)] = [
            ("comments: unit test profile", "comments"),
            ("      lon: east", "route.poles[1].lon"),
            ("dates: [2026-13-31, 2027-12-31]", "calendar.rules[0].dates[0]"),
            ("{at: switchOn, level: 300}", "programs.weeknight.steps[0].level"),
            ("{at: \"25:00\", level: 45}", "programs.festive.steps[1].at"),
        ]
        #expect(found.map(\.path) == expected.map(\.1))
        #expect(found.map(\.line) == (try expected.map { try lineNumber(of: $0.0, in: text) }))
        #expect(found.map { $0.line ?? 0 } == found.map { $0.line ?? 0 }.sorted())
    }

    @Test("several independent semantic problems are all reported, sorted by line")
    func severalSemantic() throws {
        var text = Sample.yaml
        text = try Sample.replacing("{at: \"01:30\", level: 45}", with: "{at: \"01:30\", level: 20}", in: text)
        text = try Sample.replacing("  default: weeknight", with: "  default: nightly", in: text)
        text = try Sample.replacing("      chainage: 71", with: "      chainage: 20", in: text)
        text = try Sample.replacing("  timezone: Europe/Berlin", with: "  timezone: Mars/Olympus", in: text)

        let found = try diagnostics(text)
        let expected: [(String, String)] = [
            ("  timezone: Mars/Olympus", "route.timezone"),
            ("      chainage: 20", "route.poles[2].chainage"),
            ("  default: nightly", "calendar.default"),
            ("{at: \"01:30\", level: 20}", "programs.festive.steps[1].level"),
        ]
        #expect(found.map(\.path) == expected.map(\.1))
        #expect(found.map(\.line) == (try expected.map { try lineNumber(of: $0.0, in: text) }))
    }

    @Test("problems on the same line are ordered by path")
    func sameLine() throws {
        let text = try Sample.replacing("{at: \"22:00\", level: 10, class: P6}", with: "{at: \"22:00\", level: x, class: Q6}")
        let found = try diagnostics(text)
        let line = try lineNumber(of: "level: x, class: Q6", in: text)
        #expect(found.map(\.line) == [line, line])
        #expect(found.map(\.path) == ["programs.weeknight.steps[1].class", "programs.weeknight.steps[1].level"])
    }

    @Test("description has the form FILE:LINE: path: message")
    func descriptionForm() throws {
        let text = try Sample.replacing("  timezone: Europe/Berlin", with: "  timezone: Europe/Leipzig")
        let d = try #require(try diagnostics(text, file: "Profiles/parthe.yaml").first)
        #expect(d.description
            == "Profiles/parthe.yaml:8: route.timezone: unknown time zone 'Europe/Leipzig' (use an IANA name such as Europe/Berlin)")
    }

    @Test("description of a problem without a place")
    func descriptionWithoutPlace() {
        let d = ProfileDiagnostic(file: "a.yaml", line: nil, path: "", message: "cannot read the file")
        #expect(d.description == "a.yaml:1: (document): cannot read the file")
        let all = ProfileDiagnostics([d, ProfileDiagnostic(file: "a.yaml", line: 3, path: "x.y", message: "bad")])
        #expect(all.description == "a.yaml:1: (document): cannot read the file\na.yaml:3: x.y: bad")
    }

    @Test("the sample's lines are where the tests assume them")
    func sampleLayout() throws {
        // Guards the hard-coded 8 in descriptionForm and 1 in the top-level cases.
        #expect(try lineNumber(of: "  timezone: Europe/Berlin", in: Sample.yaml) == 8)
        #expect(Sample.yaml.hasPrefix("format: lichtweg-profile/1\n"))
    }
}
