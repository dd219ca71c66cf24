/// The decisions of one pole: given its profile, the clock and what happened, what light level.
///
/// The same machine runs on the pole (`lichtweg-pole`), in the simulator and in the control
/// plane's preview. It does no I/O and never reads a clock: every event comes with the instant
/// it happened, and the machine answers with actions (set a level, publish a notice, report,
/// arm a timer). Its level is always recomputed from the profile, the clock and the remembered
/// presence, so a late timer, a lost event or a restart cannot leave it in a wrong state for long.
///
/// The level at night is the highest of the scheduled base level, the pole's own presence boost
/// and a neighbour's boost, and never below the minimum of the lighting class in force. By day the
/// lamp is dark unless an operator overrides it. Without a profile, or with a clock it cannot
/// trust, the pole lights at the failsafe level.
public struct PoleStateMachine: Sendable {
    // MARK: - State

    /// The mode the pole is in; reported to the control plane.
    public enum State: Hashable, Sendable, CustomStringConvertible {
        /// No usable profile, the pole is not in it, or the clock is not trusted: failsafe level.
        case failsafe(FailsafeReason)
        /// The schedule has the lamp dark.
        case day
        /// Night, nobody near: the scheduled base level.
        case base
        /// Night, a road user was seen here or at a neighbour: raised level, held.
        case boosted
        /// Night, a sensor is faulty and nobody else's presence is held: the sensor-fault floor.
        case degraded
        /// An operator's override is in force.
        case overridden

        public var description: String {
            switch self {
            case let .failsafe(reason): "failsafe(\(reason.rawValue))"
            case .day: "day"
            case .base: "base"
            case .boosted: "boosted"
            case .degraded: "degraded"
            case .overridden: "overridden"
            }
        }

        /// A stable name for reports.
        public var name: String {
            if case .failsafe = self { return "failsafe" }
            return description
        }
    }

    public enum FailsafeReason: String, Hashable, Sendable {
        case noProfile, poleNotInProfile, clockUntrusted
    }

    /// Instants before this are taken as an unset clock (a board without RTC boots in 1970).
    public static let earliestPlausibleTime = Instant(secondsSinceEpoch: 1_704_067_200)  // 2024-01-01Z

    // What a notice's delivery reads first and together, then what `reconcile` reads: a
    // simulator keeps a hundred machines busy in turn, and each event should touch few cache
    // lines of a machine. (Swift lays stored properties out in this order.)
    private var clockTrusted = true
    private var started = false
    private var hasProfile = false
    private var poleIndex: Int?
    private var planWindow = (start: Instant.distantFuture, end: Instant.distantPast)
    /// Copies from tonight's plan for the hot path: its presence settings and the interval in which
    /// presence is tracked (`NightPlan.tracksPresence(at:)`).
    private var presenceWindow = (start: Instant.distantFuture, end: Instant.distantPast)
    private var planPresence: PresenceControl?
    private var neighbourHoldUntil = Instant.distantPast
    private var localHoldUntil = Instant.distantPast
    private var armedTimer: Instant?
    private var travel = TravelEstimator()
    /// This pole's chainage, and the route's poles: the profile's own array, which every machine
    /// with the same profile shares (one copy in the cache for a whole simulated route).
    private var myChainage = 0.0
    private var routePoles: [Pole] = []
    /// Whether the route's pole ids are unique (as validated profiles have them): then the sender
    /// of a notice is the position its id has on the route.
    private var routeIDsUnique = false

    public private(set) var state: State = .failsafe(.noProfile)
    /// The output the lamp follows.
    public private(set) var output: LevelRamp
    /// The pole's sensors in id order; `trackIndex` finds one by id. An array, because the hot
    /// path visits every sensor after every event and hashing the ids was a sixth of a simulation.
    private var tracks: [SensorTrack] = []
    private var hardwareFailures: [String: String] = [:]
    public private(set) var faults: Set<PoleFault> = []
    public private(set) var override: ManualOverride?
    /// The last detection notice published; renewed while a sensor stays active.
    private var lastNotice: DetectionNotice?
    /// The scheduled segment and the plan's next change, both the same for every instant in
    /// `[from, until)` (`until` is that next change): looked up once, not after every event.
    private var schedule = ScheduleSpan()
    private var planStepRamp = 0.0
    private var safety: SafetySettings?
    /// Tonight's plan in a box: the hot path hands a reference around instead of copying a
    /// plan of some 200 bytes three times per event (13 % of a simulation's time went to that).
    private var night: Night?
    public private(set) var energy = EnergyMeter()

