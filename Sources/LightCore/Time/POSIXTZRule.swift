// MARK: - POSIX TZ rule

/// A POSIX TZ string such as `CET-1CEST,M3.5.0,M10.5.0/3`, with the RFC 8536 extensions (signed
/// change times up to ±167 hours). TZif footers use it for the instants after the last transition.
///
/// POSIX offsets count hours *west* of Greenwich ("CET-1" is UTC+1); this type stores seconds east,
/// like the rest of the file. The second ("daylight") offset need not be ahead of the first: Europe/
/// Dublin's `IST-1GMT0,M10.5.0,M3.5.0/1` has standard time in summer and a negative saving in winter.
struct POSIXTZRule: Sendable, Hashable {
    /// Seconds east of UTC outside daylight time.
    var standardOffset: Int
    /// nil for a fixed offset, e.g. `<+0330>-3:30`.
    var daylight: Daylight?

    struct Daylight: Sendable, Hashable {
        /// Seconds east of UTC during daylight time.
        var offset: Int
        /// Daylight time begins; `time` is read on the standard-time clock.
        var start: Change
        /// Daylight time ends; `time` is read on the daylight-time clock.
        var end: Change
    }

    /// One yearly change: a day, and a local time on it that may be negative or exceed 24 hours.
    struct Change: Sendable, Hashable {
        var day: Day
        /// Seconds after local midnight of `day`, −167 h ... +167 h.
        var time: Int
    }

    enum Day: Sendable, Hashable {
        /// `Jn`: day 1...365, February 29 never counted (J60 is always March 1).
        case julianIgnoringLeapDay(Int)
        /// `n`: day 0...365 counting February 29.
        case zeroBasedDayOfYear(Int)
        /// `Mm.w.d`: weekday `d` (0 = Sunday) of week `w` (1...5, 5 = last) of month `m`.
        case monthWeekDay(month: Int, week: Int, weekday: Int)
    }

    init(standardOffset: Int, daylight: Daylight?) {
        self.standardOffset = standardOffset
        self.daylight = daylight
    }

    init?(_ text: String) { self.init(ascii: Array(text.utf8)) }

    /// Parses the whole of `ascii`; nil when anything is malformed or left over.
    init?(ascii: [UInt8]) {
        var scanner = POSIXTZScanner(bytes: ascii)
        guard scanner.designation(), let standardWest = scanner.duration(maxHours: 24) else { return nil }
        standardOffset = -standardWest
        if scanner.atEnd {
            daylight = nil
            return
        }
        guard scanner.designation() else { return nil }
        // POSIX: without an explicit daylight offset, daylight time is one hour ahead.
        var daylightOffset = standardOffset + 3600
        if !scanner.atEnd, !scanner.peek(",") {
            guard let west = scanner.duration(maxHours: 24) else { return nil }
            daylightOffset = -west
        }
        let start, end: Change
        if scanner.atEnd {
            // No rule: like tzcode, assume the current US rule. zic always writes one, though.
            start = Change(day: .monthWeekDay(month: 3, week: 2, weekday: 0), time: 7200)
            end = Change(day: .monthWeekDay(month: 11, week: 1, weekday: 0), time: 7200)
        } else {
            guard scanner.consume(","), let parsedStart = scanner.change(),
                  scanner.consume(","), let parsedEnd = scanner.change(),
                  scanner.atEnd
            else { return nil }
            (start, end) = (parsedStart, parsedEnd)
        }
        daylight = Daylight(offset: daylightOffset, start: start, end: end)
    }

    /// Seconds east of UTC at `t` (Unix seconds, within ±`ZoneTable.secondsLimit`).
    func offset(atSeconds t: Int64) -> Int {
        guard let daylight else { return standardOffset }
        // A change belongs to a local calendar year but may fall (with offsets and times up to a
        // week) into the neighbouring UTC year, so the changes of the years either side of t's
        // UTC year are considered too. The latest change at or before t decides. On a tie the later
        // one in (year, start-before-end) order wins, which makes the tzcode idiom for permanent
        // daylight time ("EST5EDT4,0/0,J365/25": each year ends exactly when the next begins) work.
        let year = CivilCalendar.year(ofDay: CivilCalendar.floorDivide(t, 86_400))
        var latest = Int64.min
        var inDaylight = false
        for candidate in (year - 1)...(year + 1) {
            let start = Self.instant(of: daylight.start, in: candidate, clockOffset: standardOffset)
            if start <= t, start >= latest { (latest, inDaylight) = (start, true) }
            let end = Self.instant(of: daylight.end, in: candidate, clockOffset: daylight.offset)
            if end <= t, end >= latest { (latest, inDaylight) = (end, false) }
        }
        return inDaylight ? daylight.offset : standardOffset
    }

