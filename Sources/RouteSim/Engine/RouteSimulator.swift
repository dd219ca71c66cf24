import LightCore

/// Runs the real pole state machines of a whole route in virtual time against modelled road
/// users, night after night.
///
/// The simulator holds no dimming logic of its own: it turns road users into sensor edges (the
/// physical world), delivers edges, timers and neighbour notices to each pole's
/// `PoleStateMachine`, and records what the machines command. Everything is deterministic for a
/// seed: one random stream per night for traffic and sensors, one for the network.
public struct RouteSimulator {
    public let profile: Profile
    public let model: SimulationModel
    public let seed: UInt64

    private let zone: ZoneRules
    private var poles: [PoleRuntime] = []
    private var queue = EventQueue<SimEvent>()
    private var now = Instant.distantPast
    private var userNumber = 0
    private var eventCounts = (sensor: 0, notice: 0, timer: 0, hour: 0)
    /// Events processed by kind (sensor, notice, timer, hour), for the benchmark's account of
    /// where the time goes.
    public var eventsByKind: [String: Int] {
        ["sensor": eventCounts.sensor, "notice": eventCounts.notice, "timer": eventCounts.timer, "hour": eventCounts.hour]
    }
    public var eventsProcessed: Int {
        eventCounts.sensor + eventCounts.notice + eventCounts.timer + eventCounts.hour
    }
    private var network: SimRandom
    private var started = false

    enum SimEvent {
        case sensor(pole: Int, sensor: Int, on: Bool)
        /// A detection notice from pole `from` reaching the poles that subscribe to it. The broker
        /// delivers one publication to all subscribers at about the same time, so one event
        /// stands for all of them; each subscriber may still lose it.
        case notice(from: Int, direction: TravelDirection?, speed: Double?, at: Instant)
        case timer(pole: Int, generation: Int)
        case hourTick(index: Int)
    }

    struct PoleRuntime {
        var machine: PoleStateMachine
        var sensorIDs: [String]
        /// Road users (and false triggers) currently keeping each sensor line active.
        var lineHolders: [Int]
        var timerGeneration = 0
        /// The earliest timer event queued for this pole and still current.
        var queuedTimer: Instant?
        var timeline: [LevelRamp] = []
        var switchCycles = 0
        var neighbours: ClosedRange<Int>
    }

    /// Called after each night with its record.
    public typealias NightHandler = (NightRecord) -> Void

    public init(profile: Profile, model: SimulationModel, seed: UInt64) {
        self.profile = profile
        self.model = model
        self.seed = seed
        self.zone = ZoneRules(identifier: profile.route.timeZone) ?? .utc
        self.network = SimRandom(seed: seed, stream: 0xC0FFEE)
        for (index, pole) in profile.route.poles.enumerated() {
            let machine = PoleStateMachine(poleID: pole.id, profile: profile)
            poles.append(PoleRuntime(machine: machine, sensorIDs: pole.sensors.map(\.id),
                                     lineHolders: Array(repeating: 0, count: pole.sensors.count),
                                     neighbours: profile.noticeNeighbours(ofPoleAt: index)))
        }
    }

    // MARK: - Running

    /// Simulates the nights beginning on `dates` (consecutive), calling `onNight` after each.
    public mutating func run(nights dates: [LocalDate], onNight: NightHandler) {
        for date in dates {
            let record = simulateNight(date)
            onNight(record)
        }
    }