    public let poleID: String
    public private(set) var profile: Profile?
    /// Tonight's plan (nil before a profile and a trusted clock gave one).
    public var plan: NightPlan? { night?.plan }
    /// Accepted presence detections (rising edges) since start, all sensors; telemetry reports
    /// differences of this counter.
    public private(set) var detections = 0
    /// What became of the raw sensor edges since start, all sensors (telemetry reports differences).
    public private(set) var edgeCounts = SensorEdgeCounts()
    private var trackIndex: [String: Int] = [:]
    /// The speed of the road user last seen here, while it applies to the falling edge that follows.
    private var lastLocalSpeed: Double?
    private var fallbackLuminaire: Luminaire
    private let failsafeWithoutProfile: DimLevel

    // Derived from the profile when it is installed, so that the hot path (a simulator delivers
    // millions of events) neither searches the route nor copies the profile.
    private var profileVersion: Int?
    private var poleIndexByID: [String: Int] = [:]
    /// Ids of the poles whose notices can matter here (within the profile's notice reach): a
    /// notice's sender is found among these by comparing short strings, not by hashing.
    private var nearPoles: [(id: String, index: Int)] = []
    /// For each sensor of this pole in profile order, its track (`handlePresenceEdge(sensorAt:…)`).
    private var trackOfSensorPosition: [Int?] = []
    private var profileLuminaire: Luminaire?

    private struct ScheduleSpan: Sendable {
        var from = Instant.distantFuture
        var until = Instant.distantPast
        var segment: NightPlan.Segment?
        var nextChange = Instant.distantPast
    }

    private final class Night: Sendable {
        let plan: NightPlan
        init(_ plan: NightPlan) { self.plan = plan }
    }

    private struct SensorTrack: Hashable, Sendable {
        var config: Sensor
        var debouncer: SensorDebouncer
        /// Since when the sensor has been (accepted) active.
        var activeSince: Instant?
        var stuck = false
    }

    /// - Parameters:
    ///   - failsafeLevel: the level before any profile is known (the profile's own failsafe level
    ///     applies once one is in force).
    ///   - luminaire: the pole's rating for energy accounting before a profile names it.
    public init(poleID: String, profile: Profile?, failsafeLevel: DimLevel = .full,
                luminaire: Luminaire = Luminaire(power: 0, standby: 0)) {
        self.poleID = poleID
        self.failsafeWithoutProfile = failsafeLevel
        self.fallbackLuminaire = luminaire
        self.output = .steady(.off, since: .distantPast)
        // Installed here, not at `.start`: the route simulator copies a route's machines for
        // every night it starts, and installing a profile (its pole and sensor indices) in each
        // of them every night showed in profiles.
        installProfile(profile, at: .distantPast)
    }

    // MARK: - Events

    /// Handles one event at `now` and returns what the pole must do.
    public mutating func handle(_ event: PoleEvent, at now: Instant) -> [PoleAction] {
        var actions: [PoleAction] = []
        handle(event, at: now, into: &actions)
        return actions
    }

