import Foundation
import LightCore
import ProfileFormat
import Testing

/// A small valid profile used by the loader tests: three poles, two luminaire types, three
/// lighting classes, two programs and three calendar rules. Every line that a test mutates is
/// unique in the text, so a mutation and the expected line number can be found by searching.
enum Sample {
    static let file = "Profiles/test-road.yaml"

    static let yaml = """
        format: lichtweg-profile/1
        version: 3
        author: Test Engineer
        comment: unit test profile
        route:
          id: test-road
          name: Teststraße Beucha–Brandis
          timezone: Europe/Berlin
          location: {lat: 51.334, lon: 12.55}
          luminaires:
            led30:
              power: 30
              standby: 0.8
              description: LED 30 W
            led45: {power: 45.5, standby: 1}
          poles:
            - id: P01
              chainage: 0
              lat: 51.3340
              lon: 12.5400
              luminaire: led30
              sensors:
                - {id: s1, kind: pir, facing: increasing, range: 12}
            - id: P02
              chainage: 35.5
              lat: 51.3342
              lon: 12.5405
              luminaire: led30
              sensors:
                - {id: r1, kind: radar, facing: decreasing, range: 40}
                - {id: r2, kind: pir, facing: increasing, range: 10}
            - id: P03
              chainage: 71
              lat: 51.3344
              lon: 12.5410
              luminaire: led45
        lightingClasses:
          P4: 30
          P6: 10
          M5: 45
        safety:
          sensorFaultLevel: 60
          debounceSeconds: 0.5
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
        programs:
          weeknight:
            switchOn: {event: sunset, offsetMinutes: 10}
            switchOff: {event: sunrise, offsetMinutes: -10}
            class: P4
            steps:
              - {at: switchOn, level: 30}
              - {at: "22:00", level: 10, class: P6}
              - {at: 05:00, level: 30, class: P4}
            presence:
              level: 100
              holdSeconds: 90
          festive:
            switchOn: {at: "17:30"}
            switchOff: {event: civilDawn}
            class: M5
            stepRampSeconds: 60
            steps:
              - {at: switchOn, level: 80}
              - {at: "01:30", level: 45}

        """

    /// The same profile as JSON (which is YAML too).
    static let json = """
        {
          "format": "lichtweg-profile/1",
          "version": 3,
          "author": "Test Engineer",
          "comment": "unit test profile",
          "route": {
            "id": "test-road",
            "name": "Teststraße Beucha–Brandis",
            "timezone": "Europe/Berlin",
            "location": {"lat": 51.334, "lon": 12.55},
            "luminaires": {
              "led30": {"power": 30, "standby": 0.8, "description": "LED 30 W"},
              "led45": {"power": 45.5, "standby": 1}
            },
            "poles": [
              {"id": "P01", "chainage": 0, "lat": 51.3340, "lon": 12.5400, "luminaire": "led30",
               "sensors": [{"id": "s1", "kind": "pir", "facing": "increasing", "range": 12}]},
              {"id": "P02", "chainage": 35.5, "lat": 51.3342, "lon": 12.5405, "luminaire": "led30",
               "sensors": [{"id": "r1", "kind": "radar", "facing": "decreasing", "range": 40},
                           {"id": "r2", "kind": "pir", "facing": "increasing", "range": 10}]},
              {"id": "P03", "chainage": 71, "lat": 51.3344, "lon": 12.5410, "luminaire": "led45"}
            ]
          },
          "lightingClasses": {"P4": 30, "P6": 10, "M5": 45},
          "safety": {"sensorFaultLevel": 60, "debounceSeconds": 0.5},
          "calendar": {
            "default": "weeknight",
            "rules": [
              {"name": "New Year's Eve", "dates": ["2026-12-31", "2027-12-31"], "program": "festive"},
              {"name": "Weekend nights", "weekdays": ["fri", "sat"], "program": "festive"},
              {"name": "Advent", "ranges": [{"from": "12-01", "to": "12-23"}, {"from": "2027-01-02", "to": "2027-01-06"}],
               "program": "festive"}
            ]
          },
          "programs": {
            "weeknight": {
              "switchOn": {"event": "sunset", "offsetMinutes": 10},
              "switchOff": {"event": "sunrise", "offsetMinutes": -10},
              "class": "P4",
              "steps": [
                {"at": "switchOn", "level": 30},
                {"at": "22:00", "level": 10, "class": "P6"},
                {"at": "05:00", "level": 30, "class": "P4"}
              ],
              "presence": {"level": 100, "holdSeconds": 90}
            },
            "festive": {
              "switchOn": {"at": "17:30"},
              "switchOff": {"event": "civilDawn"},
              "class": "M5",
              "stepRampSeconds": 60,
              "steps": [{"at": "switchOn", "level": 80}, {"at": "01:30", "level": 45}]
            }
          }
        }
        """

