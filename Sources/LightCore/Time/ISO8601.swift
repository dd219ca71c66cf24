/// ISO 8601 timestamps with an explicit UTC offset, formatted without Foundation's formatters so
/// that output is identical on every platform.
public enum ISO8601 {
    /// `2026-03-29T03:15:00+02:00` (or `Z` for a zero offset).
    public static func format(_ instant: Instant, utcOffsetSeconds offset: Int) -> String {
        let local = instant.secondsSinceEpoch + Double(offset)
        let whole = Int(local.rounded(.down))
        let days = Int((Double(whole) / 86_400).rounded(.down))
        let date = LocalDate(daysSinceEpoch: days)
        let sod = whole - days * 86_400
        let time = two(sod / 3600) + ":" + two(sod % 3600 / 60) + ":" + two(sod % 60)
        return "\(date)T\(time)" + zone(offset)
    }

    /// The instant formatted in the zone's local time, with the offset in force then.
    public static func format(_ instant: Instant, in zone: ZoneRules) -> String {
        format(instant, utcOffsetSeconds: zone.offset(at: instant))
    }

    private static func zone(_ offset: Int) -> String {
        if offset == 0 { return "Z" }
        let sign = offset < 0 ? "-" : "+"
        let a = abs(offset)
        return sign + two(a / 3600) + ":" + two(a % 3600 / 60)
    }

    private static func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
}
