/// The solar events a switching program can be tied to.
public enum SunEvent: String, CaseIterable, Sendable {
    case sunrise, sunset, civilDawn, civilDusk

    /// Zenith angle in degrees that defines the event (90.833 or 96).
    ///
    /// Sunrise and sunset are when the sun's *upper limb* touches a sea-level horizon: the centre is
    /// then 34′ (standard atmospheric refraction) + 16′ (mean semidiameter) below the geometric
    /// horizon, the 90.833° of the NOAA tables and of almanacs. Civil twilight is defined by the
    /// centre of the disc 6° below the horizon, with no refraction.
    public var zenith: Double {
        switch self {
        case .sunrise, .sunset: return 90.833
        case .civilDawn, .civilDusk: return 96
        }
    }

    /// True for the morning events (sunrise, civilDawn).
    public var isMorning: Bool {
        switch self {
        case .sunrise, .civilDawn: return true
        case .sunset, .civilDusk: return false
        }
    }
}

/// When a solar event happens on a date, or why it does not.
public enum SunEventTime: Hashable, Sendable {
    case at(Instant)
    /// The sun stays above the event's altitude all day (polar day, or white nights for civil twilight).
    case sunAlwaysAbove
    /// The sun stays below the event's altitude all day (polar night).
    case sunAlwaysBelow

    /// The instant of the event, or nil when it does not happen on that date.
    public var instant: Instant? {
        if case .at(let instant) = self { return instant }
        return nil
    }
}
