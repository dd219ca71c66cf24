import LightCore

/// The figures of a simulation run, per night and in total. Field names are the CLI's JSON
/// interface and the names `--assert` accepts.
public struct SimulationSummary: Sendable, Encodable {
    public struct Night: Sendable, Encodable {
        public var date: String
        public var program: String
        public var switchOn: String
        public var switchOff: String
        public var users: Int
        public var energyKWh: Double
        public var baselineFullKWh: Double
        public var baselineScheduleKWh: Double
        public var darkExposureSeconds: Double
        public var lightAheadRatio: Double
        public var switchCyclesPerLamp: Double
        public var events: Int
    }

    public struct WorstUser: Sendable, Encodable {
        public var night: String
        public var kind: String
        public var entered: String
        public var from: String
        public var speedKmh: Double
        public var stopped: Bool
        public var turnedBack: Bool
        public var darkSeconds: Double
        public var lightAheadRatio: Double
    }

    public var route: String
    public var profileVersion: Int
    public var model: String
    public var seed: UInt64
    public var idealSensors: Bool
    public var nights: Int
    public var from: String
    public var usersByKind: [String: Int]

    public var energyKWh: Double = 0
    public var baselineFullKWh: Double = 0
    public var baselineScheduleKWh: Double = 0
    public var savingsVsFull: Double = 0
    public var savingsVsSchedule: Double = 0
    public var co2Kg: Double = 0
    public var co2SavedVsFullKg: Double = 0
    public var co2GramsPerKWh: Double
    public var co2Source: String

    public var darkExposureSeconds: Double = 0
    public var exposedSeconds: Double = 0
    public var lightAheadRatio: Double = 1
    public var usersWithDarkness: Int = 0
    public var worstUser: WorstUser?
    /// Dark seconds per pole id, only poles with any.
    public var darkSecondsByPole: [String: Double] = [:]

    public var switchCyclesPerLampNight: Double = 0
    public var maxSwitchCyclesPerLampNight: Int = 0

    public var events: Int = 0
    /// Events by kind: sensor edges, notices delivered, timers, hourly readings.
    public var eventsByKind: [String: Int] = [:]
    public var simulatedSeconds: Double = 0
    public var wallSeconds: Double = 0
    public var speedup: Double = 0
    public var eventsPerSecond: Double = 0

    public var perNight: [Night] = []

    public init(profile: Profile, model: SimulationModel, seed: UInt64, from: LocalDate) {
        route = profile.route.id
        profileVersion = profile.version
        self.model = model.name
        self.seed = seed
        idealSensors = model.sensors.ideal
        nights = 0
        self.from = from.description
        usersByKind = [:]
        co2GramsPerKWh = model.co2GramsPerKWh
        co2Source = model.co2Source
    }

    /// Adds one simulated night.
    public mutating func add(_ record: NightRecord, analysis: LightAheadAnalysis, profile: Profile) {
        let zone = ZoneRules(identifier: profile.route.timeZone) ?? .utc
        nights += 1
        energyKWh += record.energyWh / 1000
        baselineFullKWh += record.baselineFullWh / 1000
        baselineScheduleKWh += record.baselineScheduleWh / 1000
        darkExposureSeconds += analysis.darkSeconds
        exposedSeconds += analysis.exposedSeconds
        events += record.events
        simulatedSeconds += record.plan.windowEnd - record.plan.windowStart
        for user in record.users { usersByKind[user.kind.rawValue, default: 0] += 1 }
        for (p, seconds) in analysis.darkSecondsByPole.enumerated() where seconds > 0 {
            darkSecondsByPole[profile.route.poles[p].id, default: 0] += seconds
        }
        let cycles = record.switchCycles
        let lamps = Double(max(1, cycles.count))
        let meanCycles = Double(cycles.reduce(0, +)) / lamps
        switchCyclesPerLampNight += (meanCycles - switchCyclesPerLampNight) / Double(nights)
        maxSwitchCyclesPerLampNight = max(maxSwitchCyclesPerLampNight, cycles.max() ?? 0)
        for result in analysis.users where result.darkSeconds > 0 {
            usersWithDarkness += 1
            if result.darkSeconds > (worstUser?.darkSeconds ?? 0) {
                worstUser = WorstUser(
                    night: record.date.description, kind: result.user.kind.rawValue,
                    entered: ISO8601.format(result.user.arrival, in: zone),
                    from: result.user.entryDirection == .increasing ? "start (chainage 0)" : "end",
                    speedKmh: (result.user.speed * 36).rounded() / 10, stopped: result.user.stopped,
                    turnedBack: result.user.turnedBack, darkSeconds: result.darkSeconds, lightAheadRatio: result.ratio)
            }
        }
        perNight.append(Night(
            date: record.date.description, program: record.plan.programName,
            switchOn: ISO8601.format(record.plan.switchOn, in: zone),
            switchOff: ISO8601.format(record.plan.switchOff, in: zone), users: record.users.count,
            energyKWh: record.energyWh / 1000, baselineFullKWh: record.baselineFullWh / 1000,
            baselineScheduleKWh: record.baselineScheduleWh / 1000, darkExposureSeconds: analysis.darkSeconds,
            lightAheadRatio: analysis.exposedSeconds > 0 ? 1 - analysis.darkSeconds / analysis.exposedSeconds : 1,
            switchCyclesPerLamp: meanCycles, events: record.events))
        finishTotals()
    }

    /// Records the wall-clock time the run took.
    public mutating func finish(wallSeconds: Double, eventsByKind: [String: Int] = [:]) {
        self.eventsByKind = eventsByKind
        self.wallSeconds = wallSeconds
        speedup = wallSeconds > 0 ? simulatedSeconds / wallSeconds : 0
        eventsPerSecond = wallSeconds > 0 ? Double(events) / wallSeconds : 0
    }

    private mutating func finishTotals() {
        savingsVsFull = baselineFullKWh > 0 ? 1 - energyKWh / baselineFullKWh : 0
        savingsVsSchedule = baselineScheduleKWh > 0 ? 1 - energyKWh / baselineScheduleKWh : 0
        lightAheadRatio = exposedSeconds > 0 ? 1 - darkExposureSeconds / exposedSeconds : 1
        co2Kg = energyKWh * co2GramsPerKWh / 1000
        co2SavedVsFullKg = (baselineFullKWh - energyKWh) * co2GramsPerKWh / 1000
    }

    /// The numeric figures by name, for `--assert`.
    public var metrics: [String: Double] {
        [
            "energyKWh": energyKWh, "baselineFullKWh": baselineFullKWh, "baselineScheduleKWh": baselineScheduleKWh,
            "savingsVsFull": savingsVsFull, "savingsVsSchedule": savingsVsSchedule, "co2Kg": co2Kg,
            "co2SavedVsFullKg": co2SavedVsFullKg, "darkExposureSeconds": darkExposureSeconds,
            "lightAheadRatio": lightAheadRatio, "usersWithDarkness": Double(usersWithDarkness),
            "switchCyclesPerLampNight": switchCyclesPerLampNight,
            "maxSwitchCyclesPerLampNight": Double(maxSwitchCyclesPerLampNight), "events": Double(events),
            "nights": Double(nights), "simulatedSeconds": simulatedSeconds, "wallSeconds": wallSeconds,
            "speedup": speedup, "eventsPerSecond": eventsPerSecond,
            "users": Double(usersByKind.values.reduce(0, +)),
        ]
    }
}
