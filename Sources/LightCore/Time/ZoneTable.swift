import FoundationEssentials
import Synchronization

// MARK: - Zone table

/// One zone's UTC offsets, flattened from a TZif file into the arrays a lookup needs.
final class ZoneTable: Sendable {
    /// Transition instants in Unix seconds, strictly ascending.
    let transitions: [Int64]
    /// `offsets[i]` is the offset (seconds east) in force from `transitions[i]` to the next one.
    let offsets: [Int32]
    /// In force before the first transition: RFC 8536 §3.2 assigns such instants local time type 0.
    let initialOffset: Int
    /// In force after the last transition (or always, when there are none). Without it the offset
    /// of the last transition simply continues.
    let footer: POSIXTZRule?
    /// The footer's offsets sampled at each of its changes from the footer's first instant up to
    /// `footerMemoEnd` (the first entry is that first instant): lookups in the next two centuries
    /// then cost one binary search instead of six calendar computations. Empty for fixed offsets.
    let footerTimes: [Int64]
    let footerOffsets: [Int32]

    /// 1900-01-01 and 2200-01-01 UTC: the span worth memoising.
    static let footerMemoStart: Int64 = -2_208_988_800
    static let footerMemoEnd: Int64 = 7_258_118_400

    init(transitions: [Int64], offsets: [Int32], initialOffset: Int, footer: POSIXTZRule?) {
        self.transitions = transitions
        self.offsets = offsets
        self.initialOffset = initialOffset
        self.footer = footer
        // The footer applies from just after the last transition (a file may put that anywhere
        // in Int64, hence the clamp before adding one).
        (footerTimes, footerOffsets) = Self.sampleFooter(
            footer, after: transitions.last.map { min($0, Self.footerMemoEnd) + 1 } ?? Self.footerMemoStart)
    }

    /// The footer's offset at `start` and at each of its changes in [`start`, `footerMemoEnd`),
    /// keeping only real changes of offset.
    private static func sampleFooter(_ footer: POSIXTZRule?, after start: Int64) -> ([Int64], [Int32]) {
        let start = max(start, footerMemoStart)
        guard let footer, let daylight = footer.daylight, start < footerMemoEnd else { return ([], []) }
        var changes: [Int64] = []
        let firstYear = CivilCalendar.year(ofDay: CivilCalendar.floorDivide(start, 86_400)) - 1
        for year in firstYear...2200 {
            changes.append(POSIXTZRule.instant(of: daylight.start, in: year, clockOffset: footer.standardOffset))
            changes.append(POSIXTZRule.instant(of: daylight.end, in: year, clockOffset: daylight.offset))
        }
        var times = [start]
        var values = [Int32(truncatingIfNeeded: footer.offset(atSeconds: start))]
        for change in changes.sorted() where change > start && change < footerMemoEnd {
            // Evaluating the rule itself at each change keeps the memo identical to the rule,
            // tie-breaking included.
            let value = Int32(truncatingIfNeeded: footer.offset(atSeconds: change))
            if value != values.last {
                times.append(change)
                values.append(value)
            }
        }
        return (times, values)
    }

    convenience init(_ file: TZifFile) {
        // The parser guarantees at least one type and in-range indices; the fallbacks only keep
        // this initialiser total.
        let types = file.localTimeTypes
        let offsets = file.transitionTypes.map { index in
            Int(index) < types.count ? types[Int(index)].utcOffset : 0
        }
        self.init(transitions: file.transitionTimes, offsets: offsets,
                  initialOffset: Int(types.first?.utcOffset ?? 0), footer: file.footer)
    }

    /// Always UTC; used when the system has no "UTC" file.
    static let utc = ZoneTable(transitions: [], offsets: [], initialOffset: 0, footer: nil)

