// swift-numerics for the elementary functions: the core imports neither Foundation nor C modules.
import RealModule

/// Sunrise, sunset, civil dawn and civil dusk, and the sun's elevation, from the NOAA solar-position
/// algorithm.
///
/// The equations are those of the NOAA Global Monitoring Laboratory "Solar Calculations" spreadsheet
/// (NOAA_Solar_Calculations_day.xls), which are in turn the low-precision solar theory of Jean Meeus,
/// *Astronomical Algorithms* (2nd ed., 1998), chapters 25 (solar coordinates) and 28 (equation of
/// time). NOAA quotes them as good to about a minute between ±72° latitude; LightCore's tests compare
/// them against PyEphem (full VSOP87 theory) and see differences of a few seconds at Partheland's
/// latitudes (see `SolarCalculatorTests`).
///
/// Universal Time is used directly as the dynamical time the theory asks for: ΔT (about 69 s in the
/// 2020s) moves the sun by about 0.001° along the ecliptic, far below the tolerance that matters for
/// switching street lights.
public enum SolarCalculator {

    // MARK: - Public API

    /// The instant of `event` on the civil `date` at `location`: the event nearest to the local solar noon of that date
    /// (morning events before it, evening events after it). `date` is the calendar date at the location's longitude
    /// (NOAA convention: solar noon ≈ 12:00 - 4 min × longitude - equation of time, in UTC minutes of that date).
    ///
    /// Far east of Greenwich the morning events fall on the previous UTC day (Auckland's sunrise on
    /// 1 January is at 17:05 UTC on 31 December); far west the evening events fall on the next one.
    ///
    /// Where the sun does not cross the event's altitude, the result says on which side it stays. For
    /// an evening event that is decided at the following solar midnight, for a morning event at the
    /// preceding one (and at solar noon for polar night), so on the days around the start and end of a
    /// polar day the morning and evening answers can legitimately differ.
    public static func time(of event: SunEvent, on date: LocalDate, at location: GeoPoint) -> SunEventTime {
        let midnight = Instant(utcMidnightOf: date)
        let side: Double = event.isMorning ? -1 : 1

        // The spreadsheet evaluates declination and equation of time once, at the time of day typed
        // into it, which costs up to ~1 min at these latitudes. Instead start at solar noon and
        // re-evaluate both at the approximate event instant until it stops moving; this converges in
        // two or three passes (the sun's declination changes by at most 0.4° a day).
        var instant = solarNoon(on: date, at: location)
        var cosHourAngle = 0.0
        for _ in 0..<maximumIterations {
            let sun = SolarPosition(at: instant)
            cosHourAngle = cosineOfHourAngle(
                zenith: event.zenith, latitude: location.latitude, declination: sun.declination)
            // Clamped, so that a day that only *starts* circumpolar still moves the estimate to solar
            // midnight (hour angle 180°) or noon (0°) and is judged with the declination there.
            let hourAngle = degrees(acos(min(1, max(-1, cosHourAngle))))
            let minutes = 720 - 4 * location.longitude - sun.equationOfTime + side * 4 * hourAngle
            let next = midnight + minutes * 60
            let moved = abs(next - instant)
            instant = next
            if moved < convergenceSeconds { break }
        }

        // |cos H| > 1: the altitude is never reached. Above 1 the sun's highest point is still below it,
        // below -1 its lowest point is still above it.
        if cosHourAngle > 1 { return .sunAlwaysBelow }
        if cosHourAngle < -1 { return .sunAlwaysAbove }
        return .at(instant)
    }

    /// Solar noon of the date (UTC instant).
    ///
    /// The upper transit of the sun over the location's meridian: 12:00 UTC shifted by 4 minutes per
    /// degree of longitude (east earlier) and by the equation of time (spreadsheet column X).
    public static func solarNoon(on date: LocalDate, at location: GeoPoint) -> Instant {
        let midnight = Instant(utcMidnightOf: date)
        var minutes = 720 - 4 * location.longitude
        // Evaluate the equation of time at mean noon first, then once more at the transit itself; it
        // changes by less than 0.5 s per hour, so a second pass is already exact to the millisecond.
        for _ in 0..<2 {
            let sun = SolarPosition(at: midnight + minutes * 60)
            minutes = 720 - 4 * location.longitude - sun.equationOfTime
        }
        return midnight + minutes * 60
    }

    /// The sun's elevation above the horizon in degrees at `instant` (geometric, no refraction).
    ///
    /// Spreadsheet columns AB–AE: true solar time, hour angle, zenith angle, elevation.
    public static func elevation(at instant: Instant, location: GeoPoint) -> Double {
        let sun = SolarPosition(at: instant)
        let utcMinutes = instant.secondsSinceEpoch / 60
        // True solar time in minutes; the hour angle only enters through its cosine, so no need to
        // reduce it to one day.
        let trueSolarTime = utcMinutes + sun.equationOfTime + 4 * location.longitude
        let hourAngle = trueSolarTime / 4 - 180
        let latitude = radians(location.latitude)
        let declination = radians(sun.declination)
        let sinElevation = sin(latitude) * sin(declination)
            + cos(latitude) * cos(declination) * cos(radians(hourAngle))
        return degrees(asin(min(1, max(-1, sinElevation))))
    }

