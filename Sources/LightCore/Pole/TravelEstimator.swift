/// Estimates a road user's direction and speed at one pole, from the pole's own two sensors facing
/// opposite ways, or from a neighbour's detection followed by the pole's own.
///
/// It keeps no identities: only the last detection instants per side and recent neighbour notices.
public struct TravelEstimator: Hashable, Sendable {
    /// A travel estimate.
    public struct Estimate: Hashable, Sendable {
        public var direction: TravelDirection
        /// m/s, if the timing gave a plausible speed.
        public var speed: Double?
    }

    /// Plausible speeds on a rural road, m/s: a slow pedestrian to a fast car.
    public static let speedRange = 0.3...45.0

    private struct Notice: Hashable, Sendable {
        var chainage: Double
        var at: Instant
    }

    private var lastSeenFacing: [TravelDirection: Instant] = [:]
    /// The last detection of each sensor range per facing: a long-range and a short-range sensor
    /// looking the same way see an approaching road user one after the other.
    private var lastSeenRange: [TravelDirection: [Double: Instant]] = [:]
    private var notices: [Notice] = []
    /// Neighbour notices older than this are not paired with a local detection.
    public var pairingWindow: Double = 180

    public init() {}

    /// Remembers a neighbour's detection at `chainage`.
    public mutating func noteNeighbour(chainage: Double, at time: Instant) {
        notices.removeAll { time - $0.at > pairingWindow }
        notices.append(Notice(chainage: chainage, at: time))
        if notices.count > 16 { notices.removeFirst(notices.count - 16) }
    }

    /// A local sensor facing `facing` (range `range` m) detected someone at `now`, on the pole at
    /// `chainage`. Returns the best estimate available.
    public mutating func localDetection(facing: TravelDirection, range: Double, poleChainage chainage: Double,
                                        at now: Instant) -> Estimate? {
        defer {
            lastSeenFacing[facing] = now
            lastSeenRange[facing, default: [:]][range] = now
        }
        // 1. A neighbour saw the road user shortly before: they are travelling from there to here.
        let plausible = notices.filter { n in
            let dt = now - n.at
            let dx = abs(chainage - n.chainage)
            return dt > 0.2 && dt <= pairingWindow && dx > 0 && Self.speedRange.contains(dx / dt)
        }
        if let n = plausible.max(by: { $0.at < $1.at }) {
            let direction: TravelDirection = chainage > n.chainage ? .increasing : .decreasing
            return Estimate(direction: direction, speed: abs(chainage - n.chainage) / (now - n.at))
        }
        // 2. A longer-range sensor looking the same way saw them shortly before: they are coming
        //    towards the pole, and the ranges' difference over the time between gives the speed.
        if let seen = lastSeenRange[facing] {
            let candidates = seen.filter { r, t in
                let dt = now - t
                return r > range && dt > 0.2 && dt <= 120 && Self.speedRange.contains((r - range) / dt)
            }
            if let (r, t) = candidates.max(by: { $0.value < $1.value }) {
                return Estimate(direction: facing.opposite, speed: (r - range) / (now - t))
            }
        }
        // 3. The sensor facing the other way saw them first: they came from that side and have
        //    passed the pole, travelling towards the side this sensor faces.
        if let other = lastSeenFacing[facing.opposite] {
            let dt = now - other
            if dt > 0.2 && dt <= 60 {
                let speed = range / dt
                return Estimate(direction: facing, speed: Self.speedRange.contains(speed) ? speed : nil)
            }
        }
        return nil
    }

    public mutating func shift(by seconds: Double) {
        for (k, v) in lastSeenFacing { lastSeenFacing[k] = v + seconds }
        for (k, v) in lastSeenRange { lastSeenRange[k] = v.mapValues { $0 + seconds } }
        notices = notices.map { Notice(chainage: $0.chainage, at: $0.at + seconds) }
    }
}