    /// Simulates the night that begins on `date` (noon to noon) and returns what happened.
    /// `users` replaces the generated traffic (for hand-made scenarios).
    public mutating func simulateNight(_ date: LocalDate, users givenUsers: [RoadUser]? = nil) -> NightRecord {
        let plan = NightPlan.make(for: profile, date: date)
        var random = SimRandom(seed: seed, stream: UInt64(bitPattern: Int64(date.daysSinceEpoch)))
        if !started {
            started = true
            now = plan.windowStart
            for index in poles.indices {
                apply(poles[index].machine.handle(.start(activeSensors: []), at: now), pole: index)
            }
        }
        for index in poles.indices {
            poles[index].timeline = [poles[index].machine.output]
            poles[index].switchCycles = 0
        }

        // The physical world of this night: road users and false triggers, as sensor edges.
        let users = givenUsers ?? generateUsers(plan: plan, random: &random)
        for user in users { scheduleSensorEdges(for: user, random: &random) }
        scheduleFalseTriggers(from: plan.windowStart, to: plan.windowEnd, random: &random)

        // Hourly energy readings: every local full hour of the night window.
        var hourMarks: [Instant] = []
        var mark = plan.windowStart
        while mark <= plan.windowEnd {
            hourMarks.append(mark)
            mark = mark + 3600
        }
        if hourMarks.last != plan.windowEnd { hourMarks.append(plan.windowEnd) }
        var hourlyEnergy: [Double] = []
        var lastReading = routeEnergy(at: hourMarks[0])
        // The reading at the end of the window is taken after the loop, which stops before it.
        for (i, t) in hourMarks.enumerated().dropFirst() where t < plan.windowEnd {
            queue.push(.hourTick(index: i), at: t.secondsSinceEpoch)
        }

        let eventsBefore = eventsProcessed
        var energyAtSwitchOn: Double? = plan.switchOn <= now ? routeEnergy(at: plan.switchOn) : nil
        var energyAtSwitchOff: Double?
        while let next = queue.nextTime, next < plan.windowEnd.secondsSinceEpoch {
            let t = Instant(secondsSinceEpoch: next)
            if energyAtSwitchOn == nil && t >= plan.switchOn { energyAtSwitchOn = routeEnergy(at: plan.switchOn) }
            if energyAtSwitchOff == nil && t >= plan.switchOff { energyAtSwitchOff = routeEnergy(at: plan.switchOff) }
            let (_, event) = queue.pop()!
            now = t
            if case let .hourTick(index) = event {
                eventCounts.hour += 1
                let reading = routeEnergy(at: hourMarks[index])
                hourlyEnergy.append(reading - lastReading)
                lastReading = reading
            } else {
                handle(event)
            }
        }
        now = plan.windowEnd
        let onWh = energyAtSwitchOn ?? routeEnergy(at: plan.switchOn)
        let offWh = energyAtSwitchOff ?? routeEnergy(at: plan.switchOff)
        while hourlyEnergy.count < hourMarks.count - 1 {
            let reading = routeEnergy(at: hourMarks[hourlyEnergy.count + 1])
            hourlyEnergy.append(reading - lastReading)
            lastReading = reading
        }

        let preview = NightPreview(profile: profile, date: date)
        return NightRecord(
            date: date, plan: plan, hourMarks: hourMarks, hourlyEnergyWh: hourlyEnergy,
            energyWh: offWh - onWh, baselineFullWh: preview.fullLightWattHours,
            baselineScheduleWh: preview.energyWattHours, users: users,
            timelines: poles.map(\.timeline), switchCycles: poles.map(\.switchCycles),
            events: eventsProcessed - eventsBefore)
    }

    private func routeEnergy(at t: Instant) -> Double {
        // By index: iterating `poles` would copy every pole's machine.
        var sum = 0.0
        for index in poles.indices { sum += poles[index].machine.energyWattHours(at: t) }
        return sum
    }

    // MARK: - Delivering events to the poles

    private mutating func handle(_ event: SimEvent) {
        switch event {
        case let .sensor(index, sensor, on):
            eventCounts.sensor += 1
            let before = poles[index].lineHolders[sensor]
            poles[index].lineHolders[sensor] = max(0, before + (on ? 1 : -1))
            let after = poles[index].lineHolders[sensor]
            // Only a change of the line is an edge the pole sees.
            guard (before == 0) != (after == 0) else { return }
            let id = poles[index].sensorIDs[sensor]
            apply(poles[index].machine.handle(.presenceEdge(sensor: id, active: after > 0), at: now), pole: index)
        case let .notice(from, direction, speed, at):
            eventCounts.notice += 1
            let notice = DetectionNotice(pole: profile.route.poles[from].id, direction: direction, speed: speed, at: at)
            for neighbour in poles[from].neighbours where neighbour != from {
                if network.chance(model.network.loss) { continue }
                apply(poles[neighbour].machine.handle(.neighbourDetection(notice), at: now), pole: neighbour)
            }
        case let .timer(index, generation):
            eventCounts.timer += 1
            guard generation == poles[index].timerGeneration else { return }  // superseded
            poles[index].queuedTimer = nil
            apply(poles[index].machine.handle(.timer, at: now), pole: index)
        case .hourTick:
            break
        }
    }

    private mutating func apply(_ actions: [PoleAction], pole index: Int) {
        for action in actions {
            switch action {
            case let .setLevel(level, _):
                let previous = poles[index].timeline.last?.to ?? .off
                if level > previous && level > .off { poles[index].switchCycles += 1 }
                poles[index].timeline.append(poles[index].machine.output)
            case let .publishDetection(notice):
                let latency = network.logNormal(median: model.network.latencyMedian, p95: model.network.latencyP95)
                queue.push(.notice(from: index, direction: notice.direction, speed: notice.speed, at: notice.at),
                           at: (now + latency).secondsSinceEpoch)
            case let .armTimer(at):
                // Holds are extended all the time; a timer already queued for an earlier instant
                // stays, and when it fires the pole arms the later one again (an early timer does
                // no harm). This spares the queue one event per extension.
                let due = max(at, now)
                if let queued = poles[index].queuedTimer, queued <= due { break }
                poles[index].timerGeneration += 1
                poles[index].queuedTimer = due
                queue.push(.timer(pole: index, generation: poles[index].timerGeneration), at: due.secondsSinceEpoch)
            case .reportState, .raiseFault, .clearFault:
                break
            }
        }
    }

