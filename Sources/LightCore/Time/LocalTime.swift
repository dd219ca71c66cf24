/// A wall-clock time of day, to the minute (`HH:MM`, 00:00–23:59).
public struct LocalTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var hour: Int
    public var minute: Int

    public init(hour: Int, minute: Int) {
        self.hour = hour
        self.minute = minute
    }

    /// Parses `HH:MM` (24-hour clock); nil if malformed or out of range.
    public init?(string: some StringProtocol) {
        let parts = string.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
              let h = Int(parts[0]), let m = Int(parts[1]), (0...23).contains(h), (0...59).contains(m)
        else { return nil }
        self.init(hour: h, minute: m)
    }

    public var minutesOfDay: Int { hour * 60 + minute }
    public var secondsOfDay: Int { minutesOfDay * 60 }

    /// Minutes since the noon that starts a night, so that times through a night sort in order:
    /// 12:00 → 0, 22:00 → 600, 00:00 → 720, 05:00 → 1020, 11:59 → 1439.
    public var minutesIntoNight: Int { (minutesOfDay - 720 + 1440) % 1440 }

    /// True for times that, within a night beginning on date D, fall on D + 1 (00:00–11:59).
    public var isAfterMidnight: Bool { hour < 12 }

    public var description: String {
        (hour < 10 ? "0" : "") + String(hour) + ":" + (minute < 10 ? "0" : "") + String(minute)
    }

    public static func < (a: LocalTime, b: LocalTime) -> Bool { a.minutesOfDay < b.minutesOfDay }
}
