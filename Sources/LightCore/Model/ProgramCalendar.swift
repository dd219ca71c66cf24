/// Chooses the program of each night: an ordered list of rules, the first that matches wins,
/// otherwise the default program (the TALQ calendar model).
public struct ProgramCalendar: Hashable, Sendable {
    public var rules: [CalendarRule]
    public var defaultProgram: String

    public init(rules: [CalendarRule], defaultProgram: String) {
        self.rules = rules
        self.defaultProgram = defaultProgram
    }

    /// The name of the program for the night that begins on `date`, and the rule that chose it
    /// (nil for the default).
    public func program(forNightOf date: LocalDate) -> (program: String, rule: CalendarRule?) {
        for rule in rules where rule.matches(date) {
            return (rule.program, rule)
        }
        return (defaultProgram, nil)
    }
}

/// One rule of a calendar. Every condition that is given must hold; `dates` and `ranges` together
/// are one condition (the date is listed or lies in one of the ranges).
public struct CalendarRule: Hashable, Sendable {
    public var name: String
    public var program: String
    /// Days of the week on which the night begins; empty = any.
    public var weekdays: Set<Weekday>
    /// Explicit dates, e.g. public holidays.
    public var dates: Set<LocalDate>
    /// Date ranges, inclusive.
    public var ranges: [DateRange]

    public init(name: String, program: String, weekdays: Set<Weekday> = [], dates: Set<LocalDate> = [],
                ranges: [DateRange] = []) {
        self.name = name
        self.program = program
        self.weekdays = weekdays
        self.dates = dates
        self.ranges = ranges
    }

    public func matches(_ date: LocalDate) -> Bool {
        if !weekdays.isEmpty && !weekdays.contains(date.weekday) { return false }
        if dates.isEmpty && ranges.isEmpty { return true }
        return dates.contains(date) || ranges.contains { $0.contains(date) }
    }
}

/// An inclusive range of dates: either absolute (`2026-12-01`…`2027-01-06`) or recurring every
/// year (`12-01`…`01-06`, which may wrap over the new year).
public enum DateRange: Hashable, Sendable {
    case absolute(from: LocalDate, to: LocalDate)
    case yearly(from: MonthDay, to: MonthDay)

    public func contains(_ date: LocalDate) -> Bool {
        switch self {
        case let .absolute(from, to):
            return from <= date && date <= to
        case let .yearly(from, to):
            let d = MonthDay(month: date.month, day: date.day)
            return from <= to ? (from <= d && d <= to) : (d >= from || d <= to)
        }
    }
}

/// A day of the year without the year, `MM-DD`.
public struct MonthDay: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var month: Int
    public var day: Int

    public init(month: Int, day: Int) {
        self.month = month
        self.day = day
    }

    /// Parses `MM-DD` (29 February allowed).
    public init?(string: some StringProtocol) {
        let parts = string.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
              let m = Int(parts[0]), let d = Int(parts[1]), (1...12).contains(m),
              (1...LocalDate.daysIn(month: m, year: 2024)).contains(d)
        else { return nil }
        self.init(month: m, day: d)
    }

    public static func < (a: MonthDay, b: MonthDay) -> Bool { (a.month, a.day) < (b.month, b.day) }

    public var description: String {
        (month < 10 ? "0" : "") + "\(month)-" + (day < 10 ? "0" : "") + "\(day)"
    }
}