    /// The model `yaml` must load into, written out independently of the loader.
    static var expected: Profile {
        let p4 = LightingClass("P4")!, p6 = LightingClass("P6")!, m5 = LightingClass("M5")!
        let route = Route(
            id: "test-road", name: "Teststraße Beucha–Brandis", timeZone: "Europe/Berlin",
            location: GeoPoint(latitude: 51.334, longitude: 12.55),
            luminaires: [
                "led30": Luminaire(power: 30, standby: 0.8, description: "LED 30 W"),
                "led45": Luminaire(power: 45.5, standby: 1, description: nil),
            ],
            poles: [
                Pole(id: "P01", chainage: 0, position: GeoPoint(latitude: 51.3340, longitude: 12.5400),
                     luminaire: "led30", sensors: [Sensor(id: "s1", kind: .pir, facing: .increasing, range: 12)]),
                Pole(id: "P02", chainage: 35.5, position: GeoPoint(latitude: 51.3342, longitude: 12.5405),
                     luminaire: "led30", sensors: [
                        Sensor(id: "r1", kind: .radar, facing: .decreasing, range: 40),
                        Sensor(id: "r2", kind: .pir, facing: .increasing, range: 10),
                     ]),
                Pole(id: "P03", chainage: 71, position: GeoPoint(latitude: 51.3344, longitude: 12.5410),
                     luminaire: "led45", sensors: []),
            ])
        let calendar = ProgramCalendar(
            rules: [
                CalendarRule(name: "New Year's Eve", program: "festive",
                             dates: [LocalDate(year: 2026, month: 12, day: 31), LocalDate(year: 2027, month: 12, day: 31)]),
                CalendarRule(name: "Weekend nights", program: "festive", weekdays: [.fri, .sat]),
                CalendarRule(name: "Advent", program: "festive", ranges: [
                    .yearly(from: MonthDay(month: 12, day: 1), to: MonthDay(month: 12, day: 23)),
                    .absolute(from: LocalDate(year: 2027, month: 1, day: 2), to: LocalDate(year: 2027, month: 1, day: 6)),
                ]),
            ],
            defaultProgram: "weeknight")
        let weeknight = Program(
            switchOn: .solar(.sunset, offsetMinutes: 10), switchOff: .solar(.sunrise, offsetMinutes: -10),
            lightingClass: p4,
            steps: [
                BaseStep(start: .switchOn, level: 30),
                BaseStep(start: .time(LocalTime(hour: 22, minute: 0)), level: 10, lightingClass: p6),
                BaseStep(start: .time(LocalTime(hour: 5, minute: 0)), level: 30, lightingClass: p4),
            ],
            stepRampSeconds: 30,
            presence: PresenceControl(level: 100, holdSeconds: 90, rampUpSeconds: 1, rampDownSeconds: 20,
                                      polesAhead: 2, polesBehind: 1, lookAheadSeconds: 8, maxPolesAhead: 8))
        let festive = Program(
            switchOn: .fixed(LocalTime(hour: 17, minute: 30)), switchOff: .solar(.civilDawn, offsetMinutes: 0),
            lightingClass: m5,
            steps: [
                BaseStep(start: .switchOn, level: 80),
                BaseStep(start: .time(LocalTime(hour: 1, minute: 30)), level: 45),
            ],
            stepRampSeconds: 60, presence: nil)
        return Profile(
            version: 3, author: "Test Engineer", comment: "unit test profile", route: route,
            classMinimums: [p4: 30, p6: 10, m5: 45],
            safety: SafetySettings(failsafeLevel: 100, sensorFaultLevel: 60, stuckSensorSeconds: 900,
                                   debounceSeconds: 0.5, presenceOnStart: true),
            calendar: calendar, programs: ["weeknight": weeknight, "festive": festive])
    }

    /// `yaml` with `old` (which must occur exactly once) replaced by `new`.
    static func replacing(_ old: String, with new: String, in text: String = yaml,
                          sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let count = text.components(separatedBy: old).count - 1
        try #require(count == 1, "'\(old)' occurs \(count) times in the sample", sourceLocation: sourceLocation)
        return text.replacingOccurrences(of: old, with: new)
    }
}

/// The 1-based number of the one line of `text` that contains `needle`.
func lineNumber(of needle: String, in text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let matches = lines.indices.filter { lines[$0].contains(needle) }
    try #require(matches.count == 1, "'\(needle)' is on \(matches.count) lines", sourceLocation: sourceLocation)
    return matches[0] + 1
}

/// The diagnostics of a document that must not load.
func diagnostics(_ text: String, file: String = Sample.file,
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> [ProfileDiagnostic] {
    switch ProfileLoader.load(text, file: file) {
    case .success:
        Issue.record("the document loaded, but problems were expected", sourceLocation: sourceLocation)
        throw LoadedUnexpectedly()
    case let .failure(problems):
        return problems.diagnostics
    }
}

struct LoadedUnexpectedly: Error {}

/// The profile of a document that must load.
func profile(_ text: String, file: String = Sample.file,
             sourceLocation: SourceLocation = #_sourceLocation) throws -> Profile {
    switch ProfileLoader.load(text, file: file) {
    case let .success(p): return p
    case let .failure(problems):
        Issue.record("unexpected problems:\n\(problems)", sourceLocation: sourceLocation)
        throw problems
    }
}
