// MARK: - Proleptic Gregorian calendar

/// Day arithmetic on the proleptic Gregorian calendar in days since 1970-01-01 (H. Hinnant's
/// algorithms), valid far beyond the ±2^56 s that instants are clamped to.
enum CivilCalendar {
    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }

    static func isLeapYear(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func daysInMonth(_ month: Int, of year: Int64) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of `year`-`month`-`day`.
    static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let shiftedMonth = Int64(month > 2 ? month - 3 : month + 9)  // March = 0
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The calendar year containing day `days` (days since 1970-01-01).
    static func year(ofDay days: Int64) -> Int64 {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153  // March = 0, so 10 and 11 are January and February
        return yearOfEra + era * 400 + (shiftedMonth >= 10 ? 1 : 0)
    }

    /// 0 = Sunday; 1970-01-01 was a Thursday.
    static func weekday(ofDay days: Int64) -> Int {
        Int(days + 4 - floorDivide(days + 4, 7) * 7)
    }

    /// Days since 1970-01-01 of a POSIX rule day in `year`.
    static func day(of rule: POSIXTZRule.Day, in year: Int64) -> Int64 {
        switch rule {
        case .julianIgnoringLeapDay(let n):
            // Day 60 and later are in March or after, one day later in a leap year.
            let leapDay: Int64 = isLeapYear(year) && n >= 60 ? 1 : 0
            return days(year: year, month: 1, day: 1) + Int64(n - 1) + leapDay
        case .zeroBasedDayOfYear(let n):
            return days(year: year, month: 1, day: 1) + Int64(n)
        case .monthWeekDay(let month, let week, let weekday):
            let first = days(year: year, month: month, day: 1)
            var dayOfMonth = 1 + (weekday - self.weekday(ofDay: first) + 7) % 7 + (week - 1) * 7
            // Week 5 means the last such weekday, which may be in the fourth week.
            while dayOfMonth > daysInMonth(month, of: year) { dayOfMonth -= 7 }
            return first + Int64(dayOfMonth - 1)
        }
    }
}
