import LightCore

/// Reads a `lichtweg-profile/1` document tree into the `LightCore` model, field by field.
///
/// Returns nil when a required part could not be read; the reader then holds the reasons.
/// Optional fields take the defaults documented in `docs/profile-format.md`.
struct ProfileDecoder {
    let reader: NodeReader

    /// An optional field: its default when absent; when present but unreadable, the default too,
    /// with `ok` cleared (the reader has reported why).
    private func optional<T>(_ fields: [String: Node], _ key: String, in path: String, default fallback: T,
                             ok: inout Bool, _ parse: (Node, String) -> T?) -> T {
        guard let node = fields[key] else { return fallback }
        guard let value = parse(node, "\(path).\(key)") else { ok = false; return fallback }
        return value
    }

    // MARK: - Document

    func profile(_ root: Node) -> Profile? {
        guard let f = reader.fields(
            root, "",
            required: ["format", "version", "route", "lightingClasses", "calendar", "programs"],
            optional: ["author", "comment", "safety"])
        else { return nil }

        if let node = f["format"], let format = reader.string(node, "format"), format != Profile.format {
            reader.report(node, "format", "unsupported format '\(format)' (this version reads \(Profile.format))")
        }
        let version = f["version"].flatMap { reader.int($0, "version", in: 1...Int(Int32.max)) }
        let author = f["author"].flatMap { reader.string($0, "author") }
        let comment = f["comment"].flatMap { reader.string($0, "comment") }
        let route = f["route"].flatMap(route)
        let classes = f["lightingClasses"].flatMap(classMinimums)
        let safety = f["safety"].map(safety) ?? SafetySettings()
        let calendar = f["calendar"].flatMap(calendar)
        let programs = f["programs"].flatMap(programs)

        guard let version, let route, let classes, let safety, let calendar, let programs else { return nil }
        return Profile(version: version, author: author, comment: comment, route: route,
                       classMinimums: classes, safety: safety, calendar: calendar, programs: programs)
    }

    // MARK: - Route

    func route(_ node: Node) -> Route? {
        guard let f = reader.fields(node, "route",
                                    required: ["id", "name", "timezone", "location", "luminaires", "poles"])
        else { return nil }
        let id = f["id"].flatMap { reader.string($0, "route.id") }
        let name = f["name"].flatMap { reader.string($0, "route.name") }
        let zone = f["timezone"].flatMap { reader.string($0, "route.timezone") }
        let location = f["location"].flatMap { geoPoint($0, "route.location") }
        var luminaires: [String: Luminaire]? = [:]
        if let node = f["luminaires"], let entries = reader.namedEntries(node, "route.luminaires") {
            for (type, entry) in entries {
                if let l = luminaire(entry, "route.luminaires.\(type)") { luminaires?[type] = l } else { luminaires = nil }
            }
        } else {
            luminaires = nil
        }
        var poles: [Pole]? = []
        if let node = f["poles"], let items = reader.items(node, "route.poles") {
            for (path, item) in items {
                if let p = pole(item, path) { poles?.append(p) } else { poles = nil }
            }
        } else {
            poles = nil
        }
        guard let id, let name, let zone, let location, let luminaires, let poles else { return nil }
        return Route(id: id, name: name, timeZone: zone, location: location, luminaires: luminaires, poles: poles)
    }

    func geoPoint(_ node: Node, _ path: String) -> GeoPoint? {
        guard let f = reader.fields(node, path, required: ["lat", "lon"]) else { return nil }
        let lat = f["lat"].flatMap { reader.double($0, "\(path).lat", in: -90...90, unit: "°") }
        let lon = f["lon"].flatMap { reader.double($0, "\(path).lon", in: -180...180, unit: "°") }
        guard let lat, let lon else { return nil }
        return GeoPoint(latitude: lat, longitude: lon)
    }

    func luminaire(_ node: Node, _ path: String) -> Luminaire? {
        guard let f = reader.fields(node, path, required: ["power", "standby"], optional: ["description"])
        else { return nil }
        let power = f["power"].flatMap { reader.double($0, "\(path).power", in: 0...2000, unit: " W") }
        let standby = f["standby"].flatMap { reader.double($0, "\(path).standby", in: 0...50, unit: " W") }
        let description = f["description"].flatMap { reader.string($0, "\(path).description") }
        guard let power, let standby else { return nil }
        return Luminaire(power: power, standby: standby, description: description)
    }