    /// Handles one event at `now` and appends what the pole must do to `actions` (which is not
    /// cleared first). The same as `handle(_:at:)`, for callers that deliver many events and
    /// reuse one buffer instead of allocating an array per event (the route simulator).
    public mutating func handle(_ event: PoleEvent, at now: Instant, into actions: inout [PoleAction]) {
        switch event {
        case let .start(activeSensors):
            started = true
            output = .steady(output.level(at: now), since: now)
            meter(to: now)  // the meter runs from the start: standby counts before the first change
            forgetPlan()  // (the profile is installed since `init` or its last change)
            for id in activeSensors {
                guard let i = trackIndex[id] else { continue }
                tracks[i].debouncer = SensorDebouncer(window: tracks[i].debouncer.window, active: true, since: now)
                tracks[i].activeSince = now
            }
            if let safety, safety.presenceOnStart, clockIsUsable(now),
               let plan = currentPlan(at: now)?.plan, let presence = plan.presence, plan.isNight(at: now) {
                // Whoever was near when the power came back must not stand in the dark: hold for
                // the longest any hold can last (a neighbour's includes up to one more hold of
                // travel time), so a restart is never darker than the run it interrupted.
                localHoldUntil = now + 2 * presence.holdSeconds
            }
        case let .presenceEdge(sensorID, active):
            presenceEdge(track: trackIndex[sensorID], active: active, at: now, into: &actions)
            return
        case let .neighbourDetection(notice):
            neighbourDetection(notice, from: sender(ofNotice: notice), at: now, into: &actions)
            return
        case .timer:
            armedTimer = nil
            for i in tracks.indices {
                if let accepted = tracks[i].debouncer.settle(at: now) {
                    edgeCounts.bounced -= 1  // held back, then accepted: it was not bounce after all
                    accept(sensor: i, active: accepted, at: now, into: &actions)
                }
            }
        case let .profileChanged(newProfile):
            meter(to: now)
            installProfile(newProfile, at: now)
        case let .override(newOverride):
            override = newOverride
        case let .clockJump(seconds):
            shift(by: seconds)
        case let .clockTrusted(trusted):
            clockTrusted = trusted
        case let .sensorFailure(sensorID, reason):
            if let reason { hardwareFailures[sensorID] = reason } else { hardwareFailures[sensorID] = nil }
        }
        guard started else { return }
        reconcile(at: now, into: &actions)
    }

    /// `handle(.presenceEdge(sensor: id, active: active), at: now, into: &actions)` for the sensor
    /// at `position` in this pole's `sensors` of the profile in force: for callers that address
    /// sensors by position (the route simulator delivers millions of edges) and so spare the
    /// lookup by id. A position outside the list is treated like an unknown sensor id.
    public mutating func handlePresenceEdge(sensorAt position: Int, active: Bool, at now: Instant,
                                            into actions: inout [PoleAction]) {
        let track = position >= 0 && position < trackOfSensorPosition.count ? trackOfSensorPosition[position] : nil
        presenceEdge(track: track, active: active, at: now, into: &actions)
    }

    /// `handle(.neighbourDetection(notice), at: now, into: &actions)` for a notice whose sender is
    /// the pole at `senderPosition` in the route of the profile in force: for callers that know
    /// it (the route simulator delivers each notice to up to 16 poles), sparing the search for the
    /// sender's id. The position is checked against `notice.pole`; if it does not name that pole,
    /// the sender is looked up by id as `handle(_:at:into:)` does.
    public mutating func handleNeighbourDetection(_ notice: DetectionNotice, fromPoleAt senderPosition: Int,
                                                  at now: Instant, into actions: inout [PoleAction]) {
        let from: Int?
        if routeIDsUnique && senderPosition >= 0 && senderPosition < routePoles.count
            && routePoles[senderPosition].id == notice.pole {
            // The id is the sender's alone: what the lookup by id finds (this pole: nobody).
            from = senderPosition == poleIndex ? nil : senderPosition
        } else {
            from = sender(ofNotice: notice)
        }
        neighbourDetection(notice, from: from, at: now, into: &actions)
    }

    private mutating func presenceEdge(track i: Int?, active: Bool, at now: Instant, into actions: inout [PoleAction]) {
        if let i {
            edgeCounts.edges += 1
            if active == tracks[i].debouncer.rawActive { edgeCounts.repeated += 1 }
            let bounces = tracks[i].debouncer.bounces
            let accepted = tracks[i].debouncer.edge(active: active, at: now)
            edgeCounts.bounced += tracks[i].debouncer.bounces - bounces
            if let accepted {
                accept(sensor: i, active: accepted, at: now, into: &actions)
            }
        }
        guard started else { return }
        reconcile(at: now, into: &actions)
    }

    /// `from`: the route index of the notice's sender as the pole's own lookup finds it; nil if
    /// the sender is this pole or not on the route.
    private mutating func neighbourDetection(_ notice: DetectionNotice, from: Int?, at now: Instant,
                                             into actions: inout [PoleAction]) {
        // Most notices come from poles too far off to matter; they change no hold, and then
        // there is nothing to reconcile (every deadline already has its timer).
        let before = neighbourHoldUntil
        if let from { receive(notice, from: from, at: now) }
        guard started, neighbourHoldUntil != before else { return }
        reconcile(at: now, into: &actions)
    }

