// Time-zone rules read directly from the system's IANA zone files (TZif, RFC 8536).
//
// The core imports FoundationEssentials only, and FoundationEssentials' TimeZone knows no IANA
// zones; so this file parses the compiled zone files that every Linux distribution (and macOS)
// installs, including the POSIX TZ string in their footer that describes the rules after the
// last listed transition.

// MARK: - ZoneRules

/// The rules of one IANA time zone: converts between instants and local wall-clock time,
/// including daylight-saving changes.
///
/// Local times that do not exist (the hour skipped in spring) resolve to the same wall-clock
/// offset *after* the gap — 02:30 on the spring-forward night becomes 03:30 summer time, one hour
/// of wall time later, which is what a person reading the clock would expect. Local times that occur
/// twice (the hour repeated in autumn) resolve to the *first* occurrence.
public struct ZoneRules: Sendable, Hashable {
    public let identifier: String
    /// The parsed zone. A class instance shared by every copy, so copying `ZoneRules` is cheap.
    private let table: ZoneTable

    /// nil when the identifier is not a known IANA zone.
    ///
    /// Reads `$TZDIR/<identifier>` (default `/usr/share/zoneinfo`) once per process and identifier;
    /// later calls reuse the parsed zone. "UTC" works even without a zone directory.
    public init?(identifier: String) {
        // Foundation accepts abbreviations and offsets such as "GMT+1"; a profile must name a region.
        guard identifier == "UTC" || identifier.contains("/"),
              let table = ZoneTable.shared(identifier: identifier)
        else { return nil }
        self.identifier = identifier
        self.table = table
    }

    /// A zone parsed from the bytes of a TZif file, without touching the file system or the cache.
    /// nil when the bytes are not a well-formed TZif file. `identifier` is only a label, but it is
    /// what equality and hashing use.
    public init?(identifier: String, tzif: [UInt8]) {
        guard let file = TZifFile(bytes: tzif) else { return nil }
        self.identifier = identifier
        self.table = ZoneTable(file)
    }

    public static let utc = ZoneRules(identifier: "UTC")!

    public static func == (a: ZoneRules, b: ZoneRules) -> Bool { a.identifier == b.identifier }
    public func hash(into hasher: inout Hasher) { hasher.combine(identifier) }

    /// Seconds east of UTC in force at `instant`.
    public func offset(at instant: Instant) -> Int {
        table.offset(atSeconds: ZoneTable.wholeSeconds(instant.secondsSinceEpoch))
    }

    /// The local date and the seconds since local midnight of `instant`.
    public func local(_ instant: Instant) -> (date: LocalDate, secondsOfDay: Double) {
        let localSeconds = instant.secondsSinceEpoch + Double(offset(at: instant))
        let days = Int((localSeconds / 86_400).rounded(.down))
        return (LocalDate(daysSinceEpoch: days), localSeconds - Double(days) * 86_400)
    }

    /// The instant at which local clocks show `time` on `date` (see the type's note on gaps).
    public func instant(on date: LocalDate, at time: LocalTime) -> Instant {
        instant(on: date, secondsOfDay: Double(time.secondsOfDay))
    }

    /// The instant at which local clocks show `secondsOfDay` after midnight on `date`.
    public func instant(on date: LocalDate, secondsOfDay: Double) -> Instant {
        let wall = Double(date.daysSinceEpoch) * 86_400 + secondsOfDay
        // Candidate offsets are those in force a day either side; DST changes are rarer than that.
        let before = offset(at: Instant(secondsSinceEpoch: wall - 86_400))
        let after = offset(at: Instant(secondsSinceEpoch: wall + 86_400))
        let first = Instant(secondsSinceEpoch: wall - Double(before))
        if offset(at: first) == before { return first }  // valid with the earlier offset: first occurrence
        let second = Instant(secondsSinceEpoch: wall - Double(after))
        if offset(at: second) == after { return second }
        // In a gap: keep the offset from before the change, i.e. move forward by the gap's length.
        return first
    }

    /// The local wall-clock midnight-to-midnight length of `date` in seconds (82 800, 86 400 or 90 000
    /// around DST changes).
    public func lengthOfDay(_ date: LocalDate) -> Double {
        instant(on: date.adding(days: 1), secondsOfDay: 0) - instant(on: date, secondsOfDay: 0)
    }
}
