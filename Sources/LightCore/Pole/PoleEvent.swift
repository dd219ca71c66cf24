/// Something that happened to a pole, delivered to `PoleStateMachine.handle(_:at:)`.
public enum PoleEvent: Hashable, Sendable {
    /// The controller (re)started. `activeSensors` are the sensors whose line is active right now;
    /// the pole boots into what the profile and the clock say should be, not into a stored state.
    case start(activeSensors: Set<String>)
    /// A raw edge of a local presence sensor (not yet debounced).
    case presenceEdge(sensor: String, active: Bool)
    /// Another pole of the route saw a road user.
    case neighbourDetection(DetectionNotice)
    /// The timer armed by the last `PoleAction.armTimer` expired (early or late is harmless: the
    /// machine recomputes from the clock).
    case timer
    /// A new, already verified profile is in force (nil: the profile was withdrawn). Boxed, so
    /// that the many small events are not as large as a profile.
    indirect case profileChanged(Profile?)
    /// An operator's override (nil clears it).
    case override(ManualOverride?)
    /// The wall clock was stepped by `seconds` (e.g. NTP's first sync after a power loss); stored
    /// deadlines move with it so that a hold lasts as long as it should.
    case clockJump(seconds: Double)
    /// Whether the clock is trusted (synchronised, or kept by an RTC).
    case clockTrusted(Bool)
    /// The hardware layer reports a sensor it cannot read (nil: readable again).
    case sensorFailure(sensor: String, reason: String?)
}

/// A pole's message to its neighbours that it saw a road user. Only the fact, the direction and
/// the speed leave the pole: no identifiers of road users.
public struct DetectionNotice: Hashable, Sendable, Codable {
    /// The detecting pole.
    public var pole: String
    /// Direction of travel, if the pole could estimate it.
    public var direction: TravelDirection?
    /// Speed in m/s, if the pole could estimate it.
    public var speed: Double?
    /// When the pole saw the road user (its own clock).
    public var at: Instant

    public init(pole: String, direction: TravelDirection?, speed: Double?, at: Instant) {
        self.pole = pole
        self.direction = direction
        self.speed = speed
        self.at = at
    }
}

/// An operator's manual override of a pole's level, e.g. for roadworks or after an accident.
public struct ManualOverride: Hashable, Sendable, Codable {
    public var level: DimLevel
    /// When the override ends by itself; nil = until cleared.
    public var until: Instant?
    public var reason: String

    public init(level: DimLevel, until: Instant?, reason: String) {
        self.level = level
        self.until = until
        self.reason = reason
    }

    public func isActive(at now: Instant) -> Bool { until.map { now < $0 } ?? true }
}
