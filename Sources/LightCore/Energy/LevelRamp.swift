/// A lamp's output over time: a linear ramp from one level to another, then constant.
public struct LevelRamp: Hashable, Sendable {
    public var from: DimLevel
    public var to: DimLevel
    public var start: Instant
    public var duration: Double

    public init(from: DimLevel, to: DimLevel, start: Instant, duration: Double) {
        self.from = from
        self.to = to
        self.start = start
        self.duration = max(0, duration)
    }

    public static func steady(_ level: DimLevel, since: Instant) -> LevelRamp {
        LevelRamp(from: level, to: level, start: since, duration: 0)
    }

    public var end: Instant { start + duration }

    /// The output at `instant`.
    public func level(at instant: Instant) -> DimLevel {
        if duration <= 0 || instant >= end { return to }
        if instant <= start { return from }
        let f = (instant - start) / duration
        return DimLevel(percent: from.percent + (to.percent - from.percent) * f)
    }

    /// The integral of the level (percent × seconds) from `a` to `b` (a ≤ b), exact for the
    /// piecewise-linear output.
    public func integral(from a: Instant, to b: Instant) -> Double {
        guard b > a else { return 0 }
        // Split at the ramp's end; both pieces are linear, so the trapezoid rule is exact.
        var total = 0.0
        if a < end && duration > 0 {
            let rampEnd = min(b, end)
            total += (level(at: a).percent + level(at: rampEnd).percent) / 2 * (rampEnd - a)
            if b > end { total += to.percent * (b - end) }
        } else {
            total += to.percent * (b - a)
        }
        return total
    }
}