    func pole(_ node: Node, _ path: String) -> Pole? {
        guard let f = reader.fields(node, path, required: ["id", "chainage", "lat", "lon", "luminaire"],
                                    optional: ["sensors"])
        else { return nil }
        let id = f["id"].flatMap { reader.string($0, "\(path).id") }
        let chainage = f["chainage"].flatMap { reader.double($0, "\(path).chainage", in: 0...1_000_000, unit: " m") }
        let lat = f["lat"].flatMap { reader.double($0, "\(path).lat", in: -90...90, unit: "°") }
        let lon = f["lon"].flatMap { reader.double($0, "\(path).lon", in: -180...180, unit: "°") }
        let luminaire = f["luminaire"].flatMap { reader.string($0, "\(path).luminaire") }
        var sensors: [Sensor]? = []
        if let node = f["sensors"] {
            if let items = reader.items(node, "\(path).sensors") {
                for (p, item) in items {
                    if let s = sensor(item, p) { sensors?.append(s) } else { sensors = nil }
                }
            } else {
                sensors = nil
            }
        }
        guard let id, let chainage, let lat, let lon, let luminaire, let sensors else { return nil }
        return Pole(id: id, chainage: chainage, position: GeoPoint(latitude: lat, longitude: lon),
                    luminaire: luminaire, sensors: sensors)
    }

    func sensor(_ node: Node, _ path: String) -> Sensor? {
        guard let f = reader.fields(node, path, required: ["id", "kind", "facing", "range"]) else { return nil }
        let id = f["id"].flatMap { reader.string($0, "\(path).id") }
        let kind = f["kind"].flatMap { reader.choice($0, "\(path).kind", Sensor.Kind.allCases.map { ($0.rawValue, $0) }) }
        let facing = f["facing"].flatMap {
            reader.choice($0, "\(path).facing", TravelDirection.allCases.map { ($0.rawValue, $0) })
        }
        let range = f["range"].flatMap { reader.double($0, "\(path).range", in: 0...200, unit: " m") }
        guard let id, let kind, let facing, let range else { return nil }
        return Sensor(id: id, kind: kind, facing: facing, range: range)
    }

    // MARK: - Classes and safety

    func classMinimums(_ node: Node) -> [LightingClass: DimLevel]? {
        guard let entries = reader.namedEntries(node, "lightingClasses") else { return nil }
        var result: [LightingClass: DimLevel]? = [:]
        for (name, value) in entries {
            let path = "lightingClasses.\(name)"
            guard let cls = LightingClass(name) else {
                reader.report(value, path, "'\(name)' is not an EN 13201 lighting class (M1–M6, C0–C5, P1–P6)")
                result = nil
                continue
            }
            if let level = reader.level(value, path) { result?[cls] = level } else { result = nil }
        }
        return result
    }

    func lightingClass(_ node: Node, _ path: String) -> LightingClass? {
        guard let text = reader.string(node, path) else { return nil }
        guard let cls = LightingClass(text) else {
            reader.report(node, path, "'\(text)' is not an EN 13201 lighting class (M1–M6, C0–C5, P1–P6)")
            return nil
        }
        return cls
    }

    func safety(_ node: Node) -> SafetySettings? {
        let defaults = SafetySettings()
        guard let f = reader.fields(node, "safety", required: [], optional: [
            "failsafeLevel", "sensorFaultLevel", "stuckSensorSeconds", "debounceSeconds", "presenceOnStart",
        ]) else { return nil }
        var ok = true
        func read<T>(_ key: String, _ fallback: T, _ parse: (Node, String) -> T?) -> T {
            optional(f, key, in: "safety", default: fallback, ok: &ok, parse)
        }
        let settings = SafetySettings(
            failsafeLevel: read("failsafeLevel", defaults.failsafeLevel, reader.level),
            sensorFaultLevel: read("sensorFaultLevel", defaults.sensorFaultLevel, reader.level),
            stuckSensorSeconds: read("stuckSensorSeconds", defaults.stuckSensorSeconds) {
                reader.double($0, $1, in: 0...86_400, unit: " s")
            },
            debounceSeconds: read("debounceSeconds", defaults.debounceSeconds) { reader.double($0, $1, in: 0...60, unit: " s") },
            presenceOnStart: read("presenceOnStart", defaults.presenceOnStart, reader.bool))
        return ok ? settings : nil
    }

    // MARK: - Calendar

    func calendar(_ node: Node) -> ProgramCalendar? {
        guard let f = reader.fields(node, "calendar", required: ["default"], optional: ["rules"]) else { return nil }
        let defaultProgram = f["default"].flatMap { reader.string($0, "calendar.default") }
        var rules: [CalendarRule]? = []
        if let node = f["rules"] {
            if let items = reader.items(node, "calendar.rules") {
                for (path, item) in items {
                    if let r = rule(item, path) { rules?.append(r) } else { rules = nil }
                }
            } else {
                rules = nil
            }
        }
        guard let defaultProgram, let rules else { return nil }
        return ProgramCalendar(rules: rules, defaultProgram: defaultProgram)
    }

