import LightCore

/// Did every road user have light ahead of them? For each road user and each instant of the
/// night, the poles within their stopping sight distance ahead (in the way they face) should be
/// at the profile's presence level. Time when a pole in that distance was lower is *dark
/// exposure*; the *light-ahead ratio* is the share of road-user time (with at least one pole
/// within sight distance ahead) that had the whole distance lit.
///
/// Computed exactly on intervals: each pole's output is piecewise linear, each road user's path
/// is piecewise linear, so the analysis needs no sampling.
public struct LightAheadAnalysis: Sendable {
    /// Per road user of the night.
    public struct UserResult: Sendable {
        public var user: RoadUser
        /// Seconds with a pole within sight distance ahead, at night.
        public var exposedSeconds: Double
        public var darkSeconds: Double
        /// When this road user had darkness ahead (merged, in seconds since the epoch).
        public var darkIntervals: [Interval]
        public var ratio: Double { exposedSeconds > 0 ? 1 - darkSeconds / exposedSeconds : 1 }
    }

    /// A stretch of time in which one pole ahead of one road user was too dark.
    public struct DarkEpisode: Sendable {
        public var user: Int
        public var kind: RoadUserKind
        public var pole: Int
        public var interval: Interval
        /// Where the road user was when it began, and the way they faced.
        public var position: Double
        public var facing: TravelDirection
    }

    public var users: [UserResult]
    /// The dark episodes of the night (at most `maxEpisodes`, the longest kept).
    public var episodes: [DarkEpisode] = []
    public static let maxEpisodes = 200
    /// Dark seconds attributed to each pole (the pole that was too dark).
    public var darkSecondsByPole: [Double]
    /// The level the light ahead must reach; nil when the night's program has no presence control
    /// (the road is lit at the scheduled level throughout, so nothing is dimmed below it).
    public var presenceLevel: DimLevel?

    public var exposedSeconds: Double { users.reduce(0) { $0 + $1.exposedSeconds } }
    /// Each road user's dark intervals, by road-user number (only those with any).
    public var darkIntervalsByUser: [Int: [Interval]] {
        var result: [Int: [Interval]] = [:]
        for u in users where !u.darkIntervals.isEmpty { result[u.user.number] = u.darkIntervals }
        return result
    }
    public var darkSeconds: Double { users.reduce(0) { $0 + $1.darkSeconds } }

    /// `within`: only this part of the night (a live window, whose lamps were seen only then).
    init(record: NightRecord, profile: Profile, model: SimulationModel, within: Interval? = nil) {
        let route = profile.route
        let plan = record.plan
        presenceLevel = plan.presence?.level
        darkSecondsByPole = Array(repeating: 0, count: route.poles.count)
        users = []
        let wholeNight = Interval(plan.switchOn.secondsSinceEpoch, plan.switchOff.secondsSinceEpoch)
        let night = within.map { wholeNight.intersection($0) ?? Interval(wholeNight.start, wholeNight.start) } ?? wholeNight
        let dark: [[Interval]] = record.timelines.map { timeline in
            guard let level = plan.presence?.level, night.length > 0 else { return [] }
            return Self.below(level, timeline: timeline, within: night)
        }
        let chainages = route.poles.map(\.chainage)
        for user in record.users {
            guard let sight = model.users[user.kind]?.sight else { continue }
            var windows: [Interval] = []
            var darkParts: [Interval] = []
            for leg in user.legs {
                let distance = sight.distance(atSpeed: leg.velocity)
                let lo = min(leg.x0, leg.x1) - distance, hi = max(leg.x0, leg.x1) + distance
                var p = lowerBound(chainages, lo)
                while p < chainages.count && chainages[p] <= hi {
                    if let w = Self.window(pole: chainages[p], leg: leg, distance: distance)?.clamped(to: night) {
                        windows.append(w)
                        // A pole's dark intervals are sorted and disjoint: only those from the
                        // first that ends after the window starts, until one starts after it.
                        let darkOfPole = dark[p]
                        var lo = 0, hi = darkOfPole.count
                        while lo < hi {
                            let mid = (lo + hi) / 2
                            if darkOfPole[mid].end <= w.start { lo = mid + 1 } else { hi = mid }
                        }
                        for d in darkOfPole[lo...] {
                            guard d.start < w.end else { break }
                            if let part = w.intersection(d) {
                                darkParts.append(part)
                                darkSecondsByPole[p] += part.length
                                episodes.append(DarkEpisode(
                                    user: user.number, kind: user.kind, pole: p, interval: part,
                                    position: leg.position(at: Instant(secondsSinceEpoch: part.start)), facing: leg.facing))
                            }
                        }
                    }
                    p += 1
                }
            }
            let merged = Interval.merged(darkParts)
            users.append(UserResult(user: user, exposedSeconds: Interval.unionLength(windows),
                                    darkSeconds: merged.reduce(0) { $0 + $1.length }, darkIntervals: merged))
            if episodes.count > 4 * Self.maxEpisodes { trimEpisodes() }
        }
        trimEpisodes()
    }

