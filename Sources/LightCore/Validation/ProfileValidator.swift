/// The semantic rules of a profile — the ones a type system or a schema cannot express: order,
/// uniqueness, references, and that no setting goes below the minimum of its lighting class.
///
/// Ranges and types of single fields are checked when a document is read (`ProfileFormat`),
/// because the model clamps levels and cannot hold a wrong type.
public enum ProfileValidator {
    /// All problems of `profile`, in document order; empty when it is valid.
    public static func issues(in profile: Profile) -> [ProfileIssue] {
        var issues: [ProfileIssue] = []
        issues += routeIssues(profile.route)
        issues += safetyIssues(profile.safety)
        issues += calendarIssues(profile)
        for name in profile.programs.keys.sorted() {
            issues += programIssues(profile.programs[name]!, path: "programs.\(name)", profile: profile)
        }
        return issues
    }

    // MARK: - Route

    static func routeIssues(_ route: Route) -> [ProfileIssue] {
        var issues: [ProfileIssue] = []
        if !isIdentifier(route.id) {
            issues.append(.init("route.id", "'\(route.id)' is not a route id (lower-case letters, digits and '-')"))
        }
        if ZoneRules(identifier: route.timeZone) == nil {
            issues.append(.init("route.timezone", "unknown time zone '\(route.timeZone)' (use an IANA name such as Europe/Berlin)"))
        }
        if route.poles.isEmpty {
            issues.append(.init("route.poles", "a route needs at least one pole"))
        }
        for (name, luminaire) in route.luminaires.sorted(by: { $0.key < $1.key }) {
            if luminaire.power <= 0 {
                issues.append(.init("route.luminaires.\(name).power", "must be more than 0 W"))
            }
        }
        var seen: [String: Int] = [:]
        for (i, pole) in route.poles.enumerated() {
            let path = "route.poles[\(i)]"
            if let first = seen[pole.id] {
                issues.append(.init("\(path).id", "duplicate pole id '\(pole.id)' (also route.poles[\(first)])"))
            } else {
                seen[pole.id] = i
            }
            if !isPoleIdentifier(pole.id) {
                issues.append(.init("\(path).id", "'\(pole.id)' is not a pole id (letters, digits, '-', '_' and '.')"))
            }
            if i > 0 && pole.chainage <= route.poles[i - 1].chainage {
                issues.append(.init("\(path).chainage",
                                    "chainage \(format(pole.chainage)) m is not greater than the previous pole's \(format(route.poles[i - 1].chainage)) m (poles must be in order along the road)"))
            }
            if route.luminaires[pole.luminaire] == nil {
                let known = route.luminaires.keys.sorted().joined(separator: ", ")
                issues.append(.init("\(path).luminaire", "unknown luminaire type '\(pole.luminaire)' (route.luminaires has: \(known))"))
            }
            var sensorIDs: Set<String> = []
            for (j, sensor) in pole.sensors.enumerated() {
                if !sensorIDs.insert(sensor.id).inserted {
                    issues.append(.init("\(path).sensors[\(j)].id", "duplicate sensor id '\(sensor.id)' on pole \(pole.id)"))
                }
                if sensor.range <= 0 {
                    issues.append(.init("\(path).sensors[\(j)].range", "must be more than 0 m"))
                }
            }
        }
        return issues
    }

    // MARK: - Safety

    static func safetyIssues(_ safety: SafetySettings) -> [ProfileIssue] {
        var issues: [ProfileIssue] = []
        if safety.failsafeLevel.isOff {
            issues.append(.init("safety.failsafeLevel", "must be above 0: a pole in doubt lights the road"))
        }
        if safety.stuckSensorSeconds < 60 {
            issues.append(.init("safety.stuckSensorSeconds", "must be at least 60 s, or road users waiting at the pole are taken for a fault"))
        }
        if safety.debounceSeconds > 5 {
            issues.append(.init("safety.debounceSeconds", "must be at most 5 s, or real detections are lost"))
        }
        return issues
    }

    // MARK: - Calendar

