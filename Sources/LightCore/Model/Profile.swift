/// A dimming profile: everything a pole needs to decide its light level on its own — the route it
/// belongs to, a calendar that picks a program for each night, the programs, the minimum level of
/// each lighting class and the safety settings.
///
/// A profile is immutable once published; a change is a new profile with a higher `version`.
public struct Profile: Hashable, Sendable {
    /// The format identifier this model implements.
    public static let format = "lichtweg-profile/1"

    /// Monotonically increasing per route; a pole only accepts a newer version.
    public var version: Int
    public var author: String?
    public var comment: String?
    public var route: Route
    /// The lowest level that still meets each lighting class with this route's luminaires.
    public var classMinimums: [LightingClass: DimLevel]
    public var safety: SafetySettings
    public var calendar: ProgramCalendar
    /// Programs by name.
    public var programs: [String: Program]

    public init(version: Int, author: String? = nil, comment: String? = nil, route: Route,
                classMinimums: [LightingClass: DimLevel], safety: SafetySettings,
                calendar: ProgramCalendar, programs: [String: Program]) {
        self.version = version
        self.author = author
        self.comment = comment
        self.route = route
        self.classMinimums = classMinimums
        self.safety = safety
        self.calendar = calendar
        self.programs = programs
    }

    /// The minimum level of `lightingClass`; 0 when the profile names none (the validator
    /// rejects profiles that use a class without a minimum).
    public func minimum(for lightingClass: LightingClass) -> DimLevel {
        classMinimums[lightingClass] ?? .off
    }
}

/// What the pole does when it cannot trust its inputs.
public struct SafetySettings: Hashable, Sendable {
    /// Level while the pole has no valid profile in force or its clock is not trusted. Applies by
    /// day too: without a trusted clock the pole cannot know it is day.
    public var failsafeLevel: DimLevel
    /// Night floor while a presence sensor of the pole is faulty (stuck): the pole can no longer see
    /// road users, so it lights the road as if someone might be there at this level.
    public var sensorFaultLevel: DimLevel
    /// A sensor active for longer than this is considered stuck (no road user stands in front of a
    /// pole for this long).
    public var stuckSensorSeconds: Double
    /// Edges of a sensor closer together than this are treated as bounce of one edge.
    public var debounceSeconds: Double
    /// After a (re)start at night the pole cannot know whether someone is near; when this is set it
    /// lights as for a detection for the longest hold a detection can cause (twice the hold time).
    public var presenceOnStart: Bool

    public init(failsafeLevel: DimLevel = .full, sensorFaultLevel: DimLevel = 50,
                stuckSensorSeconds: Double = 900, debounceSeconds: Double = 0.2,
                presenceOnStart: Bool = true) {
        self.failsafeLevel = failsafeLevel
        self.sensorFaultLevel = sensorFaultLevel
        self.stuckSensorSeconds = stuckSensorSeconds
        self.debounceSeconds = debounceSeconds
        self.presenceOnStart = presenceOnStart
    }
}
