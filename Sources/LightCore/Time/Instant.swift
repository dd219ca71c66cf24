/// A point in time: seconds since 1970-01-01T00:00:00Z (POSIX time, no leap seconds).
///
/// The core never reads a clock. Every decision takes the current `Instant` as a parameter,
/// which makes the pole logic deterministic and lets the simulator run it in virtual time.
public struct Instant: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var secondsSinceEpoch: Double

    public init(secondsSinceEpoch: Double) {
        self.secondsSinceEpoch = secondsSinceEpoch
    }

    public static func < (a: Instant, b: Instant) -> Bool { a.secondsSinceEpoch < b.secondsSinceEpoch }

    public static func + (a: Instant, seconds: Double) -> Instant {
        Instant(secondsSinceEpoch: a.secondsSinceEpoch + seconds)
    }

    public static func - (a: Instant, seconds: Double) -> Instant {
        Instant(secondsSinceEpoch: a.secondsSinceEpoch - seconds)
    }

    /// Seconds from `b` to `a`.
    public static func - (a: Instant, b: Instant) -> Double {
        a.secondsSinceEpoch - b.secondsSinceEpoch
    }

    /// UTC midnight at the start of `date`.
    public init(utcMidnightOf date: LocalDate) {
        self.init(secondsSinceEpoch: Double(date.daysSinceEpoch) * 86_400)
    }

    /// An instant far in the future, used for "never".
    public static let distantFuture = Instant(secondsSinceEpoch: 1e15)
    public static let distantPast = Instant(secondsSinceEpoch: -1e15)

    /// ISO 8601 in UTC with seconds, e.g. `2026-11-23T15:58:12Z`.
    public var description: String { ISO8601.format(self, utcOffsetSeconds: 0) }
}