    // MARK: - The physical world

    private mutating func generateUsers(plan: NightPlan, random: inout SimRandom) -> [RoadUser] {
        var users: [RoadUser] = []
        for kind in RoadUserKind.allCases {
            guard let userModel = model.users[kind], userModel.hourly.count == 24 else { continue }
            // A Poisson process whose rate follows the local hour. Only road users of the lit
            // part of the night (and the minutes before it) matter for light; by day the lamps are
            // dark whatever happens, so daytime traffic is not generated.
            guard plan.isLitAtAll else { continue }
            let end = plan.switchOff
            var t = max(plan.windowStart, plan.switchOn - 300)
            while t < end {
                let hour = Int(zone.local(t).secondsOfDay / 3600) % 24
                let rate = userModel.hourly[hour] / 3600
                let hourEnd = min(end, t + (3600 - zone.local(t).secondsOfDay.truncatingRemainder(dividingBy: 3600)))
                guard rate > 0 else { t = hourEnd; continue }
                let gap = random.exponential(rate: rate)
                if t + gap >= hourEnd {
                    t = hourEnd  // memoryless: continue drawing in the next hour at its rate
                    continue
                }
                t = t + gap
                let entry: TravelDirection = random.chance(0.5) ? .increasing : .decreasing
                userNumber += 1
                users.append(RoadUser.make(number: userNumber, kind: kind, model: userModel, route: profile.route,
                                           arrival: t, entry: entry, random: &random))
            }
        }
        return users.sorted { $0.arrival < $1.arrival }
    }

    /// Turns a road user's path into sensor line activity: a sensor is active while the road user
    /// moves through its zone (unless it misses them), and for its hold time after.
    private mutating func scheduleSensorEdges(for user: RoadUser, random: inout SimRandom) {
        let route = profile.route
        for leg in user.legs {
            let lo = min(leg.x0, leg.x1), hi = max(leg.x0, leg.x1)
            let standing = leg.velocity == 0
            if standing && !(model.sensors.seesStationary || model.sensors.ideal) { continue }
            for (p, pole) in route.poles.enumerated() {
                guard pole.chainage + 250 >= lo && pole.chainage - 250 <= hi else { continue }
                for (s, sensor) in pole.sensors.enumerated() {
                    let blind = model.sensors.ideal ? 0 : model.sensors.blindDistance(sensor.kind)
                    let a = sensor.facing == .increasing ? pole.chainage + blind : pole.chainage - sensor.range
                    let b = sensor.facing == .increasing ? pole.chainage + sensor.range : pole.chainage - blind
                    guard hi >= a && lo <= b else { continue }
                    if random.chance(model.sensors.miss(sensor.kind, user.kind, speed: leg.velocity)) { continue }
                    let start: Instant, end: Instant
                    if standing {
                        (start, end) = (leg.start, leg.end)
                    } else {
                        let t1 = leg.start + (a - leg.x0) / leg.velocity
                        let t2 = leg.start + (b - leg.x0) / leg.velocity
                        start = max(leg.start, min(t1, t2))
                        end = min(leg.end, max(t1, t2))
                    }
                    guard end >= start else { continue }
                    let hold = model.sensors.holdSeconds[sensor.kind] ?? 2
                    queue.push(.sensor(pole: p, sensor: s, on: true), at: start.secondsSinceEpoch)
                    queue.push(.sensor(pole: p, sensor: s, on: false), at: (end + hold).secondsSinceEpoch)
                }
            }
        }
    }

    private mutating func scheduleFalseTriggers(from start: Instant, to end: Instant, random: inout SimRandom) {
        guard !model.sensors.ideal else { return }
        for (p, pole) in profile.route.poles.enumerated() {
            for (s, sensor) in pole.sensors.enumerated() {
                let perHour = model.sensors.falseTriggersPerHour[sensor.kind] ?? 0
                guard perHour > 0 else { continue }
                var t = start + random.exponential(rate: perHour / 3600)
                let hold = model.sensors.holdSeconds[sensor.kind] ?? 2
                while t < end {
                    queue.push(.sensor(pole: p, sensor: s, on: true), at: t.secondsSinceEpoch)
                    queue.push(.sensor(pole: p, sensor: s, on: false), at: (t + hold).secondsSinceEpoch)
                    t = t + random.exponential(rate: perHour / 3600)
                }
            }
        }
    }
}