    /// The route index of a notice's sender, nil for this pole itself or a pole not on the route.
    private func sender(ofNotice notice: DetectionNotice) -> Int? {
        guard notice.pole != poleID, poleIndex != nil else { return nil }
        return nearPoles.first(where: { $0.id == notice.pole })?.index ?? poleIndexByID[notice.pole]
    }

    // MARK: - Derived values

    /// The level the lamp is commanded to (the target of the present ramp).
    public var level: DimLevel { output.to }

    /// The lamp's output at `now`, mid-ramp included.
    public func outputLevel(at now: Instant) -> DimLevel { output.level(at: now) }

    /// Watt-hours used up to `now`.
    public func energyWattHours(at now: Instant) -> Double {
        meterReading(at: now).wattHours
    }

    /// The energy meter as it reads at `now`: energy, lit time and level time since the start.
    public func meterReading(at now: Instant) -> EnergyMeter {
        var meter = energy
        meter.advance(to: now, output: output, luminaire: luminaire)
        return meter
    }

    /// The present status, as reported.
    public func status() -> PoleStatus {
        PoleStatus(state: state, level: level, profileVersion: profileVersion, program: night?.plan.programName,
                   faults: faults)
    }

    private var luminaire: Luminaire { profileLuminaire ?? fallbackLuminaire }

    // MARK: - Profile

    private mutating func installProfile(_ newProfile: Profile?, at now: Instant) {
        profile = newProfile
        hasProfile = newProfile != nil
        profileVersion = newProfile?.version
        forgetPlan()
        poleIndexByID = [:]
        for (i, pole) in (newProfile?.route.poles ?? []).enumerated() where poleIndexByID[pole.id] == nil {
            poleIndexByID[pole.id] = i
        }
        poleIndex = poleIndexByID[poleID]
        nearPoles = []
        if let newProfile, let index = poleIndex {
            nearPoles = newProfile.noticeNeighbours(ofPoleAt: index).map { (newProfile.route.poles[$0].id, $0) }
        }
        routePoles = newProfile?.route.poles ?? []
        routeIDsUnique = poleIndexByID.count == routePoles.count
        myChainage = poleIndex.map { routePoles[$0].chainage } ?? 0
        safety = newProfile?.safety
        profileLuminaire = nil
        guard let newProfile, let index = poleIndex else {
            tracks = []
            trackIndex = [:]
            trackOfSensorPosition = []
            return
        }
        profileLuminaire = newProfile.route.luminaire(of: newProfile.route.poles[index])
        fallbackLuminaire = profileLuminaire ?? fallbackLuminaire
        var byID: [String: SensorTrack] = [:]
        for sensor in newProfile.route.poles[index].sensors {
            // A sensor that was already known keeps its line state across a profile change.
            if var old = trackIndex[sensor.id].map({ tracks[$0] }) {
                old.config = sensor
                byID[sensor.id] = old
            } else {
                byID[sensor.id] = SensorTrack(config: sensor,
                                              debouncer: SensorDebouncer(window: newProfile.safety.debounceSeconds))
            }
        }
        let ids = byID.keys.sorted()
        tracks = ids.map { byID[$0]! }
        trackIndex = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        trackOfSensorPosition = newProfile.route.poles[index].sensors.map { trackIndex[$0.id] }
    }

    private mutating func currentPlan(at now: Instant) -> Night? {
        guard refreshPlan(at: now) else { return nil }
        return night
    }

    /// Makes `night` (and the copies of its presence settings) the plan of the night containing
    /// `now`; false without a profile.
    @inline(__always) private mutating func refreshPlan(at now: Instant) -> Bool {
        // A plain flag: even testing the optional profile for nil copied it on every event.
        guard hasProfile else { return false }
        if planWindow.start <= now && now < planWindow.end { return true }
        loadPlan(containing: now)
        return true
    }

