/// The schedule of one night, resolved to instants: when the lamps switch on and off and which
/// base level and lighting class apply in between.
///
/// A night is the 24 hours from local noon on the date it begins to local noon on the next day;
/// every instant belongs to exactly one night. Plans are computed from nothing but the profile,
/// the date and the route's location, which is what lets a pole "boot into what should be".
public struct NightPlan: Hashable, Sendable {
    /// The local date on which the night begins.
    public var date: LocalDate
    public var programName: String
    /// The calendar rule that chose the program; nil for the default program.
    public var ruleName: String?
    /// Local noon starting the night, and the next local noon ending it.
    public var windowStart: Instant
    public var windowEnd: Instant
    /// Lamps on from `switchOn` (inclusive) to `switchOff` (exclusive). Equal when the program does
    /// not switch on this night (polar day).
    public var switchOn: Instant
    public var switchOff: Instant
    /// Base-level segments between switch-on and switch-off, in order and without gaps.
    public var steps: [Segment]
    public var presence: PresenceControl?
    public var stepRampSeconds: Double

    /// A stretch of the night with one base level and one lighting class.
    public struct Segment: Hashable, Sendable {
        public var start: Instant
        public var level: DimLevel
        public var lightingClass: LightingClass
        /// The class minimum in force (the level never goes below it).
        public var minimum: DimLevel
    }

    public var isLitAtAll: Bool { switchOn < switchOff }

    /// Whether the schedule has the lamps on at `instant`.
    public func isNight(at instant: Instant) -> Bool {
        switchOn <= instant && instant < switchOff
    }

    /// Whether presence is tracked at `instant`: during the lit night and in the two hold times
    /// before switch-on, so that someone already on the road when the lamps come on gets light.
    public func tracksPresence(at instant: Instant) -> Bool {
        guard let presence, isLitAtAll else { return false }
        return switchOn - 2 * presence.holdSeconds <= instant && instant < switchOff
    }

    /// The segment in force at `instant`, or nil by day.
    public func segment(at instant: Instant) -> Segment? {
        guard isNight(at: instant) else { return nil }
        return steps.last { $0.start <= instant }
    }

    /// The next instant after `instant` at which the scheduled base changes (switch-on, a step,
    /// switch-off, or the end of the night's window).
    public func nextChange(after instant: Instant) -> Instant {
        var next = windowEnd
        func consider(_ t: Instant) {
            if t > instant && t < next { next = t }
        }
        if isLitAtAll {
            consider(switchOn)
            consider(switchOff)
            for step in steps { consider(step.start) }
        }
        return next
    }
}

// MARK: - Computing a plan

extension NightPlan {
    /// The local date of the night containing `instant` in `zone` (nights run noon to noon).
    public static func nightDate(containing instant: Instant, zone: ZoneRules) -> LocalDate {
        let local = zone.local(instant)
        return local.secondsOfDay >= 43_200 ? local.date : local.date.adding(days: -1)
    }

    /// The plan of the night that begins on `date`. The profile must be valid (validated profiles
    /// name existing programs and a known time zone).
    public static func make(for profile: Profile, date: LocalDate) -> NightPlan {
        let zone = ZoneRules(identifier: profile.route.timeZone) ?? .utc
        let (name, rule) = profile.calendar.program(forNightOf: date)
        let program = profile.programs[name] ?? profile.programs[profile.calendar.defaultProgram]!
        let location = profile.route.location
        let noon = LocalTime(hour: 12, minute: 0)
        let windowStart = zone.instant(on: date, at: noon)
        let windowEnd = zone.instant(on: date.adding(days: 1), at: noon)

        func clamp(_ t: Instant) -> Instant { min(max(t, windowStart), windowEnd) }

        // Switch-on: the evening of `date` (a fixed time before noon means after midnight).
        var on: Instant
        switch program.switchOn {
        case let .fixed(time):
            on = zone.instant(on: time.isAfterMidnight ? date.adding(days: 1) : date, at: time)
        case let .solar(event, offset):
            switch SolarCalculator.time(of: event, on: date, at: location) {
            case let .at(t): on = t + Double(offset * 60)
            case .sunAlwaysBelow: on = windowStart  // polar night: dark all day, lit all night
            case .sunAlwaysAbove: on = windowEnd    // polar day: the lamps stay dark
            }
        }
        // Switch-off: the morning of `date + 1` (a fixed time after noon means the same evening).
        var off: Instant
        let morning = date.adding(days: 1)
        switch program.switchOff {
        case let .fixed(time):
            off = zone.instant(on: time.isAfterMidnight ? morning : date, at: time)
        case let .solar(event, offset):
            switch SolarCalculator.time(of: event, on: morning, at: location) {
            case let .at(t): off = t + Double(offset * 60)
            case .sunAlwaysBelow: off = windowEnd   // the sun does not come up: stay lit until the next plan
            case .sunAlwaysAbove:
                // Entering polar day: the sun never gets low on the morning after; darkness, if
                // any, ends at solar midnight.
                off = SolarCalculator.solarNoon(on: date, at: location) + 12 * 3600
            }
        }
        on = clamp(on)
        off = clamp(off)
        if off < on { off = on }

        // Base steps, resolved in night order; a step before switch-on starts at switch-on.
        var segments: [Segment] = []
        for step in program.steps {
            let start: Instant
            switch step.start {
            case .switchOn: start = on
            case let .time(time):
                start = max(on, zone.instant(on: time.isAfterMidnight ? morning : date, at: time))
            }
            guard start < off || segments.isEmpty else { continue }
            let cls = step.lightingClass ?? program.lightingClass
            let segment = Segment(start: start, level: step.level, lightingClass: cls,
                                  minimum: profile.minimum(for: cls))
            // A later step with the same start replaces an earlier one (both fell before switch-on).
            if let last = segments.last, last.start == start { segments.removeLast() }
            segments.append(segment)
        }
        return NightPlan(date: date, programName: name, ruleName: rule?.name, windowStart: windowStart,
                         windowEnd: windowEnd, switchOn: on, switchOff: off, steps: segments,
                         presence: program.presence, stepRampSeconds: program.stepRampSeconds)
    }

    /// The plan of the night containing `instant`.
    public static func make(for profile: Profile, containing instant: Instant) -> NightPlan {
        let zone = ZoneRules(identifier: profile.route.timeZone) ?? .utc
        return make(for: profile, date: nightDate(containing: instant, zone: zone))
    }
}