    private mutating func trimEpisodes() {
        guard episodes.count > Self.maxEpisodes else { return }
        episodes.sort { $0.interval.length > $1.interval.length }
        episodes.removeLast(episodes.count - Self.maxEpisodes)
    }

    /// The times during `leg` when the pole at `chainage` lies ahead within `distance`.
    static func window(pole chainage: Double, leg: RoadUser.Leg, distance: Double) -> Interval? {
        // Ahead: 0 < (chainage - x(t)) × facing ≤ distance.
        let s = leg.facing.sign
        let start = leg.start.secondsSinceEpoch, end = leg.end.secondsSinceEpoch
        if leg.velocity == 0 {
            let ahead = (chainage - leg.x0) * s
            return ahead > 0 && ahead <= distance ? Interval(start, end) : nil
        }
        // x(t) = x0 + v (t - start); ahead(t) = (chainage - x0) s - v s (t - start), decreasing
        // when moving the way the user faces.
        let a0 = (chainage - leg.x0) * s
        let rate = -leg.velocity * s
        var t1 = (0 - a0) / rate, t2 = (distance - a0) / rate  // relative times where ahead = 0, = distance
        if t1 > t2 { swap(&t1, &t2) }
        let from = max(start, start + t1), to = min(end, start + t2)
        return to > from ? Interval(from, to) : nil
    }

    /// The parts of `night` in which the output following `timeline` is below `level`.
    static func below(_ level: DimLevel, timeline: [LevelRamp], within night: Interval) -> [Interval] {
        var result: [Interval] = []
        let threshold = level.percent - 1e-9
        for (i, ramp) in timeline.enumerated() {
            let segStart = max(ramp.start.secondsSinceEpoch, night.start)
            let segEnd = min(i + 1 < timeline.count ? timeline[i + 1].start.secondsSinceEpoch : night.end, night.end)
            guard segEnd > segStart else { continue }
            let rampEnd = ramp.start.secondsSinceEpoch + ramp.duration
            // The ramp part, linear: find where it is below the threshold.
            if ramp.duration > 0 && segStart < rampEnd {
                let a = ramp.from.percent, b = ramp.to.percent
                let s = ramp.start.secondsSinceEpoch
                let partEnd = min(segEnd, rampEnd)
                var lo = segStart, hi = partEnd
                if a != b {
                    let cross = s + (threshold - a) / (b - a) * ramp.duration
                    if b > a { hi = min(hi, cross) } else { lo = max(lo, cross) }
                    if hi > lo { result.append(Interval(lo, hi)) }
                } else if a < threshold {
                    result.append(Interval(lo, hi))
                }
                if segEnd > rampEnd && b < threshold { result.append(Interval(rampEnd, segEnd)) }
            } else if ramp.to.percent < threshold {
                result.append(Interval(segStart, segEnd))
            }
        }
        return Interval.merged(result)
    }
}

/// A closed interval of seconds.
public struct Interval: Sendable, Hashable {
    public var start: Double
    public var end: Double

    public init(_ start: Double, _ end: Double) {
        self.start = start
        self.end = end
    }

    public var length: Double { max(0, end - start) }

    public func intersection(_ other: Interval) -> Interval? {
        let s = max(start, other.start), e = min(end, other.end)
        return e > s ? Interval(s, e) : nil
    }

    public func clamped(to other: Interval) -> Interval? { intersection(other) }

    public static func merged(_ intervals: [Interval]) -> [Interval] {
        let sorted = intervals.sorted { $0.start < $1.start }
        var result: [Interval] = []
        for i in sorted {
            if let last = result.last, i.start <= last.end {
                result[result.count - 1].end = max(last.end, i.end)
            } else {
                result.append(i)
            }
        }
        return result
    }

    public static func unionLength(_ intervals: [Interval]) -> Double {
        merged(intervals).reduce(0) { $0 + $1.length }
    }
}

/// The first index whose value is ≥ `value` in a sorted array.
func lowerBound(_ values: [Double], _ value: Double) -> Int {
    var lo = 0, hi = values.count
    while lo < hi {
        let mid = (lo + hi) / 2
        if values[mid] < value { lo = mid + 1 } else { hi = mid }
    }
    return lo
}