    @inline(never) private mutating func loadPlan(containing now: Instant) {
        let plan = NightPlan.make(for: profile!, containing: now)
        night = Night(plan)
        planWindow = (plan.windowStart, plan.windowEnd)
        planPresence = plan.presence
        planStepRamp = plan.stepRampSeconds
        schedule = ScheduleSpan()
        if let presence = plan.presence, plan.isLitAtAll {
            // The same sum as `NightPlan.tracksPresence(at:)`.
            presenceWindow = (plan.switchOn - 2 * presence.holdSeconds, plan.switchOff)
        } else {
            presenceWindow = (.distantFuture, .distantPast)
        }
    }

    private mutating func forgetPlan() {
        night = nil
        planWindow = (.distantFuture, .distantPast)
        planPresence = nil
        presenceWindow = (.distantFuture, .distantPast)
        planStepRamp = 0
        schedule = ScheduleSpan()
    }

    /// Tonight's scheduled segment at `now` (nil by day) and the plan's next change after `now`.
    /// Call only after `refreshPlan(at: now)` returned true.
    @inline(__always)
    private mutating func scheduled(at now: Instant) -> (segment: NightPlan.Segment?, nextChange: Instant) {
        if !(schedule.from <= now && now < schedule.until) { loadSchedule(at: now) }
        return (schedule.segment, schedule.nextChange)
    }

    @inline(never) private mutating func loadSchedule(at now: Instant) {
        guard let plan = night?.plan else { return }
        // Both change only at the instants `nextChange(after:)` considers, so they hold from
        // `now` until the next of them.
        let next = plan.nextChange(after: now)
        schedule = ScheduleSpan(from: now, until: next, segment: plan.segment(at: now), nextChange: next)
    }

    // MARK: - Presence

    // Actions are appended to the caller's array: one allocation per event, not one per step.
    private mutating func accept(sensor i: Int, active: Bool, at now: Instant, into actions: inout [PoleAction]) {
        var track = tracks[i]
        let previousLocalHold = localHoldUntil
        if active {
            track.activeSince = now
            detections += 1
        } else {
            track.activeSince = nil
            if track.stuck {
                // Back to normal: it released, so it is not stuck any more.
                track.stuck = false
            }
        }
        tracks[i] = track
        guard !track.stuck, clockIsUsable(now), refreshPlan(at: now), let presence = planPresence,
              tracksPresence(at: now)
        else { return }
        // The hold runs from the last moment the road user was seen: a rising edge and a falling
        // edge both restart it.
        localHoldUntil = max(localHoldUntil, now + presence.holdSeconds(forSpeed: lastLocalSpeed))
        if active, let index = poleIndex {
            let chainage = routePoles[index].chainage
            var estimate = travel.localDetection(facing: track.config.facing, range: track.config.range,
                                                 poleChainage: chainage, at: now)
            if estimate == nil, let inward = inwardDirection(ofSensorFacing: track.config.facing) {
                // With nothing else known, whoever an outward sensor at a route end sees is coming
                // in, so the light goes ahead of them into the route.
                estimate = TravelEstimator.Estimate(direction: inward, speed: nil)
            }
            let notice = DetectionNotice(pole: poleID, direction: estimate?.direction, speed: estimate?.speed, at: now)
            actions.append(.publishDetection(notice))
            lastNotice = notice
            if let speed = estimate?.speed, let fast = presence.fastSpeed, speed >= fast {
                // A fast road user has passed this pole in a moment: the shorter hold applies
                // (the sighting that set the hold above could not know the speed yet).
                lastLocalSpeed = speed
                localHoldUntil = min(localHoldUntil, max(previousLocalHold, now + presence.holdSeconds(forSpeed: speed)))
            } else {
                lastLocalSpeed = nil
            }
        }
    }

