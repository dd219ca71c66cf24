import LightCore
import ProfileFormat

/// The program in control before any route profile has arrived (or when the stored one cannot
/// be read): the lamp at full light from sunset to sunrise, nothing dimmed, no presence control.
/// Written as a profile document so that it goes through the same loader and checks as any other.
/// It is never signed or stored: the controller holds no signed profile while it runs, so any
/// signed profile for the route replaces it, whatever its version.
public enum FailsafeProfile {
    /// The built-in program for `pole` at `location`. Without a location the pole cannot know
    /// when the sun sets, and the state machine's own failsafe (lamp on, day and night) applies.
    public static func make(pole: String, route: String, location: GeoPoint) -> Profile? {
        let lat = location.latitude, lon = location.longitude
        let text = """
            format: lichtweg-profile/1
            version: 1
            author: lichtweg-pole (built-in failsafe program)
            route:
              id: \(route)
              name: built-in failsafe
              timezone: UTC
              location: {lat: \(lat), lon: \(lon)}
              luminaires:
                unknown: {power: 0, standby: 0}
              poles:
                - {id: \(pole), chainage: 0, lat: \(lat), lon: \(lon), luminaire: unknown}
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
        return try? ProfileLoader.load(text, file: "built-in failsafe").get()
    }
}