    func rule(_ node: Node, _ path: String) -> CalendarRule? {
        guard let f = reader.fields(node, path, required: ["name", "program"], optional: ["weekdays", "dates", "ranges"])
        else { return nil }
        var ok = true
        let name = f["name"].flatMap { reader.string($0, "\(path).name") }
        let program = f["program"].flatMap { reader.string($0, "\(path).program") }
        var weekdays: Set<Weekday> = []
        if let node = f["weekdays"] {
            if let items = reader.items(node, "\(path).weekdays") {
                for (p, item) in items {
                    if let day = reader.choice(item, p, Weekday.allCases.map { ($0.rawValue, $0) }) {
                        weekdays.insert(day)
                    } else { ok = false }
                }
            } else { ok = false }
        }
        var dates: Set<LocalDate> = []
        if let node = f["dates"] {
            if let items = reader.items(node, "\(path).dates") {
                for (p, item) in items {
                    if let d = date(item, p) { dates.insert(d) } else { ok = false }
                }
            } else { ok = false }
        }
        var ranges: [DateRange] = []
        if let node = f["ranges"] {
            if let items = reader.items(node, "\(path).ranges") {
                for (p, item) in items {
                    if let r = dateRange(item, p) { ranges.append(r) } else { ok = false }
                }
            } else { ok = false }
        }
        guard ok, let name, let program else { return nil }
        return CalendarRule(name: name, program: program, weekdays: weekdays, dates: dates, ranges: ranges)
    }

    func date(_ node: Node, _ path: String) -> LocalDate? {
        guard let text = reader.string(node, path) else { return nil }
        guard let d = LocalDate(iso: text) else {
            reader.report(node, path, "'\(text)' is not a date YYYY-MM-DD")
            return nil
        }
        return d
    }

    func dateRange(_ node: Node, _ path: String) -> DateRange? {
        guard let f = reader.fields(node, path, required: ["from", "to"]),
              let fromNode = f["from"], let toNode = f["to"],
              let from = reader.string(fromNode, "\(path).from"), let to = reader.string(toNode, "\(path).to")
        else { return nil }
        if let a = LocalDate(iso: from), let b = LocalDate(iso: to) { return .absolute(from: a, to: b) }
        if let a = MonthDay(string: from), let b = MonthDay(string: to) { return .yearly(from: a, to: b) }
        let fromValid = LocalDate(iso: from) != nil || MonthDay(string: from) != nil
        let toValid = LocalDate(iso: to) != nil || MonthDay(string: to) != nil
        if fromValid && toValid {
            reader.report(toNode, "\(path).to",
                          "'\(from)' … '\(to)' mixes a full date and a yearly date; use YYYY-MM-DD at both ends or MM-DD at both ends")
            return nil
        }
        let bad = fromValid ? (toNode, "to", to) : (fromNode, "from", from)
        reader.report(bad.0, "\(path).\(bad.1)", "'\(bad.2)' is not a date (YYYY-MM-DD) or a yearly date (MM-DD)")
        return nil
    }

    // MARK: - Programs

    func programs(_ node: Node) -> [String: Program]? {
        guard let entries = reader.namedEntries(node, "programs") else { return nil }
        if entries.isEmpty { reader.report(node, "programs", "at least one program is needed") }
        var result: [String: Program]? = [:]
        for (name, entry) in entries {
            if let p = program(entry, "programs.\(name)") { result?[name] = p } else { result = nil }
        }
        return result
    }

    func program(_ node: Node, _ path: String) -> Program? {
        guard let f = reader.fields(node, path, required: ["switchOn", "switchOff", "class", "steps"],
                                    optional: ["stepRampSeconds", "presence"])
        else { return nil }
        let on = f["switchOn"].flatMap { switchTime($0, "\(path).switchOn") }
        let off = f["switchOff"].flatMap { switchTime($0, "\(path).switchOff") }
        let cls = f["class"].flatMap { lightingClass($0, "\(path).class") }
        var stepRamp: Double? = 30
        if let node = f["stepRampSeconds"] {
            stepRamp = reader.double(node, "\(path).stepRampSeconds", in: 0...3600, unit: " s")
        }
        var steps: [BaseStep]? = []
        if let node = f["steps"], let items = reader.items(node, "\(path).steps") {
            for (p, item) in items {
                if let s = step(item, p) { steps?.append(s) } else { steps = nil }
            }
        } else {
            steps = nil
        }
        var presence: PresenceControl?? = .some(nil)
        if let node = f["presence"] { presence = self.presence(node, "\(path).presence").map { .some($0) } }
        guard let on, let off, let cls, let stepRamp, let steps, let presence else { return nil }
        return Program(switchOn: on, switchOff: off, lightingClass: cls, steps: steps, stepRampSeconds: stepRamp,
                       presence: presence)
    }