    /// `them`: the sender's route index (never this pole's).
    private mutating func receive(_ notice: DetectionNotice, from them: Int, at now: Instant) {
        // The plan's presence settings are read from copies kept beside the boxed plan: reading
        // them through the box cost a retain and a release per delivery.
        guard clockIsUsable(now), let me = poleIndex, refreshPlan(at: now), let presence = planPresence,
              tracksPresence(at: now)
        else { return }
        // Use the detection's own time when it is plausible, so network latency does not shorten
        // the hold; a notice from the future (clock skew) counts from now.
        let seen = min(notice.at, now)
        let myChainage = self.myChainage
        let theirChainage = routePoles[them].chainage
        travel.noteNeighbour(chainage: theirChainage, at: seen)
        guard now - seen <= presence.holdSeconds else { return }  // stale: the user has long passed

        let distance = abs(myChainage - theirChainage)
        let offset = me - them  // poles, positive towards higher chainage
        let aheadOffset: Int
        if let direction = notice.direction {
            aheadOffset = direction == .increasing ? offset : -offset
        } else {
            aheadOffset = abs(offset)  // direction unknown: light both ways as if ahead
        }
        var travelSeconds = 0.0
        if aheadOffset > 0 {
            // The poles ahead raised: `polesAhead`, or for a road user of known speed and direction
            // as many as lie within `lookAheadSeconds` of travel, and never more than
            // `maxPolesAhead` (or `polesAhead` if that is more).
            guard aheadOffset <= max(presence.maxPolesAhead, presence.polesAhead) else { return }
            var reach = presence.polesAhead
            if let speed = notice.speed, speed > 0, notice.direction != nil {
                // Light at least `lookAheadSeconds` of travel ahead: more poles for a faster user.
                // (Counted only as far as needed to tell whether this pole is within reach.)
                let metres = speed * presence.lookAheadSeconds
                let step = notice.direction == .increasing ? 1 : -1
                var count = 0
                var i = them + step
                while count + 1 < aheadOffset && i >= 0 && i < routePoles.count
                    && abs(routePoles[i].chainage - theirChainage) <= metres {
                    count += 1
                    i += step
                }
                reach = max(reach, count + 1)
                travelSeconds = min(distance / speed, presence.holdSeconds)
            }
            guard aheadOffset <= reach else { return }
        } else {
            guard -aheadOffset <= presence.polesBehind else { return }
        }
        neighbourHoldUntil = max(neighbourHoldUntil, seen + travelSeconds + presence.holdSeconds(forSpeed: notice.speed))
    }

    // MARK: - Reconciling

