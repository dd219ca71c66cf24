import LightCore

/// Everything about the physical world the simulator models — traffic, sensor physics, the
/// network — as opposed to the pole logic, which is the real `LightCore` state machine.
public struct SimulationModel: Sendable, Hashable {
    public var name: String
    /// Where the figures come from.
    public var source: String
    public var users: [RoadUserKind: RoadUserModel]
    public var sensors: SensorPhysics
    public var network: NetworkModel
    /// Grams of CO2 per kWh of electricity, and where the factor comes from.
    public var co2GramsPerKWh: Double
    public var co2Source: String

    public init(name: String, source: String, users: [RoadUserKind: RoadUserModel], sensors: SensorPhysics,
                network: NetworkModel, co2GramsPerKWh: Double, co2Source: String) {
        self.name = name
        self.source = source
        self.users = users
        self.sensors = sensors
        self.network = network
        self.co2GramsPerKWh = co2GramsPerKWh
        self.co2Source = co2Source
    }

    /// The same world with sensors that never miss a road user, moving or standing, and never
    /// trigger falsely.
    public var withIdealSensors: SimulationModel {
        var m = self
        m.sensors.ideal = true
        return m
    }

    /// Replaces the hourly arrivals (e.g. from a traffic count), keeping everything else.
    public func withHourlyCounts(_ counts: [RoadUserKind: [Double]]) -> SimulationModel {
        var m = self
        for (kind, hourly) in counts {
            if m.users[kind] != nil { m.users[kind]!.hourly = hourly }
        }
        return m
    }
}

/// How presence sensors respond to road users.
public struct SensorPhysics: Sendable, Hashable {
    /// Chance a sensor of a kind misses a road user of a kind on one pass through its zone.
    public var missProbability: [Sensor.Kind: [RoadUserKind: Double]]
    /// Extra miss chance for road users slower than `slowSpeed` (radar misses slow pedestrians).
    public var slowExtraMiss: [Sensor.Kind: Double]
    public var slowSpeed: Double
    /// False triggers per sensor per hour (animals, branches in wind).
    public var falseTriggersPerHour: [Sensor.Kind: Double]
    /// How long the output stays active after the last motion in the zone.
    public var holdSeconds: [Sensor.Kind: Double]
    /// Detection cone (full angle, degrees); the sensor is blind close to the pole's foot.
    public var angleDegrees: [Sensor.Kind: Double]
    /// Distance from the pole to the road user's path across the road, metres.
    public var lateralOffset: Double
    /// Whether sensors see road users standing still (PIR and Doppler radar need motion).
    public var seesStationary: Bool
    /// Ideal sensors: no misses, no false triggers, standing road users seen.
    public var ideal: Bool = false

    public init(missProbability: [Sensor.Kind: [RoadUserKind: Double]], slowExtraMiss: [Sensor.Kind: Double],
                slowSpeed: Double, falseTriggersPerHour: [Sensor.Kind: Double], holdSeconds: [Sensor.Kind: Double],
                angleDegrees: [Sensor.Kind: Double], lateralOffset: Double, seesStationary: Bool) {
        self.missProbability = missProbability
        self.slowExtraMiss = slowExtraMiss
        self.slowSpeed = slowSpeed
        self.falseTriggersPerHour = falseTriggersPerHour
        self.holdSeconds = holdSeconds
        self.angleDegrees = angleDegrees
        self.lateralOffset = lateralOffset
        self.seesStationary = seesStationary
    }

    func miss(_ sensor: Sensor.Kind, _ user: RoadUserKind, speed: Double) -> Double {
        if ideal { return 0 }
        var p = missProbability[sensor]?[user] ?? 0
        if abs(speed) < slowSpeed { p += slowExtraMiss[sensor] ?? 0 }
        return min(1, p)
    }

    /// The blind distance at the pole's foot: the road user is inside the cone only from here on.
    func blindDistance(_ sensor: Sensor.Kind) -> Double {
        let half = (angleDegrees[sensor] ?? 90) / 2 * Double.pi / 180
        return half >= Double.pi / 2 - 1e-6 ? 0 : lateralOffset / tanApprox(half)
    }
}

/// How detection notices travel between poles.
public struct NetworkModel: Sendable, Hashable {
    /// Log-normal latency, seconds (unless `latencySamples` are given).
    public var latencyMedian: Double
    public var latencyP95: Double
    /// Chance a notice is lost.
    public var loss: Double
    /// Measured latencies, seconds: when not empty, a notice's latency is one of them, each as
    /// likely, instead of the log-normal. For a path that no two-parameter curve describes, such
    /// as MQTT's TCP over a lossy link: most notices take the link delay, the rest one or more
    /// retransmission timeouts more (docs/simulator.md).
    public var latencySamples: [Double]

    public init(latencyMedian: Double, latencyP95: Double, loss: Double, latencySamples: [Double] = []) {
        self.latencyMedian = latencyMedian
        self.latencyP95 = latencyP95
        self.loss = loss
        self.latencySamples = latencySamples
    }

    /// A network whose latencies are the measured `samples` (seconds, not empty); its median and
    /// 95th percentile are theirs.
    public init(latencySamples samples: [Double], loss: Double) {
        let sorted = samples.sorted()
        precondition(!sorted.isEmpty, "no latency samples")
        func quantile(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int((q * Double(sorted.count)).rounded(.down)))] }
        self.init(latencyMedian: quantile(0.5), latencyP95: quantile(0.95), loss: loss, latencySamples: sorted)
    }

    /// The same network with its median latency at `median` (`--latency`): the 95th percentile
    /// keeps its ratio to the median, measured latencies give way to the log-normal.
    public func withLatencyMedian(_ median: Double) -> NetworkModel {
        NetworkModel(latencyMedian: median, latencyP95: max(median, median * latencyP95 / max(latencyMedian, 1e-9)), loss: loss)
    }

    /// One notice's latency.
    func latency(_ random: inout SimRandom) -> Double {
        if latencySamples.isEmpty { return random.logNormal(median: latencyMedian, p95: latencyP95) }
        return latencySamples[random.index(below: latencySamples.count)]
    }
}

@inline(__always) func tanApprox(_ x: Double) -> Double {
    // sin/cos via the Foundation shims keep this file free of platform imports.
    Foundation_sin(x) / Foundation_cos(x)
}
