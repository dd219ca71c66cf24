import LightCore
@testable import RouteSim
import Testing

/// The simulator's queues and its threads change how events are kept and where work is
/// done, never the order of events or the results.
@Suite("Simulator engine")
struct EngineTests {
    /// Random scripts of operations: deterministic, from the simulator's own generator.
    static func scripts(_ count: Int = 200, length: Int = 300) -> [[Int]] {
        (0 ..< count).map { n in
            var random = SimRandom(seed: UInt64(n), stream: 7)
            return (0 ..< 1 + Int(random.next() % UInt64(length))).map { _ in Int(random.next() % 1_000_000) }
        }
    }

    @Test("pending events come out by time, ties by sequence number, whatever is pushed meanwhile")
    func pendingOrder() {
        for script in Self.scripts() {
            var queue = PendingEvents<Int>()
            var model: [(time: Double, sequence: UInt64)] = []
            for (n, x) in script.enumerated() {
                if x % 4 == 0 {
                    let entry = queue.pop()
                    let best = model.indices.min { (model[$0].time, model[$0].sequence) < (model[$1].time, model[$1].sequence) }
                    #expect(entry?.sequence == best.map { model[$0].sequence })
                    if let best { model.remove(at: best) }
                    if let entry { #expect(entry.payload == Int(entry.sequence)) }
                } else {
                    let time = Double(x % 50)  // many ties
                    queue.push(n, at: time, sequence: UInt64(n))
                    model.append((time, UInt64(n)))
                }
                #expect(queue.count == model.count)
            }
        }
    }

    @Test("pole timers: one per pole, moved earlier in place, first by (time, sequence)")
    func poleTimers() {
        for script in Self.scripts() {
            var timers = PoleTimers(poles: 12)
            var model: [Int: (time: Double, sequence: UInt64)] = [:]
            for (n, x) in script.enumerated() {
                let pole = x % 12
                if x % 5 == 0 {
                    guard let first = timers.first else { #expect(model.isEmpty); continue }
                    let best = model.min { ($0.value.time, $0.value.sequence) < ($1.value.time, $1.value.sequence) }!
                    #expect(Int(first.pole) == best.key && first.time == best.value.time)
                    #expect(timers.removeFirst() == best.key)
                    model[best.key] = nil
                } else {
                    let time = Double(x % 97)
                    if let current = model[pole], current.time <= time { continue }  // only ever moved earlier
                    timers.set(pole: pole, time: time, sequence: UInt64(n))
                    model[pole] = (time, UInt64(n))
                }
                #expect(timers.time(ofPole: pole) == model[pole]?.time)
            }
        }
    }

    static func profile(poles count: Int = 8) -> Profile {
        let poles = (0..<count).map { i in
            Pole(id: "P\(i + 1)", chainage: Double(i) * 35, position: GeoPoint(latitude: 51.33, longitude: 12.6),
                 luminaire: "led", sensors: [Sensor(id: "a", kind: .pir, facing: .increasing, range: 12),
                                             Sensor(id: "b", kind: .pir, facing: .decreasing, range: 12)])
        }
        let route = Route(id: "engine", name: "Engine", timeZone: "Europe/Berlin",
                          location: GeoPoint(latitude: 51.33, longitude: 12.6),
                          luminaires: ["led": Luminaire(power: 24, standby: 0.5)], poles: poles)
        let program = Program(
            switchOn: .solar(.sunset, offsetMinutes: 0), switchOff: .solar(.sunrise, offsetMinutes: 0),
            lightingClass: LightingClass("P5")!, steps: [BaseStep(start: .switchOn, level: 20)],
            stepRampSeconds: 30, presence: PresenceControl(level: 100, holdSeconds: 60))
        return Profile(version: 1, route: route, classMinimums: [LightingClass("P5")!: 20], safety: SafetySettings(),
                       calendar: ProgramCalendar(rules: [], defaultProgram: "night"), programs: ["night": program])
    }

    static let model: SimulationModel = {
        let walker = RoadUserModel(hourly: Array(repeating: 6, count: 24),
                                   speed: SpeedDistribution(mean: 1.3, sd: 0.2, min: 0.6, max: 2), stopProbability: 0.2,
                                   stopSeconds: 20...60, turnBackProbability: 0.1,
                                   sight: StoppingSight(minimum: 20, reactionSeconds: 1, deceleration: 1),
                                   approachMetres: 60)
        let car = RoadUserModel(hourly: Array(repeating: 10, count: 24),
                                speed: SpeedDistribution(mean: 19, sd: 2, min: 12, max: 25), stopProbability: 0,
                                stopSeconds: 0...0, turnBackProbability: 0,
                                sight: StoppingSight(minimum: 40, reactionSeconds: 2, deceleration: 4.4), approachMetres: 250)
        let sensors = SensorPhysics(
            missProbability: [.pir: [.pedestrian: 0.05, .car: 0.3]], slowExtraMiss: [.pir: 0.05], slowSpeed: 1,
            falseTriggersPerHour: [.pir: 2], holdSeconds: [.pir: 2.5], angleDegrees: [.pir: 100], lateralOffset: 2.5,
            seesStationary: false)
        return SimulationModel(name: "engine", source: "test", users: [.pedestrian: walker, .car: car], sensors: sensors,
                               network: NetworkModel(latencyMedian: 0.08, latencyP95: 0.4, loss: 0.05),
                               co2GramsPerKWh: 380, co2Source: "test")
    }()

    @Test("a network of measured latencies gives each notice one of them, each about as often")
    func measuredLatencyDraws() {
        let network = NetworkModel(latencySamples: [0.61, 1.21, 1.82, 3.05], loss: 0)
        var random = SimRandom(seed: 3, stream: 1)
        var counts: [Double: Int] = [:]
        for _ in 0 ..< 40_000 { counts[network.latency(&random), default: 0] += 1 }
        #expect(Set(counts.keys) == [0.61, 1.21, 1.82, 3.05])
        // 10,000 expected each; 4.5 standard deviations is ±390.
        for (latency, n) in counts { #expect(abs(n - 10_000) < 390, "\(latency): \(n)") }
        // --latency puts a log-normal in their place, its p95 in the samples' ratio to their median.
        let overridden = network.withLatencyMedian(0.3)
        #expect(overridden.latencySamples.isEmpty && overridden.latencyMedian == 0.3 && overridden.loss == 0)
        #expect(abs(overridden.latencyP95 - 0.3 * network.latencyP95 / network.latencyMedian) < 1e-12)
        // Without samples, the log-normal as before.
        let logNormal = NetworkModel(latencyMedian: 0.08, latencyP95: 0.4, loss: 0)
        var a = SimRandom(seed: 3, stream: 1), b = SimRandom(seed: 3, stream: 1)
        #expect(logNormal.latency(&a) == b.logNormal(median: 0.08, p95: 0.4))
    }

    @Test("a night's sensor edges are in (time, order) and number every edge once")
    func worldEdgesSorted() {
        var builder = NightWorldBuilder(profile: Self.profile(), model: Self.model, seed: 5)
        let world = builder.build(date: LocalDate(year: 2026, month: 12, day: 1))
        #expect(!world.edges.isEmpty)
        for (a, b) in zip(world.edges, world.edges.dropFirst()) { #expect(WorldEdge.precedes(a, b)) }
        #expect(Set(world.edges.map(\.order)) == Set((0 ..< world.edges.count).map { UInt32($0) }))
        // Every edge on has its edge off.
        #expect(world.edges.filter(\.on).count * 2 == world.edges.count)
    }

    @Test("run(nights:) on 1, 2 or 3 threads gives what simulating night by night gives", arguments: [1, 2, 3])
    func parallelRunMatchesNightByNight(threads: Int) {
        let profile = Self.profile()
        let dates = (0 ..< 4).map { LocalDate(year: 2026, month: 12, day: 20).adding(days: $0) }
        var parallel = RouteSimulator(profile: profile, model: Self.model, seed: 9, parallelism: threads)
        var records: [NightRecord] = []
        parallel.run(nights: dates) { records.append($0) }
        var stepwise = RouteSimulator(profile: profile, model: Self.model, seed: 9)
        #expect(records.map(\.date) == dates)
        for (date, record) in zip(dates, records) {
            let expected = stepwise.simulateNight(date)
            #expect(record.energyWh == expected.energyWh)
            #expect(record.hourlyEnergyWh == expected.hourlyEnergyWh)
            #expect(record.timelines == expected.timelines)
            #expect(record.switchCycles == expected.switchCycles)
            #expect(record.events == expected.events)
            #expect(record.users == expected.users)
            let analysis = record.lightAhead(profile: profile, model: Self.model)
            let fresh = LightAheadAnalysis(record: expected, profile: profile, model: Self.model)
            #expect(analysis.darkSeconds == fresh.darkSeconds)
            #expect(analysis.exposedSeconds == fresh.exposedSeconds)
            #expect(analysis.darkSecondsByPole == fresh.darkSecondsByPole)
            #expect(analysis.users.map(\.user) == fresh.users.map(\.user))
            #expect(analysis.episodes.map(\.user) == fresh.episodes.map(\.user))
        }
        // Road users are numbered through the run: each night's numbers follow the night before's.
        var first = 1
        for record in records {
            let numbers = record.users.map(\.number).sorted()
            #expect(numbers.first == first && numbers.last == first + numbers.count - 1 && Set(numbers).count == numbers.count)
            first += numbers.count
        }
        #expect(parallel.eventsByKind == stepwise.eventsByKind)
        #expect(parallel.eventsProcessed > 0)
    }

    @Test("a night is the same whichever date the run starts on")
    func nightIndependentOfStart() {
        let profile = Self.profile()
        let night = LocalDate(year: 2026, month: 12, day: 23)
        var fromEarlier = RouteSimulator(profile: profile, model: Self.model, seed: 4)
        var records: [NightRecord] = []
        fromEarlier.run(nights: (0 ..< 3).map { night.adding(days: $0 - 2) }) { records.append($0) }
        var alone = RouteSimulator(profile: profile, model: Self.model, seed: 4)
        let single = alone.simulateNight(night)
        let late = records[2]
        #expect(late.date == night)
        #expect(!single.users.isEmpty)
        #expect(late.timelines == single.timelines)
        #expect(late.energyWh == single.energyWh)
        #expect(late.events == single.events)
        // The same road users, numbered on from the two nights before.
        let offset = records[0].users.count + records[1].users.count
        #expect(late.users.map(\.number) == single.users.map { $0.number + offset })
        #expect(late.users.map(\.arrival) == single.users.map(\.arrival))
    }
}