    /// Recomputes state, level, faults and the next timer from everything known at `now`.
    private mutating func reconcile(at now: Instant, into actions: inout [PoleAction]) {
        // Tonight's plan, read from the copies beside its box (no retain and release per event).
        let hasNight = clockIsUsable(now) && refreshPlan(at: now)
        let presence = hasNight ? planPresence : nil

        // Stuck sensors: active for longer than any road user could be. The same pass gathers
        // what the rest needs to know of the sensors (one pass: this runs after every event).
        var sensors = SensorSummary()
        let stuckSeconds = safety?.stuckSensorSeconds
        for i in tracks.indices {
            // The same sum as the deadline armed for it, so the timer always finds it due.
            if let stuckSeconds, !tracks[i].stuck, let since = tracks[i].activeSince, now >= since + stuckSeconds {
                tracks[i].stuck = true
            }
            // (Field by field: copying a whole track, with its sensor's id, was not free.)
            let stuck = tracks[i].stuck
            if !stuck && tracks[i].debouncer.active {
                sensors.localActive = true
                if sensors.entry == nil {
                    // (A static function: calling a method of `self` here made a copy of the machine.)
                    sensors.entry = Self.inwardDirection(ofSensorFacing: tracks[i].config.facing, poleIndex: poleIndex,
                                                         poleCount: routePoles.count)
                }
            }
            if stuck || (!hardwareFailures.isEmpty && hardwareFailures[tracks[i].config.id] != nil) {
                sensors.fault = true
            }
            if let stuckSeconds {
                if let since = tracks[i].activeSince, !stuck { sensors.consider(since + stuckSeconds, after: now) }
                if let pending = tracks[i].debouncer.pendingDeadline { sensors.consider(pending, after: now) }
            }
        }

        // A sensor that stays active (someone standing, or a long-range sensor that sees one road
        // user after another) gives no new edge; the notice is renewed every few seconds so that
        // the neighbours keep their light as long as the presence lasts, and a road user who
        // arrives while the line is already active is announced soon.
        if hasNight, let presence, tracksPresence(at: now), sensors.localActive,
           let last = lastNotice, now >= last.at + renewalSeconds(presence, entry: sensors.entry) {
            // Direction and speed are left open: while the line stays active the sensor may see
            // several road users going either way (simulation showed that copying the first
            // estimate lights the wrong side of the pole). An end pole's sensor looking out of
            // the route is the exception: whoever it sees next comes in, at unknown speed, so its
            // renewal is a full notice into the route.
            let renewal: DetectionNotice
            if let entry = sensors.entry {
                renewal = DetectionNotice(pole: poleID, direction: entry, speed: nil, at: now)
            } else {
                // Full reach both ways: with overlapping long zones (one radar per pole) the renewal
                // is what keeps the light ahead of someone walking through them; limiting it to
                // the nearest poles left walkers in the dark in simulation.
                renewal = DetectionNotice(pole: poleID, direction: nil, speed: nil, at: now)
            }
            actions.append(.publishDetection(renewal))
            lastNotice = renewal
        }

        // Faults. Almost always there are none, and nothing needs to be built.
        let sensorFault = sensors.fault
        let clockFault = !clockIsUsable(now)
        if !hasProfile || poleIndex == nil || clockFault || sensorFault || !faults.isEmpty {
            var newFaults: Set<PoleFault> = []
            if !hasProfile { newFaults.insert(.noProfile) }
            if hasProfile && poleIndex == nil { newFaults.insert(.poleNotInProfile) }
            if clockFault { newFaults.insert(.clockUntrusted) }
            for track in tracks where track.stuck { newFaults.insert(.stuckSensor(track.config.id)) }
            for id in hardwareFailures.keys where trackIndex[id] != nil { newFaults.insert(.sensorFailure(id)) }
            for fault in newFaults.subtracting(faults).sorted(by: { $0.description < $1.description }) {
                actions.append(.raiseFault(fault))
            }
            for fault in faults.subtracting(newFaults).sorted(by: { $0.description < $1.description }) {
                actions.append(.clearFault(fault))
            }
            faults = newFaults
        }

        // State and target level.
        let newState: State
        var target: DimLevel
        let activeOverride = override.flatMap { $0.isActive(at: now) ? $0 : nil }
        if override != nil && activeOverride == nil { override = nil }
        if !hasProfile {
            newState = .failsafe(.noProfile)
            target = failsafeWithoutProfile
        } else if poleIndex == nil {
            newState = .failsafe(.poleNotInProfile)
            target = safety?.failsafeLevel ?? failsafeWithoutProfile
        } else if !hasNight {
            newState = .failsafe(.clockUntrusted)
            target = safety?.failsafeLevel ?? failsafeWithoutProfile
        } else if let segment = scheduled(at: now).segment {
            let localActive = sensors.localActive
            let boosted = presence != nil && (localActive || now < localHoldUntil || now < neighbourHoldUntil)
            var level = max(segment.level, segment.minimum)
            if sensorFault, let safety { level = max(level, safety.sensorFaultLevel) }
            if boosted, let presence { level = max(level, presence.level) }
            if let activeOverride {
                newState = .overridden
                target = max(activeOverride.level, segment.minimum)
            } else {
                newState = boosted ? .boosted : (sensorFault ? .degraded : .base)
                target = level
            }
        } else if let activeOverride {
            newState = .overridden
            target = activeOverride.level
        } else {
            newState = .day
            target = .off
        }

        let levelChanged = target != output.to
        if levelChanged {
            let current = output.level(at: now)
            let ramp: Double
            if case .failsafe = newState {
                ramp = 0
            } else if current.isOff {
                // Switching on from dark is immediate: there is nothing to soften, and whoever is
                // on the road needs the light now.
                ramp = 0
            } else if target >= current {
                // Up quickly: someone may be walking into the light. Also keeps the level from
                // lagging behind a higher class minimum.
                ramp = presence?.rampUpSeconds ?? 0
            } else if state == .boosted || state == .overridden {
                ramp = presence?.rampDownSeconds ?? (hasNight ? planStepRamp : 0)
            } else if target.isOff {
                ramp = 0
            } else {
                ramp = hasNight ? planStepRamp : 0
            }
            meter(to: now)
            output = LevelRamp(from: current, to: target, start: now, duration: ramp)
            actions.append(.setLevel(target, rampSeconds: ramp))
        }
        if newState != state || levelChanged {
            state = newState
            actions.append(.reportState(status()))
        }

        // Next wake-up.
        if let next = nextDeadline(after: now, hasNight: hasNight, sensors: sensors), next != armedTimer {
            armedTimer = next
            actions.append(.armTimer(at: next))
        }
    }

