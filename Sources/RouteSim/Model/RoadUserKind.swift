/// The road users the simulator models.
public enum RoadUserKind: String, CaseIterable, Sendable, Hashable, Codable {
    case pedestrian, cyclist, car
}

/// What the simulator knows of one kind of road user on the route: how many arrive each hour,
/// how fast they go, whether they stop or turn back, and how far ahead they need light.
public struct RoadUserModel: Sendable, Hashable {
    /// Road users entering the route per local hour (index 0 = 00:00–01:00), both ends together.
    public var hourly: [Double]
    public var speed: SpeedDistribution
    /// Chance that a road user stops once on the route (waiting, a phone call, a dog).
    public var stopProbability: Double
    public var stopSeconds: ClosedRange<Double>
    /// Chance that a road user turns back somewhere on the route.
    public var turnBackProbability: Double
    public var sight: StoppingSight
    /// How far before the first pole a road user appears (they arrive from outside the route).
    public var approachMetres: Double

    public init(hourly: [Double], speed: SpeedDistribution, stopProbability: Double, stopSeconds: ClosedRange<Double>,
                turnBackProbability: Double, sight: StoppingSight, approachMetres: Double) {
        self.hourly = hourly
        self.speed = speed
        self.stopProbability = stopProbability
        self.stopSeconds = stopSeconds
        self.turnBackProbability = turnBackProbability
        self.sight = sight
        self.approachMetres = approachMetres
    }
}

/// A truncated normal distribution of speeds, m/s.
public struct SpeedDistribution: Sendable, Hashable {
    public var mean: Double
    public var sd: Double
    public var min: Double
    public var max: Double

    public init(mean: Double, sd: Double, min: Double, max: Double) {
        self.mean = mean
        self.sd = sd
        self.min = min
        self.max = max
    }

    public func draw(_ random: inout SimRandom) -> Double {
        for _ in 0..<16 {
            let v = mean + sd * random.normal()
            if v >= min && v <= max { return v }
        }
        return Swift.min(max, Swift.max(min, mean))
    }
}

/// The distance ahead a road user needs to see: reaction distance plus braking distance, and
/// never less than `minimum` (a pedestrian needs to see ~20 m ahead to recognise an obstacle or
/// a person, whatever their braking distance).
public struct StoppingSight: Sendable, Hashable {
    public var minimum: Double
    public var reactionSeconds: Double
    /// m/s².
    public var deceleration: Double

    public init(minimum: Double, reactionSeconds: Double, deceleration: Double) {
        self.minimum = minimum
        self.reactionSeconds = reactionSeconds
        self.deceleration = deceleration
    }

    /// Metres at speed `v` (m/s).
    public func distance(atSpeed v: Double) -> Double {
        let speed = abs(v)
        return Swift.max(minimum, speed * reactionSeconds + speed * speed / (2 * deceleration))
    }
}
