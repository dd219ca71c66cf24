/// What the state machine asks the pole's I/O to do.
public enum PoleAction: Hashable, Sendable {
    /// Drive the lamp to `level`, ramping linearly from the present output over `rampSeconds`.
    case setLevel(DimLevel, rampSeconds: Double)
    /// Tell the other poles of the route about a detection.
    case publishDetection(DetectionNotice)
    /// The pole's state changed; report it.
    case reportState(PoleStatus)
    case raiseFault(PoleFault)
    case clearFault(PoleFault)
    /// Deliver `.timer` at this instant (replaces any earlier timer).
    case armTimer(at: Instant)
}

/// The state a pole reports.
public struct PoleStatus: Hashable, Sendable {
    public var state: PoleStateMachine.State
    /// The level commanded (target of the present ramp).
    public var level: DimLevel
    public var profileVersion: Int?
    /// Name of tonight's program, if a profile is in force.
    public var program: String?
    public var faults: Set<PoleFault>
}

/// Conditions a pole reports as faults, raised and cleared.
public enum PoleFault: Hashable, Sendable, CustomStringConvertible {
    /// Active far longer than any road user could be.
    case stuckSensor(String)
    /// The hardware layer cannot read the sensor.
    case sensorFailure(String)
    case clockUntrusted
    case noProfile
    /// The profile in force does not list this pole.
    case poleNotInProfile

    public var description: String {
        switch self {
        case let .stuckSensor(s): "stuckSensor(\(s))"
        case let .sensorFailure(s): "sensorFailure(\(s))"
        case .clockUntrusted: "clockUntrusted"
        case .noProfile: "noProfile"
        case .poleNotInProfile: "poleNotInProfile"
        }
    }

    /// A stable machine-readable code.
    public var code: String {
        switch self {
        case .stuckSensor: "stuck-sensor"
        case .sensorFailure: "sensor-failure"
        case .clockUntrusted: "clock-invalid"
        case .noProfile: "no-profile"
        case .poleNotInProfile: "pole-not-in-profile"
        }
    }

    /// The sensor concerned, if any.
    public var sensor: String? {
        switch self {
        case let .stuckSensor(s), let .sensorFailure(s): s
        default: nil
        }
    }
}
