import LightCore

/// Profiles built in code for the core's tests (the core does not read YAML).
enum Fixtures {
    static let berlin = "Europe/Berlin"
    static let brandis = GeoPoint(latitude: 51.334, longitude: 12.611)

    /// A straight route of `count` poles, `spacing` metres apart; every pole has two PIR sensors
    /// facing both ways ("up" faces increasing chainage, "down" decreasing).
    static func route(count: Int = 10, spacing: Double = 35) -> Route {
        let poles = (0..<count).map { i in
            Pole(id: "P\(i)", chainage: Double(i) * spacing,
                 position: GeoPoint(latitude: 51.334 + Double(i) * 0.0003, longitude: 12.611),
                 luminaire: "led-24w",
                 sensors: [Sensor(id: "up", kind: .pir, facing: .increasing, range: 12),
                           Sensor(id: "down", kind: .pir, facing: .decreasing, range: 12)])
        }
        return Route(id: "test-route", name: "Test", timeZone: berlin, location: brandis,
                     luminaires: ["led-24w": Luminaire(power: 24, standby: 0.5)], poles: poles)
    }

    static let presence = PresenceControl(level: 100, holdSeconds: 90, rampUpSeconds: 1, rampDownSeconds: 20,
                                          polesAhead: 2, polesBehind: 1, lookAheadSeconds: 8, maxPolesAhead: 8)

    /// 30 % (P4) from sunset + 10 min, 10 % (P6) from 22:00, 30 % (P4) from 05:00, off at sunrise − 10 min.
    static let weeknight = Program(
        switchOn: .solar(.sunset, offsetMinutes: 10), switchOff: .solar(.sunrise, offsetMinutes: -10),
        lightingClass: LightingClass("P4")!,
        steps: [BaseStep(start: .switchOn, level: 30),
                BaseStep(start: .time(LocalTime(hour: 22, minute: 0)), level: 10, lightingClass: LightingClass("P6")!),
                BaseStep(start: .time(LocalTime(hour: 5, minute: 0)), level: 30)],
        stepRampSeconds: 30, presence: presence)

    static func profile(route: Route = route(), programs: [String: Program] = ["weeknight": weeknight],
                        rules: [CalendarRule] = [], safety: SafetySettings = SafetySettings(),
                        version: Int = 1) -> Profile {
        Profile(version: version, route: route,
                classMinimums: [LightingClass("P4")!: 30, LightingClass("P6")!: 10],
                safety: safety, calendar: ProgramCalendar(rules: rules, defaultProgram: "weeknight"),
                programs: programs)
    }

    static let zone = ZoneRules(identifier: berlin)!

    /// The instant of a local wall-clock time in Berlin.
    static func local(_ date: String, _ time: String) -> Instant {
        zone.instant(on: LocalDate(iso: date)!, at: LocalTime(string: time)!)
    }
}
