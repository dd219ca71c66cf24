import LightCore
import Testing

@Suite("Dates, times and time zones")
struct TimeTests {
    let berlin = ZoneRules(identifier: "Europe/Berlin")!

    @Test("day numbers round-trip and weekdays are right")
    func dayNumbers() {
        for days in stride(from: -800_000, through: 800_000, by: 997) {
            #expect(LocalDate(daysSinceEpoch: days).daysSinceEpoch == days)
        }
        #expect(LocalDate(iso: "1970-01-01")!.daysSinceEpoch == 0)
        #expect(LocalDate(iso: "2026-11-23")!.weekday == .mon)
        #expect(LocalDate(iso: "2024-02-29")!.weekday == .thu)
        #expect(LocalDate(iso: "2026-12-31")!.adding(days: 1) == LocalDate(iso: "2027-01-01"))
    }

    @Test("malformed dates and times are rejected", arguments: ["2026-02-29", "2026-13-01", "26-01-01", "2026-1-01", "x"])
    func badDates(text: String) {
        #expect(LocalDate(iso: text) == nil)
    }

    @Test("times of day", arguments: [("00:00", true), ("23:59", true), ("24:00", false), ("7:00", false), ("12:60", false)])
    func times(text: String, valid: Bool) {
        #expect((LocalTime(string: text) != nil) == valid)
    }

    @Test("night order runs from noon to noon")
    func nightOrder() {
        #expect(LocalTime(hour: 12, minute: 0).minutesIntoNight == 0)
        #expect(LocalTime(hour: 22, minute: 0).minutesIntoNight < LocalTime(hour: 0, minute: 30).minutesIntoNight)
        #expect(LocalTime(hour: 0, minute: 30).minutesIntoNight < LocalTime(hour: 5, minute: 0).minutesIntoNight)
    }

    @Test("unknown and non-regional zones are refused")
    func unknownZone() {
        #expect(ZoneRules(identifier: "Europe/Leipzig") == nil)
        #expect(ZoneRules(identifier: "GMT+1") == nil)
        #expect(ZoneRules(identifier: "Europe/Berlin") != nil)
    }

    @Test("local time to instant across the daylight-saving changes of Europe/Berlin")
    func dst() {
        // Winter and summer offsets.
        #expect(ISO8601.format(berlin.instant(on: LocalDate(iso: "2026-03-28")!, at: LocalTime(hour: 22, minute: 0)), in: berlin)
            == "2026-03-28T22:00:00+01:00")
        #expect(ISO8601.format(berlin.instant(on: LocalDate(iso: "2026-03-29")!, at: LocalTime(hour: 5, minute: 0)), in: berlin)
            == "2026-03-29T05:00:00+02:00")
        // 02:30 does not exist on 29 March 2026: it resolves to 03:30 summer time.
        #expect(ISO8601.format(berlin.instant(on: LocalDate(iso: "2026-03-29")!, at: LocalTime(hour: 2, minute: 30)), in: berlin)
            == "2026-03-29T03:30:00+02:00")
        // 02:30 happens twice on 25 October 2026: the first one (summer time) is taken.
        #expect(ISO8601.format(berlin.instant(on: LocalDate(iso: "2026-10-25")!, at: LocalTime(hour: 2, minute: 30)), in: berlin)
            == "2026-10-25T02:30:00+02:00")
        #expect(berlin.lengthOfDay(LocalDate(iso: "2026-03-29")!) == 23 * 3600)
        #expect(berlin.lengthOfDay(LocalDate(iso: "2026-10-25")!) == 25 * 3600)
        #expect(berlin.lengthOfDay(LocalDate(iso: "2026-11-23")!) == 24 * 3600)
    }

    @Test("instant to local date and time")
    func local() {
        let i = Instant(secondsSinceEpoch: 1_795_388_400)  // 2026-11-22T23:00:00Z
        let local = berlin.local(i)
        #expect(local.date == LocalDate(iso: "2026-11-23"))
        #expect(local.secondsOfDay == 0)
        #expect(ISO8601.format(i, utcOffsetSeconds: 0) == "2026-11-22T23:00:00Z")
        #expect(ISO8601.format(i, utcOffsetSeconds: -9000) == "2026-11-22T20:30:00-02:30")
    }
}

@Suite("Calendar")
struct CalendarTests {
    let calendar = ProgramCalendar(rules: [
        CalendarRule(name: "New Year's Eve", program: "festive", dates: [LocalDate(iso: "2026-12-31")!]),
        CalendarRule(name: "Weekend", program: "weekend", weekdays: [.fri, .sat]),
        CalendarRule(name: "Advent", program: "advent", ranges: [.yearly(from: MonthDay(month: 12, day: 1), to: MonthDay(month: 12, day: 23))]),
        CalendarRule(name: "Winter", program: "winter", ranges: [.yearly(from: MonthDay(month: 12, day: 24), to: MonthDay(month: 1, day: 6))]),
        CalendarRule(name: "Trial", program: "trial", weekdays: [.mon], ranges: [.absolute(from: LocalDate(iso: "2027-02-01")!, to: LocalDate(iso: "2027-02-28")!)]),
    ], defaultProgram: "weeknight")

    @Test("first matching rule wins, else the default", arguments: [
        ("2026-12-31", "festive"),   // a Thursday, listed
        ("2027-01-01", "weekend"),   // a Friday: weekend before the winter range
        ("2026-12-02", "advent"),    // a Wednesday in Advent
        ("2026-12-04", "weekend"),   // a Friday in Advent: weekend rule comes first
        ("2027-01-05", "winter"),    // the yearly range wraps over the new year
        ("2027-02-08", "trial"),     // Monday in the absolute range
        ("2027-02-09", "weeknight"), // Tuesday in the range: weekday condition fails
        ("2026-11-23", "weeknight"),
    ])
    func selection(date: String, program: String) {
        #expect(calendar.program(forNightOf: LocalDate(iso: date)!).program == program)
    }

    @Test("a rule with no condition matches every night")
    func unconditional() {
        let c = ProgramCalendar(rules: [CalendarRule(name: "always", program: "x")], defaultProgram: "y")
        #expect(c.program(forNightOf: LocalDate(iso: "2030-05-05")!).program == "x")
    }
}
