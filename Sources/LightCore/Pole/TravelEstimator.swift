/// Estimates a road user's direction and speed at one pole, from the pole's own two sensors facing
/// opposite ways, or from a neighbour's detection followed by the pole's own.
///
/// It keeps no identities: only the last detection instants per side and recent neighbour notices.
public struct TravelEstimator: Hashable, Sendable {
    /// A travel estimate.
    public struct Estimate: Hashable, Sendable {
        /// Nil when road users were coming from both ways (see `localDetection`).
        public var direction: TravelDirection?
        /// m/s, if the timing gave a plausible speed.
        public var speed: Double?
    }

    /// Plausible speeds on a rural road, m/s: a slow pedestrian to a fast car.
    public static let speedRange = 0.3...45.0

    /// Neighbours on both sides that saw someone within this many seconds of each other make a
    /// local detection ambiguous (see `localDetection`).
    public static let ambiguityWindow = 10.0

    private struct Notice: Hashable, Sendable {
        var chainage: Double
        var at: Instant
    }

    /// The last detection by the sensors of one range looking one way.
    private struct Sighting: Hashable, Sendable {
        var range: Double
        var at: Instant
    }

    /// Recent neighbour notices, at most `maxNotices`: a ring of `maxNotices` places, the oldest
    /// at `noticeHead`. A ring and a lower bound of their times, because this runs for every
    /// notice a pole receives (a simulation delivers hundreds of millions), and most of the time
    /// nothing expires and only the oldest makes room; stored in place (a tuple), not in an array
    /// of its own, so that a delivery does not reach for memory elsewhere.
    private var noticeRing = NoticeRing()
    private var noticeHead = 0
    private var noticeCount = 0
    /// At most the earliest `at` of the notices kept (+∞ without any).
    private var noticeTimeBound = Instant.distantFuture
    private static let maxNotices = 16  // a power of two, the places of `NoticeRing`

    private struct NoticeRing {
        static let empty = Notice(chainage: 0, at: .distantPast)
        var places: (Notice, Notice, Notice, Notice, Notice, Notice, Notice, Notice,
                     Notice, Notice, Notice, Notice, Notice, Notice, Notice, Notice)
            = (empty, empty, empty, empty, empty, empty, empty, empty,
               empty, empty, empty, empty, empty, empty, empty, empty)

        /// (Reads in place on the hot paths: `load(_:)`; this getter may copy the places.)
        subscript(i: Int) -> Notice {
            get {
                precondition(i >= 0 && i < TravelEstimator.maxNotices)
                return withUnsafeBytes(of: places) { $0.load(fromByteOffset: i * MemoryLayout<Notice>.stride, as: Notice.self) }
            }
            set {
                precondition(i >= 0 && i < TravelEstimator.maxNotices)
                withUnsafeMutableBytes(of: &places) {
                    $0.storeBytes(of: newValue, toByteOffset: i * MemoryLayout<Notice>.stride, as: Notice.self)
                }
            }
        }

        mutating func load(_ i: Int) -> Notice {
            precondition(i >= 0 && i < TravelEstimator.maxNotices)
            return withUnsafeMutableBytes(of: &places) {
                $0.load(fromByteOffset: i * MemoryLayout<Notice>.stride, as: Notice.self)
            }
        }
    }
    /// Neighbour notices older than this are not paired with a local detection.
    public var pairingWindow: Double = 180

    /// The last detection per facing. (Plain fields and short arrays rather than dictionaries: a
    /// simulation asks for an estimate millions of times, and hashing the keys showed in profiles.)
    private var lastSeenIncreasing: Instant?
    private var lastSeenDecreasing: Instant?
    /// The last detection of each sensor range per facing, in ascending order of range: a
    /// long-range and a short-range sensor looking the same way see an approaching road user one
    /// after the other.
    private var rangesIncreasing: [Sighting] = []
    private var rangesDecreasing: [Sighting] = []

    public init() {}

    /// The notice kept `k`-th, oldest first.
    @inline(__always) private func notice(_ k: Int) -> Notice {
        noticeRing[(noticeHead + k) & (Self.maxNotices - 1)]
    }

    /// Remembers a neighbour's detection at `chainage`.
    public mutating func noteNeighbour(chainage: Double, at time: Instant) {
        let mask = Self.maxNotices - 1
        let window = pairingWindow
        let head = noticeHead
        var count = noticeCount
        // Notices older than the pairing window are dropped; none is unless the bound says so.
        if count > 0 && time - noticeTimeBound > window {
            var kept = 0
            var earliest = Instant.distantFuture
            for k in 0 ..< count {
                let n = noticeRing.load((head + k) & mask)
                guard !(time - n.at > window) else { continue }
                noticeRing[(head + kept) & mask] = n
                kept += 1
                earliest = min(earliest, n.at)
            }
            count = kept
            noticeTimeBound = earliest
        }
        // The new notice is the newest; when all places are taken, it replaces the oldest.
        let notice = Notice(chainage: chainage, at: time)
        if count == Self.maxNotices {
            noticeRing[head] = notice
            noticeHead = (head + 1) & mask
        } else {
            noticeRing[(head + count) & mask] = notice
            count += 1
        }
        noticeCount = count
        noticeTimeBound = min(noticeTimeBound, time)
    }

