/// A control program: when the lamps switch on and off, the base level through the night, and how
/// presence raises it (the TALQ control-program model, with presence as a dynamic control using
/// the *max* operation).
public struct Program: Hashable, Sendable {
    public var switchOn: SwitchTime
    public var switchOff: SwitchTime
    /// The lighting class in force from switch-on unless a step names another.
    public var lightingClass: LightingClass
    /// Base-level steps through the night, in order; the first one applies from switch-on.
    public var steps: [BaseStep]
    /// Ramp time in seconds for a change of base level between steps.
    public var stepRampSeconds: Double
    /// Presence control; nil = schedule only.
    public var presence: PresenceControl?

    public init(switchOn: SwitchTime, switchOff: SwitchTime, lightingClass: LightingClass,
                steps: [BaseStep], stepRampSeconds: Double = 30, presence: PresenceControl?) {
        self.switchOn = switchOn
        self.switchOff = switchOff
        self.lightingClass = lightingClass
        self.steps = steps
        self.stepRampSeconds = stepRampSeconds
        self.presence = presence
    }
}

/// When a program switches: at a solar event with an offset, or at a fixed local time.
public enum SwitchTime: Hashable, Sendable, CustomStringConvertible {
    /// `offsetMinutes` after (negative: before) the event.
    case solar(SunEvent, offsetMinutes: Int)
    /// A wall-clock time. For switch-on, times before noon fall after midnight; for switch-off,
    /// times after noon fall on the evening of the night's first day.
    case fixed(LocalTime)

    public var description: String {
        switch self {
        case let .solar(event, offset):
            offset == 0 ? event.rawValue : "\(event.rawValue) \(offset > 0 ? "+" : "-") \(abs(offset)) min"
        case let .fixed(time): time.description
        }
    }
}

/// A base level from a point of the night on.
public struct BaseStep: Hashable, Sendable {
    public enum Start: Hashable, Sendable, CustomStringConvertible {
        /// From the program's switch-on.
        case switchOn
        /// From a wall-clock time; 12:00–23:59 is the evening, 00:00–11:59 the morning after.
        case time(LocalTime)

        public var description: String {
            switch self {
            case .switchOn: "switchOn"
            case let .time(t): t.description
            }
        }
    }

    public var start: Start
    public var level: DimLevel
    /// The class in force during this step; nil = the program's class.
    public var lightingClass: LightingClass?

    public init(start: Start, level: DimLevel, lightingClass: LightingClass? = nil) {
        self.start = start
        self.level = level
        self.lightingClass = lightingClass
    }
}

/// Presence-controlled light: a detection raises the detecting pole and its neighbours to `level`.
public struct PresenceControl: Hashable, Sendable {
    /// The level a detection raises lamps to.
    public var level: DimLevel
    /// Seconds the raised level is held after the road user was last seen (or, for a pole ahead,
    /// after the road user is expected to have passed it).
    public var holdSeconds: Double
    public var rampUpSeconds: Double
    public var rampDownSeconds: Double
    /// Poles in the direction of travel raised with the detecting pole (when the direction is not
    /// known, in both directions).
    public var polesAhead: Int
    /// Poles behind the road user that are raised too.
    public var polesBehind: Int
    /// Light at least this many seconds of travel ahead of a road user whose speed is known: a fast
    /// car raises more poles ahead than a pedestrian.
    public var lookAheadSeconds: Double
    /// Upper bound on poles raised ahead, whatever the speed.
    public var maxPolesAhead: Int
    /// Road users known to travel at least this fast (m/s) get `fastHoldSeconds` instead of
    /// `holdSeconds`: a car is past a pole in a moment and needs no minute of light behind it.
    /// nil: one hold for everybody.
    public var fastSpeed: Double?
    public var fastHoldSeconds: Double

    /// The hold for a road user of known (or unknown: nil) speed.
    public func holdSeconds(forSpeed speed: Double?) -> Double {
        if let speed, let fastSpeed, speed >= fastSpeed { return min(fastHoldSeconds, holdSeconds) }
        return holdSeconds
    }

    public init(level: DimLevel = .full, holdSeconds: Double = 90, rampUpSeconds: Double = 1,
                rampDownSeconds: Double = 20, polesAhead: Int = 2, polesBehind: Int = 1,
                lookAheadSeconds: Double = 8, maxPolesAhead: Int = 8, fastSpeed: Double? = nil,
                fastHoldSeconds: Double = 15) {
        self.level = level
        self.holdSeconds = holdSeconds
        self.rampUpSeconds = rampUpSeconds
        self.rampDownSeconds = rampDownSeconds
        self.polesAhead = polesAhead
        self.polesBehind = polesBehind
        self.lookAheadSeconds = lookAheadSeconds
        self.maxPolesAhead = maxPolesAhead
        self.fastSpeed = fastSpeed
        self.fastHoldSeconds = fastHoldSeconds
    }
}
