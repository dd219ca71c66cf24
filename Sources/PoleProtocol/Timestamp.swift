import LightCore

/// An instant as it travels in a payload: ISO 8601 in UTC with milliseconds,
/// e.g. `2026-11-23T17:04:05.123Z`. Decoding also takes whole seconds and any UTC offset.
public struct Timestamp: Hashable, Sendable, Codable, CustomStringConvertible {
    public var instant: Instant

    public init(_ instant: Instant) {
        self.instant = instant
    }

    public var description: String { Self.format(instant) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let instant = Self.parse(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "not an ISO 8601 time: \(text)"))
        }
        self.instant = instant
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Self.format(instant))
    }

    /// `2026-11-23T17:04:05.123Z`.
    public static func format(_ instant: Instant) -> String {
        let millis = (instant.secondsSinceEpoch * 1000).rounded()
        let whole = Instant(secondsSinceEpoch: (millis / 1000).rounded(.down))
        let ms = Int(millis - whole.secondsSinceEpoch * 1000)
        var text = ISO8601.format(whole, utcOffsetSeconds: 0)
        text.removeLast()  // "Z"
        let frac = ms < 10 ? "00\(ms)" : ms < 100 ? "0\(ms)" : "\(ms)"
        return text + "." + frac + "Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)`; nil for anything else.
    public static func parse(_ text: String) -> Instant? {
        let u = Array(text.utf8)
        func num(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= u.count else { return nil }
            var v = 0
            for i in range {
                guard u[i] >= 48 && u[i] <= 57 else { return nil }
                v = v * 10 + Int(u[i] - 48)
            }
            return v
        }
        guard u.count >= 20, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"),
              u[10] == UInt8(ascii: "T") || u[10] == UInt8(ascii: "t"),
              u[13] == UInt8(ascii: ":"), u[16] == UInt8(ascii: ":"),
              let year = num(0..<4), let month = num(5..<7), let day = num(8..<10),
              let hour = num(11..<13), let minute = num(14..<16), let second = num(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            let start = i
            while i < u.count, u[i] >= 48, u[i] <= 57 {
                fraction += Double(u[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < u.count else { return nil }
        var offset = 0
        if u[i] == UInt8(ascii: "Z") || u[i] == UInt8(ascii: "z") {
            guard i + 1 == u.count else { return nil }
        } else if u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
            guard i + 6 == u.count, u[i + 3] == UInt8(ascii: ":"),
                  let oh = num(i + 1..<i + 3), let om = num(i + 4..<i + 6), oh < 24, om < 60
            else { return nil }
            offset = (oh * 3600 + om * 60) * (u[i] == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return nil
        }
        let date = LocalDate(year: year, month: month, day: day)
        guard LocalDate(daysSinceEpoch: date.daysSinceEpoch) == date else { return nil }  // 31 February
        let seconds = Double(date.daysSinceEpoch) * 86_400 + Double(hour * 3600 + minute * 60 + second)
            + fraction - Double(offset)
        return Instant(secondsSinceEpoch: seconds)
    }
}
