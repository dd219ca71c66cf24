import LightCore
@testable import RouteSim
import Testing

/// One pole, one pedestrian, known timings: energy and dark exposure computed by hand.
@Suite("Simulator: a night computed by hand")
struct HandComputedNightTests {
    static let zone = ZoneRules(identifier: "Europe/Berlin")!
    static let date = LocalDate(iso: "2026-11-23")!

    /// A 10 W lamp without standby draw, 10 % from 18:00 to 06:00, 100 % on presence with a 60 s hold.
    static func profile(rampDown: Double) -> Profile {
        let pole = Pole(id: "P1", chainage: 0, position: GeoPoint(latitude: 51.33, longitude: 12.6), luminaire: "l",
                        sensors: [Sensor(id: "s", kind: .pir, facing: .increasing, range: 10)])
        let route = Route(id: "hand", name: "Hand", timeZone: "Europe/Berlin",
                          location: GeoPoint(latitude: 51.33, longitude: 12.6),
                          luminaires: ["l": Luminaire(power: 10, standby: 0)], poles: [pole])
        let program = Program(
            switchOn: .fixed(LocalTime(hour: 18, minute: 0)), switchOff: .fixed(LocalTime(hour: 6, minute: 0)),
            lightingClass: LightingClass("P6")!, steps: [BaseStep(start: .switchOn, level: 10)], stepRampSeconds: 0,
            presence: PresenceControl(level: 100, holdSeconds: 60, rampUpSeconds: 0, rampDownSeconds: rampDown,
                                      polesAhead: 1, polesBehind: 1, lookAheadSeconds: 0, maxPolesAhead: 1))
        return Profile(version: 1, route: route, classMinimums: [LightingClass("P6")!: 10], safety: SafetySettings(),
                       calendar: ProgramCalendar(rules: [], defaultProgram: "p"), programs: ["p": program])
    }

    /// Ideal sensors whose output drops the moment the road user leaves the zone.
    static let model: SimulationModel = {
        let walker = RoadUserModel(hourly: Array(repeating: 0, count: 24),
                                   speed: SpeedDistribution(mean: 1, sd: 0, min: 1, max: 1), stopProbability: 0,
                                   stopSeconds: 0...0, turnBackProbability: 0,
                                   sight: StoppingSight(minimum: 20, reactionSeconds: 0, deceleration: 1), approachMetres: 30)
        let sensors = SensorPhysics(missProbability: [:], slowExtraMiss: [:], slowSpeed: 0, falseTriggersPerHour: [:],
                                    holdSeconds: [.pir: 0, .radar: 0], angleDegrees: [:], lateralOffset: 0,
                                    seesStationary: true)
        return SimulationModel(name: "hand", source: "test", users: [.pedestrian: walker], sensors: sensors,
                               network: NetworkModel(latencyMedian: 0, latencyP95: 0, loss: 0), co2GramsPerKWh: 400,
                               co2Source: "test").withIdealSensors
    }()

    /// A pedestrian walking from 30 m before the pole to 30 m after it at 1 m/s, from 20:00:00.
    static let walker: RoadUser = {
        let start = zone.instant(on: date, at: LocalTime(hour: 20, minute: 0))
        return RoadUser(number: 1, kind: .pedestrian, entryDirection: .increasing, speed: 1,
                        legs: [RoadUser.Leg(start: start, end: start + 60, x0: -30, velocity: 1, facing: .increasing)],
                        stopped: false, turnedBack: false)
    }()

    @Test("energy, dark exposure and switching cycles match the hand calculation")
    func instantRamps() {
        let profile = Self.profile(rampDown: 0)
        var simulator = RouteSimulator(profile: profile, model: Self.model, seed: 1)
        let record = simulator.simulateNight(Self.date, users: [Self.walker])
        // 12 h at 1 W = 12 Wh; the pedestrian is in the sensor's zone (0…10 m) from 20:00:30 to
        // 20:00:40 and the hold lasts 60 s more: 70 s at 10 W instead of 1 W = 630 Ws = 0.175 Wh.
        #expect(abs(record.energyWh - 12.175) < 1e-9, "\(record.energyWh)")
        #expect(abs(record.baselineScheduleWh - 12) < 1e-9)
        #expect(abs(record.baselineFullWh - 120) < 1e-9)
        // The pole lies within the 20 m sight distance ahead from x = −20 m to x = 0, i.e. from
        // 20:00:10 to 20:00:30, and it is dimmed until the sensor sees the pedestrian at 20:00:30.
        let analysis = record.lightAhead(profile: profile, model: Self.model)
        #expect(abs(analysis.darkSeconds - 20) < 1e-9, "\(analysis.darkSeconds)")
        #expect(abs(analysis.exposedSeconds - 20) < 1e-9)
        #expect(analysis.users.first?.ratio == 0)
        #expect(analysis.darkSecondsByPole == [20])
        // Raised twice: at switch-on and for the pedestrian.
        #expect(record.switchCycles == [2])
        var summary = SimulationSummary(profile: profile, model: Self.model, seed: 1, from: Self.date)
        summary.add(record, analysis: analysis, profile: profile)
        #expect(abs(summary.savingsVsFull - (1 - 12.175 / 120)) < 1e-12)
        #expect(abs(summary.co2Kg - 12.175 / 1000 * 400 / 1000) < 1e-12)
        #expect(summary.worstUser?.darkSeconds == 20)
    }

    @Test("a 20 s ramp down adds its triangle of energy")
    func rampDown() {
        let profile = Self.profile(rampDown: 20)
        var simulator = RouteSimulator(profile: profile, model: Self.model, seed: 1)
        let record = simulator.simulateNight(Self.date, users: [Self.walker])
        // 9 W × 20 s / 2 = 90 Ws = 0.025 Wh more.
        #expect(abs(record.energyWh - 12.2) < 1e-9, "\(record.energyWh)")
    }

    @Test("a pedestrian seen before the pole is within sight distance has no dark exposure")
    func seenEarly() {
        var profile = Self.profile(rampDown: 0)
        profile.route.poles[0].sensors = [Sensor(id: "s", kind: .radar, facing: .decreasing, range: 25)]
        var simulator = RouteSimulator(profile: profile, model: Self.model, seed: 1)
        let record = simulator.simulateNight(Self.date, users: [Self.walker])
        let analysis = record.lightAhead(profile: profile, model: Self.model)
        #expect(analysis.darkSeconds == 0)
        #expect(abs(analysis.exposedSeconds - 20) < 1e-9)
        // Seen at −25 m (20:00:05) until the pole (20:00:30), then held 60 s: 85 s at 10 W.
        #expect(abs(record.energyWh - (12 + 9.0 * 85 / 3600)) < 1e-9, "\(record.energyWh)")
    }
}