    /// For a sensor of this pole facing `facing`: the direction into the route if the pole is at
    /// an end of the route and the sensor looks out of it (it sees road users before they reach
    /// the route), else nil.
    private func inwardDirection(ofSensorFacing facing: TravelDirection) -> TravelDirection? {
        Self.inwardDirection(ofSensorFacing: facing, poleIndex: poleIndex, poleCount: routePoles.count)
    }

    private static func inwardDirection(ofSensorFacing facing: TravelDirection, poleIndex: Int?,
                                        poleCount: Int) -> TravelDirection? {
        guard let index = poleIndex, poleCount > 1 else { return nil }
        if index == 0 && facing == .decreasing { return .increasing }
        if index == poleCount - 1 && facing == .increasing { return .decreasing }
        return nil
    }

    /// What `reconcile` knows of the sensors after marking stuck ones.
    private struct SensorSummary {
        /// Whether a working local sensor is active.
        var localActive = false
        /// The direction into the route if an active sensor of this pole looks out of a route end.
        var entry: TravelDirection?
        /// Whether a sensor is stuck or cannot be read.
        var fault = false
        /// The earliest of the sensors' deadlines after now (stuck, debounce), with safety settings.
        var deadline: Instant?

        mutating func consider(_ t: Instant, after now: Instant) {
            if t > now, deadline == nil || t < deadline! { deadline = t }
        }
    }

    /// How often a detection notice is renewed while a sensor stays active: every 10 s inside the
    /// route (a busy 60 m radar zone hid newcomers for half a minute at every half hold: the
    /// shared-road simulation had 60 times more dark seconds); every 2 s at an end of the route,
    /// where the next road user to arrive may be a fast cyclist or car hidden behind one already
    /// in the entry zone.
    /// `entry`: the direction into the route if an active sensor of this pole looks out of a route end.
    private func renewalSeconds(_ presence: PresenceControl, entry: TravelDirection?) -> Double {
        entry != nil ? min(presence.holdSeconds / 2, 2) : min(presence.holdSeconds / 2, 10)
    }

    /// `NightPlan.tracksPresence(at:)` of tonight's plan (after `refreshPlan(at: now)`).
    private func tracksPresence(at now: Instant) -> Bool {
        presenceWindow.start <= now && now < presenceWindow.end
    }

    private func clockIsUsable(_ now: Instant) -> Bool {
        clockTrusted && now >= Self.earliestPlausibleTime
    }

    private mutating func nextDeadline(after now: Instant, hasNight: Bool, sensors: SensorSummary) -> Instant? {
        if !clockIsUsable(now) && now < Self.earliestPlausibleTime { return nil }
        // Strictly later: whatever was due at `now` has just been handled, and a timer at `now`
        // would only come straight back. (Kept free of allocations: it runs after every event.)
        var next: Instant?
        func consider(_ t: Instant) {
            if t > now, next == nil || t < next! { next = t }
        }
        if hasNight { consider(scheduled(at: now).nextChange) }
        consider(localHoldUntil)
        consider(neighbourHoldUntil)
        if let until = override?.until { consider(until) }
        if hasNight, let presence = planPresence, sensors.localActive, let last = lastNotice {
            consider(last.at + renewalSeconds(presence, entry: sensors.entry))
        }
        if let deadline = sensors.deadline { consider(deadline) }
        return next
    }

    private mutating func meter(to now: Instant) {
        energy.advance(to: now, output: output, luminaire: luminaire)
    }

    private mutating func shift(by seconds: Double) {
        localHoldUntil = localHoldUntil == .distantPast ? localHoldUntil : localHoldUntil + seconds
        neighbourHoldUntil = neighbourHoldUntil == .distantPast ? neighbourHoldUntil : neighbourHoldUntil + seconds
        for i in tracks.indices {
            tracks[i].debouncer.shift(by: seconds)
            tracks[i].activeSince = tracks[i].activeSince.map { $0 + seconds }
        }
        travel.shift(by: seconds)
        if let last = lastNotice { lastNotice!.at = last.at + seconds }
        energy.shift(by: seconds)
        output.start = output.start + seconds
        armedTimer = nil
        forgetPlan()
    }
}
