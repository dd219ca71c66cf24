import LightCore

/// The poles of a route living through one night (noon to noon) in virtual time: their state
/// machines, their timers and the notices in flight between them.
///
/// Every night starts from poles that have just started at noon with nobody near, and nothing
/// carries over from the night before: at noon the lamps are dark whatever happened, holds and
/// notices are long over, and the energy figures are differences within the night. A night is so
/// a function of the profile, the model, the seed and its date alone — the same whichever date a
/// run starts on — and nights can be simulated at the same time (`RouteSimulator.run`).
struct NightRun {
    let profile: Profile
    let model: SimulationModel

    private var poles: [PoleRuntime] = []
    /// The events of the night come from three queues, merged by (time, sequence number): the
    /// night's sensor edges (made in advance, `NightWorld`), the poles' timers (`PoleTimers`),
    /// and the rest — notices in flight and hourly readings. Every event has its sequence number
    /// from when it was made, so the order of events does not depend on how they are stored.
    private var pending = PendingEvents<SimEvent>()
    private var timers: PoleTimers
    private var nextSequence: UInt64 = 0
    /// When the timers that were moved earlier would have come: each used to stay queued and is
    /// still counted as a timer event of the night, if it falls in it.
    private var movedTimers: [Double] = []
    private var now = Instant.distantPast
    /// How many actions of the buffer `apply` has carried out.
    private var actionsDone = 0
    private(set) var eventCounts = EventCounts()
    /// The network's random stream of this night (loss and latency draws, in event order).
    private var network: SimRandom
    /// Per sensor slot (all sensors of the route, pole by pole): its pole, its position on the
    /// pole, and the road users (and false triggers) currently keeping its line active.
    private var slotPole: [Int32] = []
    private var slotPosition: [Int32] = []
    private var lineHolders: [Int32] = []
    private let poleIDs: [String]

    enum SimEvent {
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

    /// The poles of `profile`'s route, not yet started; `simulate` starts them at the night's noon.
    /// `seed` and `date` choose the network's random stream (the traffic's is the world's).
    /// `machines`: the route's machines as `freshMachines(for:)` makes them (made once per run:
    /// installing the profile in a hundred machines every night showed in profiles).
    /// `networkDraw`: another of the network's streams for the same night (0: the night's own), for
    /// runs of the same road users that differ only in the network's luck (`LiveWindow`).
    init(profile: Profile, model: SimulationModel, seed: UInt64, date: LocalDate, machines: [PoleStateMachine],
         networkDraw: UInt64 = 0) {
        precondition(machines.count == profile.route.poles.count)
        self.profile = profile
        self.model = model
        self.network = SimRandom(seed: seed, stream: Self.networkStream ^ UInt64(bitPattern: Int64(date.daysSinceEpoch))
                                     ^ (networkDraw &* 0x9E37_79B9_7F4A_7C15))
        self.poleIDs = profile.route.poles.map(\.id)
        self.timers = PoleTimers(poles: profile.route.poles.count)
        for (index, pole) in profile.route.poles.enumerated() {
            poles.append(PoleRuntime(machine: machines[index], neighbours: profile.noticeNeighbours(ofPoleAt: index)))
            for position in pole.sensors.indices {
                slotPole.append(Int32(index))
                slotPosition.append(Int32(position))
            }
        }
        lineHolders = Array(repeating: 0, count: slotPole.count)
    }

    /// One machine per pole of the route, with the profile installed and not yet started.
    static func freshMachines(for profile: Profile) -> [PoleStateMachine] {
        profile.route.poles.map { PoleStateMachine(poleID: $0.id, profile: profile) }
    }

    /// Keeps the network's streams apart from the traffic's, which are numbered by day.
    private static let networkStream: UInt64 = 0xC0FF_EE00_0000_0000

    // MARK: - The night

    /// Lives through `world`'s night and returns what happened.
    mutating func simulate(_ world: NightWorld) -> NightRecord {
        let plan = world.plan
        // What the machine answers to each event; one buffer for all of them.
        var actions: [PoleAction] = []
        actions.reserveCapacity(64)
        actionsDone = 0
        now = plan.windowStart
        for index in poles.indices {
            poles[index].machine.handle(.start(activeSensors: []), at: now, into: &actions)
            apply(&actions, pole: index)
            poles[index].timeline = [poles[index].machine.output]
            poles[index].switchCycles = 0
        }

        // The physical world of this night: road users and false triggers, as sensor edges,
        // numbered in the order they were made.
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
            // Edges, notices and timers after the window end with it: by noon the lamps are dark.
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
        // Timers moved earlier count as the (superseded) events they were, if they fall in the night.
        eventCounts.timer += movedTimers.count(where: { $0 < windowEnd })
        movedTimers.removeAll()

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
            date: world.date, plan: plan, hourMarks: hourMarks, hourlyEnergyWh: hourlyEnergy,
            energyWh: offWh - onWh, baselineFullWh: preview.fullLightWattHours,
            baselineScheduleWh: preview.energyWattHours, users: world.users,
            timelines: poles.map(\.timeline), switchCycles: poles.map(\.switchCycles),
            events: eventCounts.total)
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
            apply(&actions, pole: neighbour)
        }
    }

    private mutating func timer(pole index: Int, actions: inout [PoleAction]) {
        eventCounts.timer += 1
        poles[index].queuedTimer = nil
        poles[index].machine.handle(.timer, at: now, into: &actions)
        apply(&actions, pole: index)
    }

    /// Carries out a pole's actions: those the machine appended since the last call. The buffer
    /// is emptied only once it holds a few dozen (emptying it after every event showed in
    /// profiles: each time a uniqueness check and the actions' destruction).
    private mutating func apply(_ actions: inout [PoleAction], pole index: Int) {
        guard actions.count > actionsDone else { return }
        for i in actionsDone ..< actions.count {
            switch actions[i] {
            case let .setLevel(level, _):
                let previous = poles[index].timeline.last?.to ?? .off
                if level > previous && level > .off { poles[index].switchCycles += 1 }
                poles[index].timeline.append(poles[index].machine.output)
            case let .publishDetection(notice):
                let latency = model.network.latency(&network)
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
        if actions.count >= 48 {
            actions.removeAll(keepingCapacity: true)
            actionsDone = 0
        } else {
            actionsDone = actions.count
        }
    }
}

/// Events processed, by kind.
struct EventCounts: Sendable {
    var sensor = 0, notice = 0, timer = 0, hour = 0

    var total: Int { sensor + notice + timer + hour }

    static func += (lhs: inout EventCounts, rhs: EventCounts) {
        lhs.sensor += rhs.sensor
        lhs.notice += rhs.notice
        lhs.timer += rhs.timer
        lhs.hour += rhs.hour
    }
}
