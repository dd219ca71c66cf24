import Foundation  // reference implementation only
import Testing
@testable import LightCore

// MARK: - Helpers

private let zoneDirectory = "/usr/share/zoneinfo"

private func zoneFile(_ identifier: String) throws -> [UInt8] {
    let data = try #require(FileManager.default.contents(atPath: zoneDirectory + "/" + identifier))
    return [UInt8](data)
}

/// Deterministic pseudo-random numbers (SplitMix64), so failures reproduce.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Unix seconds of a UTC date and time.
private func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0) -> Int64 {
    CivilCalendar.days(year: Int64(year), month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60)
}

private func localDate(_ year: Int, _ month: Int, _ day: Int) -> LocalDate {
    LocalDate(daysSinceEpoch: Int(CivilCalendar.days(year: Int64(year), month: month, day: day)))
}

private func rule(_ text: String) throws -> POSIXTZRule { try #require(POSIXTZRule(text)) }

/// Asserts that `rule` changes from `before` to `after` exactly at `t`.
private func expectChange(_ rule: POSIXTZRule, at t: Int64, from before: Int, to after: Int,
                          sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(rule.offset(atSeconds: t - 1) == before, sourceLocation: sourceLocation)
    #expect(rule.offset(atSeconds: t) == after, sourceLocation: sourceLocation)
}

/// Writes TZif files for synthetic cases.
private struct TZifBuilder {
    var version: UInt8 = UInt8(ascii: "2")
    var transitions: [(time: Int64, type: UInt8)] = []
    var types: [(utcOffset: Int32, isDST: Bool)] = [(0, false)]
    var footer = ""
    var leapSeconds: [(Int64, Int32)] = []

    func bytes() -> [UInt8] {
        var out: [UInt8] = []
        func be32(_ v: UInt32) { for s in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) } }
        func be64(_ v: UInt64) { for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
        let designations = Array("ABC\0".utf8)
        func block(timeSize: Int) {
            let kept = timeSize == 8 ? transitions : transitions.filter { Int64(Int32.min)...Int64(Int32.max) ~= $0.time }
            out += Array("TZif".utf8)
            out.append(timeSize == 4 && version == 0 ? 0 : version)
            out += [UInt8](repeating: 0, count: 15)
            for count in [0, 0, leapSeconds.count, kept.count, types.count, designations.count] { be32(UInt32(count)) }
            for t in kept { timeSize == 8 ? be64(UInt64(bitPattern: t.time)) : be32(UInt32(bitPattern: Int32(t.time))) }
            out += kept.map(\.type)
            for type in types { be32(UInt32(bitPattern: type.utcOffset)); out += [type.isDST ? 1 : 0, 0] }
            out += designations
            for (time, correction) in leapSeconds {
                timeSize == 8 ? be64(UInt64(bitPattern: time)) : be32(UInt32(bitPattern: Int32(time)))
                be32(UInt32(bitPattern: correction))
            }
        }
        block(timeSize: 4)
        if version != 0 {
            block(timeSize: 8)
            out += Array("\n\(footer)\n".utf8)
        }
        return out
    }
}

// MARK: - Agreement with Foundation

/// Instants at which Foundation (ICU) and the TZif reader legitimately differ, with the reason.
/// Empty: none were found for these zones with the system's tzdata 2025b.
private let knownDisagreements: [String: ClosedRange<Int64>] = [:]