    /// A local sensor facing `facing` (range `range` m) detected someone at `now`, on the pole at
    /// `chainage`. Returns the best estimate available.
    public mutating func localDetection(facing: TravelDirection, range: Double, poleChainage chainage: Double,
                                        at now: Instant) -> Estimate? {
        defer {
            if facing == .increasing {
                lastSeenIncreasing = now
                Self.note(range: range, at: now, in: &rangesIncreasing)
            } else {
                lastSeenDecreasing = now
                Self.note(range: range, at: now, in: &rangesDecreasing)
            }
        }
        // Two kinds of earlier sighting tell where the road user came from; of the two, the more
        // recent is taken, being the likelier to be of the same road user (simulation found a
        // car at a route end whose entry radar's sighting seconds before lost against a
        // neighbour's notice of a walker from a minute before, pairing it the wrong way).
        //
        // 1. A neighbour saw the road user shortly before: they are travelling from there to here.
        //    (The latest plausible notice; of equally late ones the first.) When neighbours on
        //    both sides saw someone within `ambiguityWindow` of each other, road users are coming
        //    from both ways and there is no telling whom this sensor saw: the direction is
        //    unknown, so the light goes both ways, and the speed is the lower of the two (fast
        //    only if both were). Simulation found a car whose light ahead was cut off by a
        //    walker's detection paired the wrong way.
        // (Times and places as plain numbers, not optional notices: this runs for every local
        // detection of a simulated year.)
        var pairedAt = -Double.infinity, pairedChainage = 0.0
        var belowAt = -Double.infinity, belowChainage = 0.0
        var aboveAt = -Double.infinity, aboveChainage = 0.0
        for k in 0 ..< noticeCount {
            let n = noticeRing.load((noticeHead + k) & (Self.maxNotices - 1))
            let at = n.at.secondsSinceEpoch
            let dt = now.secondsSinceEpoch - at
            let dx = abs(chainage - n.chainage)
            guard dt > 0.2 && dt <= pairingWindow && dx > 0 && Self.speedRange.contains(dx / dt) else { continue }
            if at > pairedAt { (pairedAt, pairedChainage) = (at, n.chainage) }
            if n.chainage < chainage {
                if at > belowAt { (belowAt, belowChainage) = (at, n.chainage) }
            } else if at > aboveAt {
                (aboveAt, aboveChainage) = (at, n.chainage)
            }
        }
        // 2. A longer-range sensor looking the same way saw them shortly before: they are coming
        //    towards the pole, and the ranges' difference over the time between gives the speed.
        //    (The latest such sighting; of equally late ones the shortest range.)
        var longer: Sighting?
        for seen in facing == .increasing ? rangesIncreasing : rangesDecreasing {
            let dt = now - seen.at
            guard seen.range > range && dt > 0.2 && dt <= 120 && Self.speedRange.contains((seen.range - range) / dt)
            else { continue }
            if longer == nil || longer!.at < seen.at { longer = seen }
        }
        if let seen = longer, seen.at.secondsSinceEpoch > pairedAt {
            return Estimate(direction: facing.opposite, speed: (seen.range - range) / (now - seen.at))
        }
        if belowAt > -.infinity && aboveAt > -.infinity && abs(belowAt - aboveAt) <= Self.ambiguityWindow {
            let t = now.secondsSinceEpoch
            let speed = min(abs(chainage - belowChainage) / (t - belowAt), abs(chainage - aboveChainage) / (t - aboveAt))
            return Estimate(direction: nil, speed: speed)
        }
        if pairedAt > -.infinity {
            let direction: TravelDirection = chainage > pairedChainage ? .increasing : .decreasing
            return Estimate(direction: direction, speed: abs(chainage - pairedChainage) / (now.secondsSinceEpoch - pairedAt))
        }
        // 3. The sensor facing the other way saw them first: they came from that side and have
        //    passed the pole, travelling towards the side this sensor faces.
        if let other = facing == .increasing ? lastSeenDecreasing : lastSeenIncreasing {
            let dt = now - other
            if dt > 0.2 && dt <= 60 {
                let speed = range / dt
                return Estimate(direction: facing, speed: Self.speedRange.contains(speed) ? speed : nil)
            }
        }
        return nil
    }

    private static func note(range: Double, at now: Instant, in sightings: inout [Sighting]) {
        var i = 0
        while i < sightings.count && sightings[i].range < range { i += 1 }
        if i < sightings.count && sightings[i].range == range {
            sightings[i].at = now
        } else {
            sightings.insert(Sighting(range: range, at: now), at: i)
        }
    }

    public mutating func shift(by seconds: Double) {
        lastSeenIncreasing = lastSeenIncreasing.map { $0 + seconds }
        lastSeenDecreasing = lastSeenDecreasing.map { $0 + seconds }
        for i in rangesIncreasing.indices { rangesIncreasing[i].at = rangesIncreasing[i].at + seconds }
        for i in rangesDecreasing.indices { rangesDecreasing[i].at = rangesDecreasing[i].at + seconds }
        for k in 0 ..< noticeCount {
            let i = (noticeHead + k) & (Self.maxNotices - 1)
            noticeRing[i].at = noticeRing[i].at + seconds
        }
        if noticeCount > 0 { noticeTimeBound = noticeTimeBound + seconds }
    }

    // Equal when they hold the same sightings and the same notices in the same order, wherever
    // the ring happens to start.
    public static func == (a: TravelEstimator, b: TravelEstimator) -> Bool {
        guard a.lastSeenIncreasing == b.lastSeenIncreasing, a.lastSeenDecreasing == b.lastSeenDecreasing,
              a.rangesIncreasing == b.rangesIncreasing, a.rangesDecreasing == b.rangesDecreasing,
              a.pairingWindow == b.pairingWindow, a.noticeCount == b.noticeCount
        else { return false }
        return (0 ..< a.noticeCount).allSatisfy { a.notice($0) == b.notice($0) }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(lastSeenIncreasing)
        hasher.combine(lastSeenDecreasing)
        hasher.combine(rangesIncreasing)
        hasher.combine(rangesDecreasing)
        hasher.combine(pairingWindow)
        hasher.combine(noticeCount)
        for k in 0 ..< noticeCount { hasher.combine(notice(k)) }
    }

}