    /// Seconds east of UTC at `t` (whole Unix seconds).
    func offset(atSeconds t: Int64) -> Int {
        let passed = Self.count(of: transitions, notAfter: t)
        if passed == 0 {
            if transitions.isEmpty, let footer { return offset(of: footer, at: t) }
            return initialOffset
        }
        if passed == transitions.count, let footer, t > transitions[passed - 1] {
            return offset(of: footer, at: t)
        }
        return Int(offsets[passed - 1])
    }

    private func offset(of footer: POSIXTZRule, at t: Int64) -> Int {
        if let first = footerTimes.first, t >= first, t < Self.footerMemoEnd {
            return Int(footerOffsets[Self.count(of: footerTimes, notAfter: t) - 1])
        }
        return footer.offset(atSeconds: t)
    }

    /// How many of the ascending `times` are at or before `t` (binary search).
    private static func count(of times: [Int64], notAfter t: Int64) -> Int {
        var lower = 0
        var upper = times.count
        while lower < upper {
            let middle = (lower + upper) / 2
            if times[middle] <= t { lower = middle + 1 } else { upper = middle }
        }
        return lower
    }

    /// ±2^56 s is ±2.3 billion years: far beyond any "never" sentinel (Instant.distantPast/Future
    /// are ±1e15 s), yet small enough that calendar arithmetic on it cannot overflow an Int64.
    static let secondsLimit: Int64 = 1 << 56

    /// The whole second containing `seconds`, clamped to ±`secondsLimit`. Rounding down is exact
    /// because transitions fall on whole seconds: t ≥ T exactly when ⌊t⌋ ≥ T. NaN maps to the lower
    /// limit rather than trapping.
    static func wholeSeconds(_ seconds: Double) -> Int64 {
        let floored = seconds.rounded(.down)
        let limit = Double(secondsLimit)
        if floored >= limit { return secondsLimit }
        if floored > -limit { return Int64(floored) }
        return -secondsLimit
    }
}

// MARK: - Loading and caching

/// Parsed zones by identifier, failures included, so that each file is read and parsed at most
/// once per process (the simulator asks for the same zone every simulated night).
private let zoneTableCache = Mutex<[String: ZoneTable?]>([:])

extension ZoneTable {
    /// The zone for `identifier`, read from the zone directory on first use.
    static func shared(identifier: String) -> ZoneTable? {
        zoneTableCache.withLock { cache -> ZoneTable? in
            if let known = cache[identifier] { return known }
            // Loading under the lock guarantees a single parse; the files are a few kilobytes.
            let table = load(identifier: identifier, directory: zoneDirectory)
            cache[identifier] = .some(table)
            return table
        }
    }

    /// `$TZDIR` when set, as the C library does, otherwise the usual system location.
    static var zoneDirectory: String {
        if let directory = ProcessInfo.processInfo.environment["TZDIR"], !directory.isEmpty {
            return directory
        }
        return "/usr/share/zoneinfo"
    }

    /// Reads and parses `<directory>/<identifier>`, without caching. nil for identifiers that could
    /// name something outside the directory, and for missing or malformed files; "UTC" falls back
    /// to a built-in table.
    static func load(identifier: String, directory: String) -> ZoneTable? {
        guard isSafeIdentifier(identifier) else { return nil }
        if let data = FileManager.default.contents(atPath: directory + "/" + identifier),
           let file = TZifFile(bytes: [UInt8](data)) {
            return ZoneTable(file)
        }
        return identifier == "UTC" ? .utc : nil
    }

    /// True when `identifier` is a relative path of plain names: the characters IANA uses in zone
    /// names (A–Z, a–z, 0–9, "/", "_", "+", "-"), no empty, "." or ".." components, so it cannot
    /// escape the zone directory.
    static func isSafeIdentifier(_ identifier: String) -> Bool {
        let allowed = identifier.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "/"), UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
        guard allowed, !identifier.isEmpty else { return false }
        // A leading or doubled "/" shows up as an empty component.
        return identifier.split(separator: "/", omittingEmptySubsequences: false).allSatisfy {
            !$0.isEmpty && $0 != "." && $0 != ".."
        }
    }
}
