// PLACEHOLDER until the astronomy work lands (being replaced in this session).
public enum SunEvent: String, CaseIterable, Sendable {
    case sunrise, sunset, civilDawn, civilDusk
    public var zenith: Double { self == .sunrise || self == .sunset ? 90.833 : 96 }
    public var isMorning: Bool { self == .sunrise || self == .civilDawn }
}
public enum SunEventTime: Hashable, Sendable {
    case at(Instant)
    case sunAlwaysAbove
    case sunAlwaysBelow
    public var instant: Instant? { if case let .at(i) = self { return i } else { return nil } }
}
