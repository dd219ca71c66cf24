import LightCore

/// This build of the pole firmware.
public enum Firmware {
    public static let version = "0.4.0"

    /// The day this firmware was released. A clock that reads earlier than this cannot be right
    /// (a board without RTC boots in 1970, one with a flat RTC battery somewhere in its past), so
    /// the pole does not trust it: failsafe level and a `clock-invalid` fault until it is set.
    /// Moved forward with every release.
    public static let releaseDate = Instant(secondsSinceEpoch: 1_795_392_000)  // 2026-11-23T00:00:00Z
}