    /// Unix seconds of `change` in `year`, its time read on a clock `clockOffset` east of UTC.
    static func instant(of change: Change, in year: Int64, clockOffset: Int) -> Int64 {
        CivilCalendar.day(of: change.day, in: year) * 86_400 + Int64(change.time) - Int64(clockOffset)
    }
}

/// A cursor over the characters of a POSIX TZ string.
struct POSIXTZScanner {
    let bytes: [UInt8]
    private var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position >= bytes.count }

    func peek(_ character: Unicode.Scalar) -> Bool {
        position < bytes.count && bytes[position] == UInt8(ascii: character)
    }

    mutating func consume(_ character: Unicode.Scalar) -> Bool {
        guard peek(character) else { return false }
        position += 1
        return true
    }

    /// A zone abbreviation: three or more letters, or `<...>` around three or more letters, digits
    /// and signs (e.g. `<+0330>`). Its text does not matter here.
    mutating func designation() -> Bool {
        if consume("<") {
            let start = position
            while position < bytes.count, Self.isQuotedNameByte(bytes[position]) { position += 1 }
            return position - start >= 3 && consume(">")
        }
        let start = position
        while position < bytes.count, Self.isLetter(bytes[position]) { position += 1 }
        return position - start >= 3
    }

    /// `[+|-]hh[:mm[:ss]]` in seconds, hours at most `maxHours` (24 for offsets, 167 for change
    /// times), minutes and seconds below 60.
    mutating func duration(maxHours: Int) -> Int? {
        var sign = 1
        if consume("-") { sign = -1 } else { _ = consume("+") }
        guard let hours = number(maxDigits: maxHours >= 100 ? 3 : 2), hours <= maxHours else { return nil }
        var seconds = hours * 3600
        if consume(":") {
            guard let minutes = number(maxDigits: 2), minutes < 60 else { return nil }
            seconds += minutes * 60
            if consume(":") {
                guard let secs = number(maxDigits: 2), secs < 60 else { return nil }
                seconds += secs
            }
        }
        return sign * seconds
    }

    /// `date[/time]`; the time defaults to 02:00.
    mutating func change() -> POSIXTZRule.Change? {
        let day: POSIXTZRule.Day
        if consume("J") {
            guard let n = number(maxDigits: 3), (1...365).contains(n) else { return nil }
            day = .julianIgnoringLeapDay(n)
        } else if consume("M") {
            guard let month = number(maxDigits: 2), (1...12).contains(month), consume("."),
                  let week = number(maxDigits: 1), (1...5).contains(week), consume("."),
                  let weekday = number(maxDigits: 1), (0...6).contains(weekday)
            else { return nil }
            day = .monthWeekDay(month: month, week: week, weekday: weekday)
        } else {
            guard let n = number(maxDigits: 3), (0...365).contains(n) else { return nil }
            day = .zeroBasedDayOfYear(n)
        }
        var time = 7200
        if consume("/") {
            guard let parsed = duration(maxHours: 167) else { return nil }
            time = parsed
        }
        return .init(day: day, time: time)
    }

    /// One to `maxDigits` decimal digits; nil when there are none or more.
    private mutating func number(maxDigits: Int) -> Int? {
        var value = 0
        var digits = 0
        while position < bytes.count, let digit = Self.digit(bytes[position]) {
            digits += 1
            guard digits <= maxDigits else { return nil }
            value = value * 10 + digit
            position += 1
        }
        return digits > 0 ? value : nil
    }

    private static func digit(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
    }

    private static func isQuotedNameByte(_ byte: UInt8) -> Bool {
        isLetter(byte) || digit(byte) != nil || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
    }
}
