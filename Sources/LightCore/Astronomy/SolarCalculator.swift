// PLACEHOLDER until the astronomy work lands (being replaced in this session).
public enum SolarCalculator {
    public static func time(of event: SunEvent, on date: LocalDate, at location: GeoPoint) -> SunEventTime {
        .at(Instant(utcMidnightOf: date) + (event.isMorning ? 6 * 3600 : 17 * 3600))
    }
    public static func solarNoon(on date: LocalDate, at location: GeoPoint) -> Instant {
        Instant(utcMidnightOf: date) + 12 * 3600
    }
    public static func elevation(at instant: Instant, location: GeoPoint) -> Double { 0 }
}