    static func calendarIssues(_ profile: Profile) -> [ProfileIssue] {
        var issues: [ProfileIssue] = []
        let known = profile.programs.keys.sorted().joined(separator: ", ")
        if profile.programs[profile.calendar.defaultProgram] == nil {
            issues.append(.init("calendar.default", "unknown program '\(profile.calendar.defaultProgram)' (programs has: \(known))"))
        }
        for (i, rule) in profile.calendar.rules.enumerated() {
            if profile.programs[rule.program] == nil {
                issues.append(.init("calendar.rules[\(i)].program", "unknown program '\(rule.program)' (programs has: \(known))"))
            }
            for (j, range) in rule.ranges.enumerated() {
                if case let .absolute(from, to) = range, to < from {
                    issues.append(.init("calendar.rules[\(i)].ranges[\(j)]", "ends (\(to)) before it starts (\(from))"))
                }
            }
        }
        return issues
    }

    // MARK: - Programs

    static func programIssues(_ program: Program, path: String, profile: Profile) -> [ProfileIssue] {
        var issues: [ProfileIssue] = []
        if case let .solar(event, _) = program.switchOn, event.isMorning {
            issues.append(.init("\(path).switchOn.event", "'\(event.rawValue)' is a morning event; switch on at sunset or civilDusk"))
        }
        if case let .solar(event, _) = program.switchOff, !event.isMorning {
            issues.append(.init("\(path).switchOff.event", "'\(event.rawValue)' is an evening event; switch off at sunrise or civilDawn"))
        }
        for (key, time) in [("switchOn", program.switchOn), ("switchOff", program.switchOff)] {
            if case let .solar(_, offset) = time, abs(offset) > 180 {
                issues.append(.init("\(path).\(key).offsetMinutes", "\(offset) min is more than 3 hours from the event"))
            }
        }
        if case let .fixed(on) = program.switchOn, case let .fixed(off) = program.switchOff,
           on.minutesIntoNight >= off.minutesIntoNight {
            issues.append(.init("\(path).switchOff.at", "\(off) is not after switch-on at \(on) in the night (nights run from noon to noon)"))
        }
        if profile.classMinimums[program.lightingClass] == nil {
            issues.append(.init("\(path).class", "no minimum level for class \(program.lightingClass) in lightingClasses"))
        }
        if program.steps.isEmpty {
            issues.append(.init("\(path).steps", "a program needs at least one step (at: switchOn)"))
        }
        var previous: (minutes: Int, index: Int, time: LocalTime)?
        for (i, step) in program.steps.enumerated() {
            let stepPath = "\(path).steps[\(i)]"
            switch step.start {
            case .switchOn:
                if i != 0 {
                    issues.append(.init("\(stepPath).at", "only the first step can start at switchOn"))
                }
            case let .time(time):
                if i == 0 {
                    issues.append(.init("\(stepPath).at", "the first step must start at switchOn, not \(time)"))
                }
                if let previous, time.minutesIntoNight <= previous.minutes {
                    let what = time.minutesIntoNight == previous.minutes ? "overlaps" : "is not after"
                    issues.append(.init("\(stepPath).at",
                                        "\(time) \(what) steps[\(previous.index)] at \(previous.time) (steps run in night order, noon to noon)"))
                }
                previous = (time.minutesIntoNight, i, time)
            }
            let cls = step.lightingClass ?? program.lightingClass
            if let minimum = profile.classMinimums[cls] {
                if step.level < minimum {
                    issues.append(.init("\(stepPath).level", "\(step.level) is below the minimum \(minimum) of class \(cls)"))
                }
            } else if step.lightingClass != nil {
                issues.append(.init("\(stepPath).class", "no minimum level for class \(cls) in lightingClasses"))
            }
        }
        if let presence = program.presence {
            let p = "\(path).presence"
            if presence.holdSeconds < 5 {
                issues.append(.init("\(p).holdSeconds", "must be at least 5 s"))
            }
            if presence.fastSpeed != nil && presence.fastHoldSeconds < 5 {
                issues.append(.init("\(p).fastHoldSeconds", "must be at least 5 s"))
            }
            if presence.maxPolesAhead < presence.polesAhead {
                issues.append(.init("\(p).maxPolesAhead", "\(presence.maxPolesAhead) is less than polesAhead (\(presence.polesAhead))"))
            }
            if let highest = program.steps.map(\.level).max(), presence.level < highest {
                issues.append(.init("\(p).level", "\(presence.level) is below the base level \(highest): presence would never raise the light"))
            }
        }
        return issues
    }

    // MARK: - Helpers

    /// Route, program and luminaire ids: lower-case letters, digits and '-'.
    public static func isIdentifier(_ s: String) -> Bool {
        !s.isEmpty && s.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    /// Pole and sensor ids: ASCII letters, digits, '-', '_' and '.'.
    public static func isPoleIdentifier(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)
        }
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : String(v)
    }
}
