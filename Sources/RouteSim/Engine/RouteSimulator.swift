import Dispatch
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

    private var poles: [PoleRuntime] = []
    /// The events of a night come from three queues, merged by (time, sequence number): the
    /// night's sensor edges (made in advance, `NightWorld`), the poles' timers (`PoleTimers`),
    /// and the rest — notices in flight, hourly readings, edges carried over from the night
    /// before. Every event has its sequence number from when it was made, so the order of
    /// events does not depend on how they are stored.
    private var pending = PendingEvents<SimEvent>()
    private var timers: PoleTimers
    private var nextSequence: UInt64 = 0
    /// When the timers that were moved earlier would have come: each used to stay queued and is
    /// still counted as a timer event of the night it falls in.
    private var movedTimers: [Double] = []
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
    private var worlds: NightWorldBuilder
    /// Per sensor slot (all sensors of the route, pole by pole): its pole, its position on the
    /// pole, and the road users (and false triggers) currently keeping its line active.
    private var slotPole: [Int32] = []
    private var slotPosition: [Int32] = []
    private var lineHolders: [Int32] = []
    private var poleIDs: [String]

    enum SimEvent {
        /// A sensor edge carried over from the night before (edges are made with their night).
        case sensor(slot: Int32, on: Bool)
        /// A detection notice from pole `from` reaching the poles that subscribe to it. The broker
        /// delivers one publication to all subscribers at about the same time, so one event
        /// stands for all of them; each subscriber may still lose it.
        case notice(from: Int32, direction: TravelDirection?, speed: Double?, at: Instant)
        case hourTick(index: Int)
    }

    struct PoleRuntime {
        var machine: PoleStateMachine
        /// The timer queued for this pole.
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
        self.network = SimRandom(seed: seed, stream: 0xC0FFEE)
        self.worlds = NightWorldBuilder(profile: profile, model: model, seed: seed)
        self.poleIDs = profile.route.poles.map(\.id)
        self.timers = PoleTimers(poles: profile.route.poles.count)
        for (index, pole) in profile.route.poles.enumerated() {
            let machine = PoleStateMachine(poleID: pole.id, profile: profile)
            poles.append(PoleRuntime(machine: machine, neighbours: profile.noticeNeighbours(ofPoleAt: index)))
            for position in pole.sensors.indices {
                slotPole.append(Int32(index))
                slotPosition.append(Int32(position))
            }
        }
        lineHolders = Array(repeating: 0, count: slotPole.count)
    }

    // MARK: - Running

    /// Simulates the nights beginning on `dates` (consecutive), calling `onNight` after each.
    ///
    /// The poles' nights follow one another on the calling thread. What does not depend on the
    /// poles is done on a second thread meanwhile: the next night's physical world (traffic,
    /// sensor edges, the no-traffic baseline) and the light-ahead analysis of the night before,
    /// which comes with its record (`NightRecord.lightAhead(profile:model:)`). Each of these is a
    /// function of the seed and the night alone, so the results do not depend on the threads;
    /// `onNight` is called on the calling thread, in order, one night behind the simulation.
    public mutating func run(nights dates: [LocalDate], onNight: NightHandler) {
        guard !dates.isEmpty else { return }
        let worker = DispatchQueue(label: "RouteSimulator.worker")
        let builder = WorldBuilderBox(worlds)
        let (profile, model) = (self.profile, self.model)
        var nextWorld = Promise(on: worker) { builder.build(date: dates[0]) }
        var previous: (record: NightRecord, analysis: Promise<LightAheadAnalysis>)?
        for i in dates.indices {
            let world = nextWorld.wait()
            if i + 1 < dates.count {
                let date = dates[i + 1]
                nextWorld = Promise(on: worker) { builder.build(date: date) }
            }
            let record = simulate(world)
            if let (done, analysis) = previous { onNight(done.with(analysis.wait(), profile: profile, model: model)) }
            previous = (record, Promise(on: worker) { LightAheadAnalysis(record: record, profile: profile, model: model) })
        }
        if let (done, analysis) = previous { onNight(done.with(analysis.wait(), profile: profile, model: model)) }
        worlds = builder.builder
    }

    /// Simulates the night that begins on `date` (noon to noon) and returns what happened.
    /// `users` replaces the generated traffic (for hand-made scenarios).
    public mutating func simulateNight(_ date: LocalDate, users givenUsers: [RoadUser]? = nil) -> NightRecord {
        simulate(worlds.build(date: date, users: givenUsers))
    }

    mutating func simulate(_ world: NightWorld) -> NightRecord {
        let plan = world.plan
        let date = world.date
        // What the machine answers to each event; one buffer for all of them.
        var actions: [PoleAction] = []
        actions.reserveCapacity(16)
        if !started {
            started = true
            now = plan.windowStart
            for index in poles.indices {
                poles[index].machine.handle(.start(activeSensors: []), at: now, into: &actions)
                apply(&actions, pole: index)
            }
        }
        for index in poles.indices {
            poles[index].timeline = [poles[index].machine.output]
            poles[index].switchCycles = 0
        }

        // The physical world of this night: road users and false triggers, as sensor edges,
        // numbered in the order they were made.
        var users = world.users
        if world.generated {
            for i in users.indices { users[i].number += userNumber }
            userNumber += users.count
        }
        let edges = world.edges
        let edgeBase = nextSequence
        nextSequence += UInt64(edges.count)

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
            push(.hourTick(index: i), at: t.secondsSinceEpoch)
        }

        let eventsBefore = eventsProcessed
        var energyAtSwitchOn: Double? = plan.switchOn <= now ? routeEnergy(at: plan.switchOn) : nil
        var energyAtSwitchOff: Double?
        let windowEnd = plan.windowEnd.secondsSinceEpoch
        var nextEdge = 0
        enum Source { case edge, timer, pending }
        while true {
            // The next event: whichever of the three queues' first comes first.
            var source = Source.edge
            var next = Double.infinity
            var sequence = UInt64.max
            if nextEdge < edges.count {
                next = edges[nextEdge].time
                sequence = edgeBase + UInt64(edges[nextEdge].order)
            } else {
                source = .pending  // (only if it has one; else checked below)
            }
            if let timer = timers.first,
               nextEdge >= edges.count || Self.precedes(timer.time, timer.sequence, next, sequence) {
                (source, next, sequence) = (.timer, timer.time, timer.sequence)
            }
            if let top = pending.first,
               (source == .pending && nextEdge >= edges.count && timers.first == nil)
               || Self.precedes(top.time, top.sequence, next, sequence) {
                (source, next, sequence) = (.pending, top.time, top.sequence)
            }
            guard next < windowEnd else { break }  // (also: no events left, next = ∞)
            let t = Instant(secondsSinceEpoch: next)
            if energyAtSwitchOn == nil && t >= plan.switchOn { energyAtSwitchOn = routeEnergy(at: plan.switchOn) }
            if energyAtSwitchOff == nil && t >= plan.switchOff { energyAtSwitchOff = routeEnergy(at: plan.switchOff) }
            now = t
            switch source {
            case .edge:
                let edge = edges[nextEdge]
                nextEdge += 1
                sensorEdge(slot: edge.slot, on: edge.on, actions: &actions)
            case .timer:
                timer(pole: timers.removeFirst(), actions: &actions)
            case .pending:
                switch pending.pop()!.payload {
                case let .sensor(slot, on):
                    sensorEdge(slot: Int(slot), on: on, actions: &actions)
                case let .notice(from, direction, speed, at):
                    deliverNotice(from: Int(from), direction: direction, speed: speed, at: at, actions: &actions)
                case let .hourTick(index):
                    eventCounts.hour += 1
                    let reading = routeEnergy(at: hourMarks[index])
                    hourlyEnergy.append(reading - lastReading)
                    lastReading = reading
                }
            }
        }
        // Edges of this night that fall after its window (a false trigger's hold at noon) wait
        // for the next night, in their place.
        for edge in edges[nextEdge...] {
            pending.push(.sensor(slot: Int32(edge.slot), on: edge.on), at: edge.time,
                         sequence: edgeBase + UInt64(edge.order))
        }
        // Timers moved earlier within this night count as the (superseded) events they were.
        let movedBefore = movedTimers.count
        movedTimers.removeAll { $0 < windowEnd }
        eventCounts.timer += movedBefore - movedTimers.count

        now = plan.windowEnd
        let onWh = energyAtSwitchOn ?? routeEnergy(at: plan.switchOn)
        let offWh = energyAtSwitchOff ?? routeEnergy(at: plan.switchOff)
        while hourlyEnergy.count < hourMarks.count - 1 {
            let reading = routeEnergy(at: hourMarks[hourlyEnergy.count + 1])
            hourlyEnergy.append(reading - lastReading)
            lastReading = reading
        }

        let preview = world.preview
        return NightRecord(
            date: date, plan: plan, hourMarks: hourMarks, hourlyEnergyWh: hourlyEnergy,
            energyWh: offWh - onWh, baselineFullWh: preview.fullLightWattHours,
            baselineScheduleWh: preview.energyWattHours, users: users,
            timelines: poles.map(\.timeline), switchCycles: poles.map(\.switchCycles),
            events: eventsProcessed - eventsBefore)
    }

    @inline(__always) private static func precedes(_ t1: Double, _ s1: UInt64, _ t2: Double, _ s2: UInt64) -> Bool {
        t1 < t2 || (t1 == t2 && s1 < s2)
    }

    private mutating func push(_ event: SimEvent, at time: Double) {
        pending.push(event, at: time, sequence: nextSequence)
        nextSequence += 1
    }

    private mutating func routeEnergy(at t: Instant) -> Double {
        // Each machine in place: iterating `poles`, or even reading `poles[i].machine`, copied the
        // whole machine for the call.
        var sum = 0.0
        for index in poles.indices { sum += Self.energyWattHours(of: &poles[index].machine, at: t) }
        return sum
    }

    private static func energyWattHours(of machine: inout PoleStateMachine, at t: Instant) -> Double {
        machine.energyWattHours(at: t)
    }

    // MARK: - Delivering events to the poles

    private mutating func sensorEdge(slot: Int, on: Bool, actions: inout [PoleAction]) {
        eventCounts.sensor += 1
        let before = lineHolders[slot]
        let after = max(0, before + (on ? 1 : -1))
        lineHolders[slot] = after
        // Only a change of the line is an edge the pole sees.
        guard (before == 0) != (after == 0) else { return }
        let index = Int(slotPole[slot])
        poles[index].machine.handlePresenceEdge(sensorAt: Int(slotPosition[slot]), active: after > 0, at: now,
                                                into: &actions)
        apply(&actions, pole: index)
    }

    private mutating func deliverNotice(from: Int, direction: TravelDirection?, speed: Double?, at: Instant,
                                        actions: inout [PoleAction]) {
        eventCounts.notice += 1
        let notice = DetectionNotice(pole: poleIDs[from], direction: direction, speed: speed, at: at)
        let loss = model.network.loss
        for neighbour in poles[from].neighbours where neighbour != from {
            if network.chance(loss) { continue }
            poles[neighbour].machine.handleNeighbourDetection(notice, fromPoleAt: from, at: now, into: &actions)
            if !actions.isEmpty { apply(&actions, pole: neighbour) }
        }
    }

    private mutating func timer(pole index: Int, actions: inout [PoleAction]) {
        eventCounts.timer += 1
        poles[index].queuedTimer = nil
        poles[index].machine.handle(.timer, at: now, into: &actions)
        apply(&actions, pole: index)
    }

    /// Carries out a pole's actions and empties the buffer.
    private mutating func apply(_ actions: inout [PoleAction], pole index: Int) {
        for i in actions.indices {
            switch actions[i] {
            case let .setLevel(level, _):
                let previous = poles[index].timeline.last?.to ?? .off
                if level > previous && level > .off { poles[index].switchCycles += 1 }
                poles[index].timeline.append(poles[index].machine.output)
            case let .publishDetection(notice):
                let latency = network.logNormal(median: model.network.latencyMedian, p95: model.network.latencyP95)
                push(.notice(from: Int32(index), direction: notice.direction, speed: notice.speed, at: notice.at),
                     at: (now + latency).secondsSinceEpoch)
            case let .armTimer(at):
                // Holds are extended all the time; a timer already queued for an earlier instant
                // stays, and when it fires the pole arms the later one again (an early timer does
                // no harm). This spares the queue one event per extension.
                let due = max(at, now)
                if let queued = poles[index].queuedTimer {
                    if queued <= due { break }
                    movedTimers.append(queued.secondsSinceEpoch)
                }
                poles[index].queuedTimer = due
                timers.set(pole: index, time: due.secondsSinceEpoch, sequence: nextSequence)
                nextSequence += 1
            case .reportState, .raiseFault, .clearFault:
                break
            }
        }
        actions.removeAll(keepingCapacity: true)
    }
}

/// A value being computed on a queue.
private final class Promise<Value: Sendable>: @unchecked Sendable {
    private var value: Value?
    private let done = DispatchSemaphore(value: 0)

    init(on queue: DispatchQueue, _ work: @escaping @Sendable () -> Value) {
        queue.async {
            self.value = work()
            self.done.signal()
        }
    }

    /// The value, once computed (the semaphore orders the write before this read).
    func wait() -> Value {
        done.wait()
        return value!
    }
}

/// The world builder, used on the worker queue only (its jobs run one after the other).
private final class WorldBuilderBox: @unchecked Sendable {
    var builder: NightWorldBuilder
    init(_ builder: NightWorldBuilder) { self.builder = builder }
    func build(date: LocalDate) -> NightWorld { builder.build(date: date) }
}