    func switchTime(_ node: Node, _ path: String) -> SwitchTime? {
        guard let f = reader.fields(node, path, required: [], optional: ["event", "offsetMinutes", "at"]) else {
            return nil
        }
        if let at = f["at"] {
            if f["event"] != nil {
                reader.report(f["event"], "\(path).event", "give either 'event' or 'at', not both")
                return nil
            }
            if let o = f["offsetMinutes"] {
                reader.report(o, "\(path).offsetMinutes", "an offset only goes with 'event'")
                return nil
            }
            return localTime(at, "\(path).at").map(SwitchTime.fixed)
        }
        guard let eventNode = f["event"] else {
            reader.report(node, path, "missing 'event' (sunset, sunrise, civilDusk, civilDawn) or 'at' (\"HH:MM\")")
            return nil
        }
        let event = reader.choice(eventNode, "\(path).event", SunEvent.allCases.map { ($0.rawValue, $0) })
        var offset: Int? = 0
        if let o = f["offsetMinutes"] { offset = reader.int(o, "\(path).offsetMinutes", in: -720...720) }
        guard let event, let offset else { return nil }
        return .solar(event, offsetMinutes: offset)
    }

    func localTime(_ node: Node, _ path: String) -> LocalTime? {
        // An unquoted 22:00 is a sexagesimal number to YAML 1.1 readers, but the composed scalar
        // still holds the text as written, so both spellings work here.
        guard let text = reader.string(node, path) else { return nil }
        guard let t = LocalTime(string: text) else {
            reader.report(node, path, "'\(text)' is not a time of day \"HH:MM\" (00:00–23:59)")
            return nil
        }
        return t
    }

    func step(_ node: Node, _ path: String) -> BaseStep? {
        guard let f = reader.fields(node, path, required: ["at", "level"], optional: ["class"]) else { return nil }
        var start: BaseStep.Start?
        if let at = f["at"] {
            if at.scalar?.string == "switchOn" {
                _ = reader.string(at, "\(path).at")
                start = .switchOn
            } else {
                start = localTime(at, "\(path).at").map(BaseStep.Start.time)
            }
        }
        let level = f["level"].flatMap { reader.level($0, "\(path).level") }
        var cls: LightingClass?? = .some(nil)
        if let node = f["class"] { cls = lightingClass(node, "\(path).class").map { .some($0) } }
        guard let start, let level, let cls else { return nil }
        return BaseStep(start: start, level: level, lightingClass: cls)
    }

    func presence(_ node: Node, _ path: String) -> PresenceControl? {
        let d = PresenceControl()
        guard let f = reader.fields(node, path, required: ["level", "holdSeconds"], optional: [
            "rampUpSeconds", "rampDownSeconds", "polesAhead", "polesBehind", "lookAheadSeconds", "maxPolesAhead",
            "fastSpeed", "fastHoldSeconds",
        ]) else { return nil }
        var ok = true
        func read<T>(_ key: String, _ fallback: T, _ parse: (Node, String) -> T?) -> T {
            optional(f, key, in: path, default: fallback, ok: &ok, parse)
        }
        let seconds = { (max: Double) in { (n: Node, p: String) in self.reader.double(n, p, in: 0...max, unit: " s") } }
        let poles = { (n: Node, p: String) in self.reader.int(n, p, in: 0...50) }
        let control = PresenceControl(
            level: read("level", d.level, reader.level),
            holdSeconds: read("holdSeconds", d.holdSeconds, seconds(3600)),
            rampUpSeconds: read("rampUpSeconds", d.rampUpSeconds, seconds(60)),
            rampDownSeconds: read("rampDownSeconds", d.rampDownSeconds, seconds(600)),
            polesAhead: read("polesAhead", d.polesAhead, poles),
            polesBehind: read("polesBehind", d.polesBehind, poles),
            lookAheadSeconds: read("lookAheadSeconds", d.lookAheadSeconds, seconds(120)),
            maxPolesAhead: read("maxPolesAhead", d.maxPolesAhead, poles),
            fastSpeed: read("fastSpeed", d.fastSpeed) { n, p in self.reader.double(n, p, in: 0.5...100, unit: " m/s").map { .some($0) } },
            fastHoldSeconds: read("fastHoldSeconds", d.fastHoldSeconds, seconds(3600)))
        if f["fastHoldSeconds"] != nil && f["fastSpeed"] == nil {
            reader.report(f["fastHoldSeconds"], "\(path).fastHoldSeconds", "goes with fastSpeed (the speed from which it applies)")
            ok = false
        }
        return ok ? control : nil
    }
}