    // MARK: - Iteration limits

    /// Passes of the event iteration; three suffice everywhere but near the polar circles, where the
    /// event instant is sensitive to declination.
    private static let maximumIterations = 8

    /// Stop iterating when the estimate moves less than this.
    private static let convergenceSeconds = 0.01

    // MARK: - Hour angle

    /// cos of the hour angle at which the sun's centre is at `zenith` (spreadsheet column AF,
    /// Meeus eq. 15.1): cos H = (cos z − sin φ sin δ) / (cos φ cos δ). Not clamped: a value outside
    /// [−1, 1] means the sun never reaches that zenith angle on this day.
    private static func cosineOfHourAngle(zenith: Double, latitude: Double, declination: Double) -> Double {
        let phi = radians(latitude)
        let delta = radians(declination)
        return (cos(radians(zenith)) - sin(phi) * sin(delta)) / (cos(phi) * cos(delta))
    }

    // MARK: - Solar position (NOAA spreadsheet columns G–V)

    /// The two quantities of the sun's apparent position the event times need.
    struct SolarPosition {
        /// Apparent declination in degrees (column T).
        var declination: Double
        /// Equation of time in minutes: apparent minus mean solar time (column V).
        var equationOfTime: Double

        init(at instant: Instant) {
            // Julian century from J2000.0 (columns F–G). 2000-01-01T12:00:00 is 946 728 000 s after
            // the Unix epoch; computing from there rather than from the Julian day keeps full precision.
            let t = (instant.secondsSinceEpoch - 946_728_000) / 86_400 / 36_525

            // Geometric mean longitude and mean anomaly of the sun, in degrees (columns I, J; Meeus
            // 25.2, 25.3), and the eccentricity of Earth's orbit (column K; Meeus 25.4).
            let meanLongitude = (280.46646 + t * (36_000.76983 + t * 0.0003032))
                .truncatingRemainder(dividingBy: 360)
            let meanAnomaly = 357.52911 + t * (35_999.05029 - 0.0001537 * t)
            let eccentricity = 0.016708634 - t * (0.000042037 + 0.0000001267 * t)

            // Equation of centre (column L) gives the true longitude (column M).
            let m = radians(meanAnomaly)
            let centre = sin(m) * (1.914602 - t * (0.004817 + 0.000014 * t))
                + sin(2 * m) * (0.019993 - 0.000101 * t)
                + sin(3 * m) * 0.000289
            let trueLongitude = meanLongitude + centre

            // Apparent longitude (column P): corrected for nutation and aberration through the
            // longitude of the Moon's ascending node Ω (Meeus 25.8 and the note after it).
            let omega = radians(125.04 - 1934.136 * t)
            let apparentLongitude = trueLongitude - 0.00569 - 0.00478 * sin(omega)

            // Mean obliquity of the ecliptic (column Q; Meeus 22.2) and its nutation correction
            // (column R).
            let meanObliquity = 23 + (26 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60) / 60
            let obliquity = radians(meanObliquity + 0.00256 * cos(omega))

            // Declination (column T; Meeus 25.7).
            declination = SolarCalculator.degrees(asin(sin(obliquity) * sin(radians(apparentLongitude))))

            // Equation of time (columns U–V; Meeus 28.3, Smart's series), converted from radians of
            // hour angle to minutes of time: 1° = 4 min.
            let y = tan(obliquity / 2) * tan(obliquity / 2)
            let l0 = radians(meanLongitude)
            let e = eccentricity
            let eot = y * sin(2 * l0)
                - 2 * e * sin(m)
                + 4 * e * y * sin(m) * cos(2 * l0)
                - 0.5 * y * y * sin(4 * l0)
                - 1.25 * e * e * sin(2 * m)
            equationOfTime = 4 * SolarCalculator.degrees(eot)
        }
    }

    // MARK: - Angle conversion

    static func radians(_ degrees: Double) -> Double { degrees * .pi / 180 }
    static func degrees(_ radians: Double) -> Double { radians * 180 / .pi }
}

// MARK: - Elementary functions

// The formulas above read as in the almanac; these name swift-numerics' functions the same way.
private func sin(_ x: Double) -> Double { .sin(x) }
private func cos(_ x: Double) -> Double { .cos(x) }
private func tan(_ x: Double) -> Double { .tan(x) }
private func asin(_ x: Double) -> Double { .asin(x) }
private func acos(_ x: Double) -> Double { .acos(x) }
