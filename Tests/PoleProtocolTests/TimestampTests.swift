import Foundation
import LightCore
import PoleProtocol
import Testing

/// 2026-11-23T17:04:05Z.
private let base = Instant(secondsSinceEpoch: 1_795_453_445)

@Suite("Timestamp")
struct TimestampTests {
    @Test("formats in UTC with exactly three fraction digits", arguments: [
        (0.0, "2026-11-23T17:04:05.000Z"),
        (0.123, "2026-11-23T17:04:05.123Z"),
        (0.05, "2026-11-23T17:04:05.050Z"),
        (0.007, "2026-11-23T17:04:05.007Z"),
        (0.0004, "2026-11-23T17:04:05.000Z"),
        (0.9996, "2026-11-23T17:04:06.000Z"),  // rounds up into the next second
        (54.999, "2026-11-23T17:04:59.999Z"),
    ])
    func format(offset: Double, expected: String) {
        #expect(Timestamp.format(base + offset) == expected)
        #expect(Timestamp(base + offset).description == expected)
    }

    @Test("the epoch")
    func epoch() {
        #expect(Timestamp.format(Instant(secondsSinceEpoch: 0)) == "1970-01-01T00:00:00.000Z")
    }

    @Test("format then parse gives the instant back (to the millisecond)", arguments: [
        0.0, 0.001, 0.123, 0.5, 0.999, 86_400 * 400 + 0.25, -86_400 * 3000 + 0.75,
    ])
    func roundTrip(offset: Double) throws {
        let instant = base + offset
        let text = Timestamp.format(instant)
        let parsed = try #require(Timestamp.parse(text), "could not parse \(text)")
        #expect(abs(parsed - instant) < 1e-6, "\(text) parsed as \(parsed.secondsSinceEpoch)")
        #expect(Timestamp.format(parsed) == text)
    }

    @Test("parses whole seconds, fractions of any length and lower-case t/z", arguments: [
        ("2026-11-23T17:04:05Z", 0.0),
        ("2026-11-23T17:04:05.5Z", 0.5),
        ("2026-11-23T17:04:05.123Z", 0.123),
        ("2026-11-23T17:04:05.123456789Z", 0.123456789),
        ("2026-11-23T17:04:05.0Z", 0.0),
        ("2026-11-23t17:04:05z", 0.0),
    ])
    func parseUTC(text: String, fraction: Double) throws {
        let parsed = try #require(Timestamp.parse(text))
        #expect(abs(parsed - (base + fraction)) < 1e-6)
    }

    @Test("applies a UTC offset", arguments: [
        "2026-11-23T19:04:05+02:00",
        "2026-11-23T18:04:05+01:00",
        "2026-11-23T11:34:05-05:30",
        "2026-11-23T17:04:05+00:00",
        "2026-11-23T17:04:05-00:00",
        "2026-11-24T06:49:05+13:45",
    ])
    func parseOffset(text: String) throws {
        let parsed = try #require(Timestamp.parse(text))
        #expect(parsed == base)
    }

    @Test("an offset with a fraction")
    func offsetAndFraction() throws {
        let parsed = try #require(Timestamp.parse("2026-11-23T19:04:05.250+02:00"))
        #expect(abs(parsed - (base + 0.25)) < 1e-6)
    }

    @Test("29 February only in a leap year")
    func leapDay() throws {
        let leap = try #require(Timestamp.parse("2028-02-29T00:00:00Z"))
        #expect(Timestamp.format(leap) == "2028-02-29T00:00:00.000Z")
        #expect(Timestamp.parse("2026-02-29T00:00:00Z") == nil)
    }

    @Test("rejects anything else", arguments: [
        "",
        "garbage",
        "2026-11-23",
        "2026-11-23T17:04:05",            // no zone
        "2026-11-23T17:04:05.123",        // no zone after the fraction
        "2026-02-31T12:00:00Z",           // 31 February
        "2026-04-31T12:00:00Z",           // 31 April
        "2026-13-01T12:00:00Z",
        "2026-00-10T12:00:00Z",
        "2026-11-00T12:00:00Z",
        "2026-11-32T12:00:00Z",
        "2026-11-23T24:00:00Z",
        "2026-11-23T17:60:00Z",
        "2026-11-23T17:04:61Z",
        "2026-11-23 17:04:05Z",
        "2026-11-23T17:04:05.Z",          // a dot without digits
        "2026-11-23T17:04:05ZZ",
        "2026-11-23T17:04:05Z ",
        "2026-11-23T17:04:05+0200",
        "2026-11-23T17:04:05+02",
        "2026-11-23T17:04:05+02:00Z",
        "2026-11-23T17:04:05+24:00",
        "2026-11-23T17:04:05+02:60",
        "2026-11-23T17:04:05 UTC",
        "2026/11/23T17:04:05Z",
        "20x6-11-23T17:04:05Z",
        "1795453445",
    ])
    func rejects(text: String) {
        #expect(Timestamp.parse(text) == nil, "accepted '\(text)'")
    }

    private struct Wrapper: Codable, Equatable {
        var at: Timestamp
    }

    @Test("Codable: a JSON string, and back")
    func codable() throws {
        let value = Wrapper(at: Timestamp(base + 0.123))
        let json = try JSONEncoder().encode(value)
        #expect(String(decoding: json, as: UTF8.self) == #"{"at":"2026-11-23T17:04:05.123Z"}"#)
        let decoded = try JSONDecoder().decode(Wrapper.self, from: json)
        #expect(abs(decoded.at.instant - value.at.instant) < 1e-6)
        #expect(decoded.at.description == value.at.description)
    }

    @Test("Codable: decoding takes offsets, and refuses a non-time with a DecodingError")
    func decodingVariants() throws {
        let offset = try JSONDecoder().decode(Wrapper.self, from: Data(#"{"at":"2026-11-23T19:04:05+02:00"}"#.utf8))
        #expect(offset.at.instant == base)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Wrapper.self, from: Data(#"{"at":"yesterday"}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Wrapper.self, from: Data(#"{"at":1795453445}"#.utf8))
        }
    }
}
