import LightCore
import ProfileFormat

/// The program in control before any route profile has arrived (or when the stored one cannot
/// be read): the lamp at full light from sunset to sunrise, nothing dimmed, no presence control.
/// Written as a profile document so that it goes through the same loader and checks as any other.
/// It is never signed or stored: the controller holds no signed profile while it runs, so any
/// signed profile for the route replaces it, whatever its version.
public enum FailsafeProfile {
    /// The built-in program for `pole` at `location`, or the loader's complaint (a bug: the text
    /// is ours, but it must never fail silently). Without a location the pole cannot know when
    /// the sun sets, and the state machine's own failsafe (lamp on, day and night) applies.
    public static func make(pole: String, route: String, location: GeoPoint) throws -> Profile {
        let lat = location.latitude, lon = location.longitude
        // Nights are counted noon to noon local time: a zone near the pole's own solar time keeps
        // the whole night in one plan anywhere on Earth ("Etc/GMT-1" is UTC+1, POSIX signs).
        let hours = Int((lon / 15).rounded())
        let zone = hours == 0 ? "UTC" : "Etc/GMT\(hours > 0 ? "-" : "+")\(abs(hours))"
        let text = """
            format: lichtweg-profile/1
            version: 1
            author: lichtweg-pole (built-in failsafe program)
            route:
              id: "\(route)"
              name: built-in failsafe
              timezone: \(zone)
              location: {lat: \(lat), lon: \(lon)}
              luminaires:
                # The pole's luminaire is not known without a profile: 1 W nominal, so that
                # energy figures of the failsafe program are counted in "full-light hours".
                unknown: {power: 1, standby: 0}
              poles:
                - {id: "\(pole)", chainage: 0, lat: \(lat), lon: \(lon), luminaire: unknown}
            lightingClasses: {P1: 100}
            calendar: {default: failsafe}
            programs:
              failsafe:
                switchOn: {event: sunset}
                switchOff: {event: sunrise}
                class: P1
                steps:
                  - {at: switchOn, level: 100}

            """
        return try ProfileLoader.load(text, file: "built-in failsafe program").get()
    }
}