@Suite("Zone rules: agree with Foundation's TimeZone (ICU data) on 14 zones") struct FoundationAgreement {
    static let zones = [
        "Europe/Berlin", "Europe/London", "Europe/Dublin", "America/New_York", "America/Sao_Paulo",
        "Australia/Sydney", "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Kolkata", "Asia/Tehran",
        "Africa/Casablanca", "America/St_Johns", "Pacific/Apia", "UTC",
    ]

    /// Every 6 hours 1970–2060, 20 000 random instants 1900–2100, ±1 s around every transition in
    /// the file and around every change of the footer rule up to 2100.
    static func sampleInstants(for table: ZoneTable, seed: UInt64) -> [Int64] {
        var instants: [Int64] = []
        instants += stride(from: utc(1970, 1, 1), to: utc(2060, 1, 1), by: 6 * 3600)
        var random = SplitMix64(state: seed)
        let range = utc(1900, 1, 1)...utc(2100, 1, 1)
        instants += (0..<20_000).map { _ in Int64.random(in: range, using: &random) }
        for t in table.transitions + table.footerTimes where range.contains(t) {
            instants += [t - 1, t, t + 1]
        }
        return instants
    }

    @Test(arguments: zones)
    func offsetsMatchFoundation(identifier: String) throws {
        let zone = try #require(ZoneRules(identifier: identifier))
        let reference = try #require(TimeZone(identifier: identifier))
        let table = try #require(TZifFile(bytes: zoneFile(identifier)).map(ZoneTable.init))
        let instants = Self.sampleInstants(for: table, seed: identifier.utf8.reduce(0) { $0 &* 31 &+ UInt64($1) })
        var mismatches: [String] = []
        for t in instants where !(knownDisagreements[identifier]?.contains(t) ?? false) {
            let ours = zone.offset(at: Instant(secondsSinceEpoch: Double(t)))
            let theirs = reference.secondsFromGMT(for: Date(timeIntervalSince1970: Double(t)))
            if ours != theirs {
                mismatches.append("\(Date(timeIntervalSince1970: Double(t))) (\(t)): ours \(ours), Foundation \(theirs)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(instants.count) differ, e.g. \(mismatches.prefix(10))")
        // Fractional instants agree with the whole second they lie in.
        for t in table.transitions where t > utc(1900, 1, 1) {
            #expect(zone.offset(at: Instant(secondsSinceEpoch: Double(t) - 0.25)) == zone.offset(at: Instant(secondsSinceEpoch: Double(t - 1))))
            #expect(zone.offset(at: Instant(secondsSinceEpoch: Double(t) + 0.25)) == zone.offset(at: Instant(secondsSinceEpoch: Double(t))))
        }
    }
}

// MARK: - Footer rules

@Suite("Zone rules: the POSIX TZ rule after the last transition") struct FooterRules {
    @Test func berlin2050() throws {
        let berlin = try rule("CET-1CEST,M3.5.0,M10.5.0/3")
        expectChange(berlin, at: utc(2050, 3, 27, 1), from: 3600, to: 7200)
        expectChange(berlin, at: utc(2050, 10, 30, 1), from: 7200, to: 3600)
        // The real file, where 2050 is beyond the listed transitions.
        let zone = try #require(ZoneRules(identifier: "Europe/Berlin"))
        #expect(zone.offset(at: Instant(secondsSinceEpoch: Double(utc(2050, 3, 27, 1) - 1))) == 3600)
        #expect(zone.offset(at: Instant(secondsSinceEpoch: Double(utc(2050, 3, 27, 1)))) == 7200)
        #expect(zone.offset(at: Instant(secondsSinceEpoch: Double(utc(2050, 10, 30, 1) - 1))) == 7200)
        #expect(zone.offset(at: Instant(secondsSinceEpoch: Double(utc(2050, 10, 30, 1)))) == 3600)
    }

    @Test func newYork2045() throws {
        let newYork = try rule("EST5EDT,M3.2.0,M11.1.0")
        expectChange(newYork, at: utc(2045, 3, 12, 7), from: -18_000, to: -14_400)  // 02:00 EST
        expectChange(newYork, at: utc(2045, 11, 5, 6), from: -14_400, to: -18_000)  // 02:00 EDT
    }

    @Test func sydneySouthernHemisphere() throws {
        let sydney = try rule("AEST-10AEDT,M10.1.0,M4.1.0/3")
        expectChange(sydney, at: utc(2030, 10, 5, 16), from: 36_000, to: 39_600)  // 6 Oct 02:00 AEST
        expectChange(sydney, at: utc(2031, 4, 5, 16), from: 39_600, to: 36_000)  // 6 Apr 03:00 AEDT
        // Summer time spans the new year.
        #expect(sydney.offset(atSeconds: utc(2030, 12, 31, 23)) == 39_600)
        #expect(sydney.offset(atSeconds: utc(2031, 1, 1, 0)) == 39_600)
        #expect(sydney.offset(atSeconds: utc(2031, 7, 1)) == 36_000)
        let zone = try #require(ZoneRules(identifier: "Australia/Sydney"))
        #expect(zone.offset(at: Instant(secondsSinceEpoch: Double(utc(2070, 1, 1)))) == 39_600)
        #expect(zone.offset(at: Instant(secondsSinceEpoch: Double(utc(2070, 7, 1)))) == 36_000)
    }

    @Test func dublinNegativeDaylightSaving() throws {
        // Irish Standard Time (UTC+1) is the "standard" time; winter GMT is the "daylight" one.
        let dublin = try rule("IST-1GMT0,M10.5.0,M3.5.0/1")
        #expect(dublin.standardOffset == 3600)
        #expect(dublin.daylight?.offset == 0)
        expectChange(dublin, at: utc(2030, 10, 27, 1), from: 3600, to: 0)
        expectChange(dublin, at: utc(2031, 3, 30, 1), from: 0, to: 3600)
        let zone = try #require(ZoneRules(identifier: "Europe/Dublin"))
        #expect(zone.offset(at: Instant(secondsSinceEpoch: Double(utc(2050, 1, 15)))) == 0)
        #expect(zone.offset(at: Instant(secondsSinceEpoch: Double(utc(2050, 7, 15)))) == 3600)
    }

    @Test func julianDayIgnoringLeapDay() throws {
        // J60 is March 1 in every year.
        let julian = try rule("XXX3YYY,J60/2,J300/2")
        expectChange(julian, at: utc(2048, 3, 1, 5), from: -10_800, to: -7200)  // leap year
        expectChange(julian, at: utc(2049, 3, 1, 5), from: -10_800, to: -7200)
        // J300: October 27 in every year (day 300 of 365).
        expectChange(julian, at: utc(2048, 10, 27, 4), from: -7200, to: -10_800)
        expectChange(julian, at: utc(2049, 10, 27, 4), from: -7200, to: -10_800)
        let extremes = try rule("XXX3YYY,J1/0,J365/0")
        expectChange(extremes, at: utc(2048, 1, 1, 3), from: -10_800, to: -7200)
        expectChange(extremes, at: utc(2048, 12, 31, 2), from: -7200, to: -10_800)
    }

    @Test func zeroBasedDayOfYear() throws {
        // Day 59 counts February 29: March 1 in 2049, February 29 in 2048.
        let zeroBased = try rule("XXX3YYY,59/2,365/2")
        expectChange(zeroBased, at: utc(2049, 3, 1, 5), from: -10_800, to: -7200)
        expectChange(zeroBased, at: utc(2048, 2, 29, 5), from: -10_800, to: -7200)
        expectChange(zeroBased, at: utc(2048, 12, 31, 4), from: -7200, to: -10_800)  // day 365 of a leap year
        expectChange(zeroBased, at: utc(2050, 1, 1, 4), from: -7200, to: -10_800)  // ... is next January 1 otherwise
        let first = try rule("XXX3YYY,0/0,200")
        expectChange(first, at: utc(2049, 1, 1, 3), from: -10_800, to: -7200)
    }

    @Test func signedAndLongChangeTimes() throws {
        let signed = try rule("XXX3YYY,M3.2.0/-1,M11.1.0/26")
        expectChange(signed, at: utc(2045, 3, 12, 2), from: -10_800, to: -7200)  // Sat 23:00 local
        expectChange(signed, at: utc(2045, 11, 6, 4), from: -7200, to: -10_800)  // Mon 02:00 local
        let week = try rule("XXX3YYY,M3.2.0/167,M11.1.0/-167:00:00")
        expectChange(week, at: 2_373_501_600, from: -10_800, to: -7200)
        expectChange(week, at: 2_392_858_800, from: -7200, to: -10_800)
        // Greenland's 2023 rule.
        let nuuk = try rule("<-02>2<-01>,M3.5.0/-1,M10.5.0/0")
        expectChange(nuuk, at: utc(2050, 3, 27, 1), from: -7200, to: -3600)
        expectChange(nuuk, at: utc(2050, 10, 30, 1), from: -3600, to: -7200)
    }

    @Test func permanentDaylightIdiom() throws {
        // tzcode's way of writing "daylight time all year": each year ends as the next begins.
        let permanent = try rule("EST5EDT4,0/0,J365/25")
        for t in [utc(2040, 1, 1, 5) - 1, utc(2040, 1, 1, 5), utc(2040, 1, 1, 5) + 1, utc(2040, 6, 1), utc(2041, 12, 31, 12)] {
            #expect(permanent.offset(atSeconds: t) == -14_400)
        }
    }

    @Test func halfHourAndOddOffsets() throws {
        let chatham = try rule("<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45")
        #expect(chatham.standardOffset == 45_900)
        #expect(chatham.daylight?.offset == 49_500)  // default: one hour ahead
        expectChange(chatham, at: utc(2050, 9, 24, 14), from: 45_900, to: 49_500)  // 25 Sep 02:45 local
        let lordHowe = try rule("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0")
        expectChange(lordHowe, at: utc(2030, 10, 5, 15, 30), from: 37_800, to: 39_600)
        expectChange(lordHowe, at: utc(2031, 4, 5, 15), from: 39_600, to: 37_800)
        let stJohns = try rule("NST3:30NDT,M3.2.0,M11.1.0")
        expectChange(stJohns, at: utc(2045, 3, 12, 5, 30), from: -12_600, to: -9000)
    }

    @Test(arguments: [
        ("<+0330>-3:30", 12_600), ("<-03>3", -10_800), ("<+13>-13", 46_800), ("IST-5:30", 19_800),
        ("UTC0", 0), ("<+01>-1", 3600), ("GMT+0", 0), ("XXX-24", 86_400), ("XXX1:02:03", -3723),
    ])
    func fixedOffsets(text: String, offset: Int) throws {
        let fixed = try rule(text)
        #expect(fixed.daylight == nil)
        for t in [-ZoneTable.secondsLimit, 0, utc(2050, 7, 1), ZoneTable.secondsLimit] {
            #expect(fixed.offset(atSeconds: t) == offset)
        }
    }

    @Test func daylightWithoutRuleUsesUSDefault() throws {
        let bare = try rule("EST5EDT")
        expectChange(bare, at: utc(2045, 3, 12, 7), from: -18_000, to: -14_400)
    }

    @Test(arguments: [
        "", "CET", "CET-", "-1", "CE-1", "<+1>-1", "<+01-1", "CET-25", "CET-1:60", "CET-1:00:60", "CET-001",
        "CET-1CEST,", "CET-1CEST,M3.5.0", "CET-1CEST,M3.5.0,", "CET-1CEST,M13.5.0,M10.5.0/3",
        "CET-1CEST,M0.5.0,M10.5.0", "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.0.0,M10.5.0",
        "CET-1CEST,M3.5.7,M10.5.0", "CET-1CEST,M3.5,M10.5.0", "CET-1CEST,J0,J365", "CET-1CEST,J366,J1",
        "CET-1CEST,366,0", "CET-1CEST,M3.5.0/168,M10.5.0", "CET-1CEST,M3.5.0/-168,M10.5.0",
        "CET-1CEST,M3.5.0,M10.5.0/3x", "CET-1CEST25,M3.5.0,M10.5.0", "CET-1 CEST", "CET-1CEST,M3.5.0/1:2:3:4,J1",
        "CET-1CEST,M3.5.0;M10.5.0", "CÉT-1",
    ])
    func malformedRules(text: String) {
        #expect(POSIXTZRule(text) == nil)
    }

    @Test func extremeInstants() throws {
        let zone = try #require(ZoneRules(identifier: "Europe/Berlin"))
        for seconds in [1e15, -1e15, .infinity, -.infinity, .nan, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 9.3e18, -9.3e18] {
            let offset = zone.offset(at: Instant(secondsSinceEpoch: seconds))
            #expect([3208, 3600, 7200].contains(offset))
        }
        // local(_:) itself (unchanged) converts days to Int, so only finite sentinels are fine there.
        for seconds in [1e15, -1e15, 9.3e18, -9.3e18] { _ = zone.local(Instant(secondsSinceEpoch: seconds)) }
        #expect(zone.offset(at: Instant(secondsSinceEpoch: -1e15)) == 3208)  // local mean time, 0:53:28
        #expect(ZoneRules.utc.offset(at: Instant(secondsSinceEpoch: 1e15)) == 0)
        // Directly beyond the memoised span the rule is computed, with the same result.
        let table = try #require(TZifFile(bytes: zoneFile("Europe/Berlin")).map(ZoneTable.init))
        let footer = try #require(table.footer)
        for t in stride(from: utc(2190, 1, 1), to: utc(2210, 1, 1), by: 3 * 3600) {
            #expect(table.offset(atSeconds: t) == footer.offset(atSeconds: t))
        }
    }
}

// MARK: - TZif parsing

@Suite("Zone rules: reading TZif files, and refusing broken ones") struct TZifParsing {
    @Test func realFilesParse() throws {
        let berlin = try #require(TZifFile(bytes: zoneFile("Europe/Berlin")))
        #expect(berlin.version >= 2)
        #expect(berlin.footer == POSIXTZRule("CET-1CEST,M3.5.0,M10.5.0/3"))
        #expect(berlin.localTimeTypes.first?.utcOffset == 3208)
        #expect(berlin.transitionTimes.count == berlin.transitionTypes.count)
        let utcFile = try #require(TZifFile(bytes: zoneFile("UTC")))
        #expect(utcFile.transitionTimes.isEmpty)
        #expect(utcFile.footer == POSIXTZRule("UTC0"))
    }

    @Test func everyTruncationIsRejected() throws {
        for identifier in ["Europe/Berlin", "Asia/Kolkata", "UTC"] {
            let bytes = try zoneFile(identifier)
            for length in 0..<bytes.count {
                #expect(TZifFile(bytes: Array(bytes.prefix(length))) == nil, "\(identifier) cut at \(length)")
            }
        }
    }

    @Test func badHeadersAreRejected() throws {
        let bytes = try zoneFile("Europe/Berlin")
        var badMagic = bytes
        badMagic[3] = UInt8(ascii: "F")
        #expect(TZifFile(bytes: badMagic) == nil)
        var badVersion = bytes
        badVersion[4] = UInt8(ascii: "1")
        #expect(TZifFile(bytes: badVersion) == nil)
        var hugeCount = bytes
        hugeCount.replaceSubrange(32..<36, with: [0xFF, 0xFF, 0xFF, 0xFF])  // timecnt
        #expect(TZifFile(bytes: hugeCount) == nil)
    }

    @Test func randomBytesAreRejected() {
        var random = SplitMix64(state: 42)
        for round in 0..<20_000 {
            var bytes = (0..<Int.random(in: 0...600, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            if round % 2 == 0, bytes.count >= 5 {  // get past the magic so the counts are exercised
                bytes.replaceSubrange(0..<5, with: Array("TZif2".utf8))
            }
            #expect(TZifFile(bytes: bytes) == nil)
        }
    }

    @Test func mutatedFilesNeverTrap() throws {
        let original = try zoneFile("America/New_York")
        var random = SplitMix64(state: 7)
        var parsed = 0
        for _ in 0..<20_000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            if let zone = ZoneRules(identifier: "Test/Mutated", tzif: bytes) {
                parsed += 1
                for t in [-3e9, 0, 1e9, 2.2e9, 4e9, 1e15] { _ = zone.offset(at: Instant(secondsSinceEpoch: t)) }
            }
        }
        #expect(parsed > 0)  // mutations of unused bytes (names, the v1 block) still parse
    }

    @Test func structuralViolationsAreRejected() {
        let valid = TZifBuilder(transitions: [(0, 1), (100, 0)], types: [(0, false), (3600, true)], footer: "")
        #expect(TZifFile(bytes: valid.bytes()) != nil)
        var badIndex = valid
        badIndex.transitions[1].type = 2
        #expect(TZifFile(bytes: badIndex.bytes()) == nil)
        var descending = valid
        descending.transitions = [(100, 1), (0, 0)]
        #expect(TZifFile(bytes: descending.bytes()) == nil)
        var repeated = valid
        repeated.transitions = [(100, 1), (100, 0)]
        #expect(TZifFile(bytes: repeated.bytes()) == nil)
        var forbiddenOffset = valid
        forbiddenOffset.types[0].utcOffset = .min
        #expect(TZifFile(bytes: forbiddenOffset.bytes()) == nil)
        var noTypes = valid
        noTypes.types = []
        noTypes.transitions = []
        #expect(TZifFile(bytes: noTypes.bytes()) == nil)
        var badFooter = valid
        badFooter.footer = "CET-1CEST,M3.5.0"
        #expect(TZifFile(bytes: badFooter.bytes()) == nil)
        var leapSeconds = valid
        leapSeconds.leapSeconds = [(78_796_800, 1)]
        #expect(TZifFile(bytes: leapSeconds.bytes()) == nil)
        var isDSTTwo = valid.bytes()
        // First type record of the 64-bit block: header 44 + 2 × 8 times + 2 indices, then utoff.
        let v1Length = 44 + 2 * 4 + 2 + 2 * 6 + 4
        isDSTTwo[v1Length + 44 + 16 + 2 + 4] = 2
        #expect(TZifFile(bytes: isDSTTwo) == nil)
        #expect(TZifFile(bytes: valid.bytes() + Array("trailing".utf8)) != nil)  // room for extensions
    }

    @Test func extremeTransitionTimes() throws {
        let builder = TZifBuilder(transitions: [(.min, 1), (0, 0), (.max, 1)], types: [(100, false), (200, false)],
                                  footer: "CET-1CEST,M3.5.0,M10.5.0/3")
        let zone = try #require(ZoneRules(identifier: "Test/Extreme", tzif: builder.bytes()))
        #expect(zone.offset(at: Instant(secondsSinceEpoch: -1e15)) == 200)
        #expect(zone.offset(at: Instant(secondsSinceEpoch: 1e15)) == 100)
        #expect(zone.offset(at: Instant(secondsSinceEpoch: .infinity)) == 100)
    }

    @Test func versionOneFile() throws {
        let builder = TZifBuilder(version: 0, transitions: [(1000, 1), (2000, 0), (3000, 1)],
                                  types: [(-3600, false), (7200, true)])
        let file = try #require(TZifFile(bytes: builder.bytes()))
        #expect(file.version == 1)
        #expect(file.footer == nil)
        let zone = try #require(ZoneRules(identifier: "Test/V1", tzif: builder.bytes()))
        let offsets = [0.0, 999.5, 1000, 1999, 2000, 3000, 1e12].map { zone.offset(at: Instant(secondsSinceEpoch: $0)) }
        #expect(offsets == [-3600, -3600, 7200, 7200, -3600, 7200, 7200])  // last type continues
    }

    @Test(arguments: [UInt8(ascii: "2"), UInt8(ascii: "3"), UInt8(ascii: "4")])
    func laterVersions(version: UInt8) throws {
        let builder = TZifBuilder(version: version, transitions: [(-5_000_000_000, 1), (5_000_000_000, 0)],
                                  types: [(100, false), (200, false)], footer: "<+03>-3")
        let zone = try #require(ZoneRules(identifier: "Test/V", tzif: builder.bytes()))
        #expect(zone.offset(at: Instant(secondsSinceEpoch: -6e9)) == 100)  // 64-bit times were read
        #expect(zone.offset(at: Instant(secondsSinceEpoch: 0)) == 200)
        #expect(zone.offset(at: Instant(secondsSinceEpoch: 5e9)) == 100)  // at the last transition: its type
        #expect(zone.offset(at: Instant(secondsSinceEpoch: 5e9 + 1)) == 10_800)  // after it: the footer
    }

    @Test func beforeFirstTransitionUsesTypeZero() throws {
        // RFC 8536 §3.2: type 0, even when it is a daylight type and not the first one used.
        let builder = TZifBuilder(transitions: [(1000, 2), (2000, 1)],
                                  types: [(3600, true), (-7200, false), (0, false)], footer: "")
        let zone = try #require(ZoneRules(identifier: "Test/First", tzif: builder.bytes()))
        #expect(zone.offset(at: Instant(secondsSinceEpoch: 999)) == 3600)
        #expect(zone.offset(at: Instant(secondsSinceEpoch: 1000)) == 0)
        #expect(zone.offset(at: Instant(secondsSinceEpoch: 1e12)) == -7200)  // empty footer: last type
    }

    @Test func noTransitionsUsesFooterThroughout() throws {
        let builder = TZifBuilder(transitions: [], types: [(3600, false)], footer: "CET-1CEST,M3.5.0,M10.5.0/3")
        let zone = try #require(ZoneRules(identifier: "Test/FooterOnly", tzif: builder.bytes()))
        #expect(zone.offset(at: Instant(secondsSinceEpoch: Double(utc(1980, 7, 1)))) == 7200)
        #expect(zone.offset(at: Instant(secondsSinceEpoch: Double(utc(1850, 7, 1)))) == 7200)
        #expect(zone.offset(at: Instant(secondsSinceEpoch: Double(utc(1980, 1, 1)))) == 3600)
    }
}

// MARK: - Identifiers and loading

@Suite("Zone rules: which identifiers are zones") struct Identifiers {
    @Test(arguments: [
        "../etc/passwd", "/etc/passwd", "Europe//Berlin", "Europe/../UTC", "GMT+1", "Europe/Leipzig", "",
        "Europe/", "/", "Europe/./Berlin", "Europe/Berlin ", "Europe/Berlin\0", "America/Argentina",
        "right/Europe/Berlin", "zone.tab", "Europe\\Berlin", "Europe/Berlin/", "CET", "EST5EDT",
    ])
    func rejected(identifier: String) {
        #expect(ZoneRules(identifier: identifier) == nil)
    }

    @Test(arguments: ["Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+1", "America/Port-au-Prince"])
    func accepted(identifier: String) throws {
        let zone = try #require(ZoneRules(identifier: identifier))
        #expect(zone.identifier == identifier)
    }

    @Test func etcSignsAreInverted() throws {
        #expect(ZoneRules(identifier: "Etc/GMT+1")?.offset(at: Instant(secondsSinceEpoch: 0)) == -3600)
    }

    @Test func utcWithoutZoneDirectory() throws {
        let table = try #require(ZoneTable.load(identifier: "UTC", directory: "/nonexistent"))
        #expect(table.offset(atSeconds: 0) == 0)
        #expect(ZoneTable.load(identifier: "Europe/Berlin", directory: "/nonexistent") == nil)
        #expect(ZoneTable.load(identifier: "Europe/Berlin", directory: zoneDirectory) != nil)
        #expect(ZoneTable.load(identifier: "../zoneinfo/UTC", directory: zoneDirectory) == nil)
    }

    @Test func parsedOncePerIdentifier() throws {
        let first = try #require(ZoneTable.shared(identifier: "Asia/Tokyo"))
        let second = try #require(ZoneTable.shared(identifier: "Asia/Tokyo"))
        #expect(first === second)
    }

    @Test func equalityIsByIdentifier() throws {
        let loaded = try #require(ZoneRules(identifier: "Europe/Berlin"))
        let fromBytes = try #require(ZoneRules(identifier: "Europe/Berlin", tzif: zoneFile("Europe/Berlin")))
        #expect(loaded == fromBytes)
        #expect(loaded.hashValue == fromBytes.hashValue)
        #expect(loaded != ZoneRules.utc)
        #expect(ZoneRules(identifier: "Europe/Berlin", tzif: Array("TZif".utf8)) == nil)
    }
}

// MARK: - Local time

@Suite("Zone rules: local time across the changes") struct LocalTimeConversion {
    let berlin = ZoneRules(identifier: "Europe/Berlin")!

    @Test(arguments: [2024, 2050])  // listed transitions, and the footer
    func springGapMovesForward(year: Int) {
        let day = year == 2024 ? localDate(2024, 3, 31) : localDate(2050, 3, 27)
        let utcMidnight = Double(day.daysSinceEpoch) * 86_400
        // 02:30 does not exist; it becomes 03:30 CEST = 01:30 UTC.
        #expect(berlin.instant(on: day, secondsOfDay: 2.5 * 3600).secondsSinceEpoch == utcMidnight + 1.5 * 3600)
        #expect(berlin.instant(on: day, secondsOfDay: 1.5 * 3600).secondsSinceEpoch == utcMidnight + 0.5 * 3600)
        #expect(berlin.instant(on: day, secondsOfDay: 3.5 * 3600).secondsSinceEpoch == utcMidnight + 1.5 * 3600)
        #expect(berlin.lengthOfDay(day) == 82_800)
        #expect(berlin.lengthOfDay(day.adding(days: 1)) == 86_400)
    }

    @Test(arguments: [2024, 2050])
    func autumnOverlapTakesFirstOccurrence(year: Int) {
        let day = year == 2024 ? localDate(2024, 10, 27) : localDate(2050, 10, 30)
        let utcMidnight = Double(day.daysSinceEpoch) * 86_400
        // 02:30 happens at 00:30 UTC (CEST) and again at 01:30 UTC (CET): the first is chosen.
        let overlap = berlin.instant(on: day, at: LocalTime(hour: 2, minute: 30))
        #expect(overlap.secondsSinceEpoch == utcMidnight + 0.5 * 3600)
        #expect(berlin.instant(on: day, secondsOfDay: 3.5 * 3600).secondsSinceEpoch == utcMidnight + 2.5 * 3600)
        #expect(berlin.lengthOfDay(day) == 90_000)
        let local = berlin.local(overlap)
        #expect(local.date == day && local.secondsOfDay == 9000)
        let repeated = berlin.local(Instant(secondsSinceEpoch: utcMidnight + 1.5 * 3600))
        #expect(repeated.date == day && repeated.secondsOfDay == 9000)
    }

    @Test func roundTripsOutsideChanges() {
        var random = SplitMix64(state: 3)
        for _ in 0..<10_000 {
            let t = Double(Int64.random(in: utc(1980, 1, 1)...utc(2080, 1, 1), using: &random)) + 0.5
            let local = berlin.local(Instant(secondsSinceEpoch: t))
            let back = berlin.instant(on: local.date, secondsOfDay: local.secondsOfDay)
            // Equal except for the second occurrence of a repeated hour, which maps to the first.
            #expect(back.secondsSinceEpoch == t || back.secondsSinceEpoch == t - 3600)
        }
    }
}
