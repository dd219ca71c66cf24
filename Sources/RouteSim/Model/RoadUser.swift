import LightCore

/// One simulated road user: a kind and a path through space and time. The number is the
/// simulator's bookkeeping only; nothing like it exists on a real pole.
public struct RoadUser: Sendable, Hashable {
    public var number: Int
    public var kind: RoadUserKind
    /// The direction in which the road user entered the route.
    public var entryDirection: TravelDirection
    public var speed: Double
    public var legs: [Leg]
    public var stopped: Bool
    public var turnedBack: Bool

    public var arrival: Instant { legs.first?.start ?? .distantPast }
    public var departure: Instant { legs.last?.end ?? .distantPast }

    /// A straight piece of the path: constant velocity (0 while standing) between two instants.
    public struct Leg: Sendable, Hashable {
        public var start: Instant
        public var end: Instant
        /// Chainage at `start`, metres.
        public var x0: Double
        /// Signed velocity along the chainage, m/s (0 while standing).
        public var velocity: Double
        /// The way the road user faces (while standing: the way they were going).
        public var facing: TravelDirection

        public func position(at t: Instant) -> Double { x0 + velocity * (t - start) }
        public var x1: Double { position(at: end) }
        public var duration: Double { end - start }
    }
}

// MARK: - Generating road users

extension RoadUser {
    /// A road user of `kind` entering at `arrival` from the `entry` end of the route.
    static func make(number: Int, kind: RoadUserKind, model: RoadUserModel, route: Route, arrival: Instant,
                     entry: TravelDirection, random: inout SimRandom) -> RoadUser {
        let first = route.poles.first?.chainage ?? 0
        let last = route.poles.last?.chainage ?? 0
        let sign = entry.sign
        let start = entry == .increasing ? first - model.approachMetres : last + model.approachMetres
        let exit = entry == .increasing ? last + model.approachMetres : first - model.approachMetres
        let speed = model.speed.draw(&random)

        // Where along the route they turn back or stop, as distances travelled from the start.
        let routeLength = abs(exit - start)
        let turnAt: Double? = random.chance(model.turnBackProbability)
            ? model.approachMetres + random.uniform(0...(max(0, last - first))) : nil
        let stopAt: Double? = random.chance(model.stopProbability)
            ? random.uniform(model.approachMetres...(turnAt ?? (routeLength - model.approachMetres))) : nil
        let stopFor = stopAt != nil ? random.uniform(model.stopSeconds) : 0

        var legs: [Leg] = []
        var t = arrival
        var x = start
        func move(to target: Double, facing: TravelDirection) {
            let seconds = abs(target - x) / speed
            legs.append(Leg(start: t, end: t + seconds, x0: x, velocity: facing.sign * speed, facing: facing))
            t = t + seconds
            x = target
        }
        if let stopAt {
            move(to: start + sign * stopAt, facing: entry)
            legs.append(Leg(start: t, end: t + stopFor, x0: x, velocity: 0, facing: entry))
            t = t + stopFor
        }
        if let turnAt {
            move(to: start + sign * turnAt, facing: entry)
            move(to: start, facing: entry.opposite)
        } else {
            move(to: exit, facing: entry)
        }
        return RoadUser(number: number, kind: kind, entryDirection: entry, speed: speed, legs: legs,
                        stopped: stopAt != nil, turnedBack: turnAt != nil)
    }
}
