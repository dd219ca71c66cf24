import CentralCore
import CentralStore
import LightCore
import Logging
import PoleLink
import PoleProtocol
import ServiceLifecycle

/// Runs the rollouts: feeds each `Rollout` state machine the poles' acknowledgements and faults,
/// publishes what it says to publish, arms its timers, and stores it after every step, so that a
/// restarted control plane resumes where it stopped.
///
/// Several instances may share one database. Each rollout is run by one of them, which holds a
/// lease on it in the database and renews it (`run()`, every third of `leaseSeconds`); when an
/// instance dies, another takes its rollouts over once their leases have run out. A halt asked
/// for at an instance that does not run the rollout is stored for the one that does.
public actor RolloutCoordinator: Service {
    /// Where messages to the poles go (the MQTT link).
    public protocol Publisher: Sendable {
        func publish(_ message: MQTTMessage) throws
    }

    private struct Active {
        var id: Int64
        var rollout: Rollout
        var bundle: [UInt8]
        var createdBy: String
        var createdAt: Instant
        var timer: Task<Void, Never>?
        /// When the rollout last changed (its stored form may lag by up to a second).
        var updatedAt: Instant

        var record: RolloutRecord { RolloutRecord(id: id, rollout: rollout, createdBy: createdBy, createdAt: createdAt, updatedAt: updatedAt) }
    }

    private let storage: any CentralStorage
    private let publisher: any Publisher
    private let clock: @Sendable () -> Instant
    private let logger: Logger
    private let events: RouteEvents?
    private var active: [String: Active] = [:]
    /// Routes whose rollout `start` is setting up.
    private var starting: Set<String> = []
    /// Rollouts another instance runs, as last seen (route: when it last changed): their changes
    /// go to this instance's browsers too, a lease round later.
    private var othersSeen: [String: Instant] = [:]
    /// This instance, as its leases name it: stable across restarts (the MQTT client id), so that
    /// a restarted instance takes its own rollouts up at once.
    public let instance: String
    /// How long a lease lasts without renewal: how long the rollouts of a dead instance wait.
    public let leaseSeconds: Double

    public init(storage: any CentralStorage, publisher: any Publisher, clock: @escaping @Sendable () -> Instant,
                events: RouteEvents? = nil, instance: String, leaseSeconds: Double = 15,
                logger: Logger = Logger(label: "lichtweg-central.rollout")) {
        self.events = events
        self.storage = storage
        self.publisher = publisher
        self.clock = clock
        self.instance = instance
        self.leaseSeconds = leaseSeconds
        self.logger = logger
    }

    public enum StartError: Error, Sendable {
        case unknownVersion(route: String, version: Int)
        case badPlan([String])
        case busy(route: String, version: Int)
    }

    // MARK: - Leases

    /// Renews this instance's leases, carries out halts asked for at other instances and takes
    /// over rollouts whose lease has run out, every third of `leaseSeconds`, until shutdown; then
    /// lets go of its rollouts' timers (the leases run out, and another instance or a restart
    /// takes the rollouts up).
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await self.maintain() } catch {
                    self.logger.error("rollout leases not kept", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(self.leaseSeconds / 3))
            }
        }
        stopTimers()
    }

    private func stopTimers() {
        for route in active.keys { active[route]?.timer?.cancel() }
        progressFlush?.cancel()
    }

    /// One round of `run()`: renew, halt, take over.
    public func maintain() async throws {
        let now = clock()
        let running = active.values.filter { !$0.rollout.state.isFinished }
        let held = try await storage.renewRolloutLeases(owner: instance, ids: running.map(\.id), until: now + leaseSeconds)
        for entry in running where !held.contains(entry.id) {
            // Another instance took it over (this one was away longer than the lease): it is theirs.
            let route = entry.rollout.plan.route
            active[route]?.timer?.cancel()
            active[route] = nil
            logger.warning("rollout taken over by another instance", metadata: ["route": "\(route)"])
        }
        try await resume()
    }

    /// Takes up the unfinished rollouts that no instance holds (none when the control plane
    /// starts alone, or those of an instance whose lease ran out), and carries out the halts
    /// asked for at other instances.
    public func resume() async throws {
        let now = clock()
        var others: [String: Instant] = [:]
        defer { othersSeen = others }
        for record in try await storage.unfinishedRollouts() {
            let route = record.rollout.plan.route
            // `start` of this instance is storing it (the actor lets this round in while it awaits).
            if starting.contains(route) { continue }
            if let id = record.id, let entry = active[route], entry.id == id {
                if let request = record.haltRequest, !entry.rollout.state.isFinished {
                    await deliver(.halt(reason: request), route: route)
                }
                continue
            }
            guard let id = record.id else { continue }
            guard try await storage.claimRollout(id: id, owner: instance, until: now + leaseSeconds, now: now) else {
                others[route] = record.updatedAt
                if othersSeen[route] != record.updatedAt { events?.publish(route: route, kind: "rollout", RolloutView(record)) }
                continue
            }
            guard let version = try await storage.profileVersion(route: route, version: record.rollout.plan.version)
            else { continue }
            active[route] = Active(id: id, rollout: record.rollout, bundle: Array(version.signedBundle.utf8),
                                   createdBy: record.createdBy, createdAt: record.createdAt, updatedAt: record.updatedAt)
            logger.info("rollout resumed", metadata: ["route": "\(route)", "version": "\(record.rollout.plan.version)",
                                                      "state": "\(record.rollout.state)"])
            // Publishing again is harmless (retained, the poles ignore what they already run) and
            // repairs a publish that the stop interrupted; the timer is armed anew from the state.
            var actions: [Rollout.Action] = []
            switch record.rollout.state {
            case .canary(let since): actions = [.sendToPoles(record.rollout.plan.canaries), .armTimer(since + record.rollout.plan.ackTimeoutSeconds)]
            case .soaking(let until): actions = [.armTimer(until)]
            case .rollingOut: actions = [.sendToRoute]
            default: break
            }
            await execute(actions, route: route)
            try await countReportedState(route: route)
            if let request = record.haltRequest { await deliver(.halt(reason: request), route: route) }
        }
        // Another instance's rollout that is no longer unfinished has just finished: its last state.
        for route in othersSeen.keys where others[route] == nil && active[route] == nil {
            if let latest = try await storage.latestRollout(route: route) {
                events?.publish(route: route, kind: "rollout", RolloutView(latest))
            }
        }
    }

    /// Starts rolling `version` of `route` out, canaries first.
    public func start(route: String, version: Int, canaries: [String], soakSeconds: Double, ackTimeoutSeconds: Double,
                      by user: String) async throws -> RolloutRecord {
        if let running = active[route], !running.rollout.state.isFinished {
            throw StartError.busy(route: route, version: running.rollout.plan.version)
        }
        guard starting.insert(route).inserted else { throw StartError.busy(route: route, version: version) }
        defer { starting.remove(route) }
        // A route's unfinished rollout is its latest (a new one needs the last one finished).
        if let running = try await storage.latestRollout(route: route), !running.rollout.state.isFinished {
            throw StartError.busy(route: route, version: running.rollout.plan.version)  // another instance runs it
        }
        guard let record = try await storage.profileVersion(route: route, version: version),
              let routeRecord = try await storage.route(route)
        else { throw StartError.unknownVersion(route: route, version: version) }
        let plan = Rollout.Plan(route: route, version: version, poles: routeRecord.poles, canaries: canaries,
                                soakSeconds: soakSeconds, ackTimeoutSeconds: ackTimeoutSeconds)
        guard plan.problems.isEmpty else { throw StartError.badPlan(plan.problems) }
        let now = clock()
        var rollout = Rollout(plan: plan)
        let actions = rollout.handle(.start, at: now)
        let id: Int64
        do {
            id = try await storage.createRollout(RolloutRecord(rollout: rollout, createdBy: user, createdAt: now, updatedAt: now,
                                                               owner: instance, leaseUntil: now + leaseSeconds))
        } catch StorageError.conflict {
            // Another instance started one on this route a moment ago.
            let running = try await storage.latestRollout(route: route)
            throw StartError.busy(route: route, version: running?.rollout.plan.version ?? version)
        }
        try await storage.appendAudit(AuditEntry(at: now, actor: user, action: "rollout.start", subject: "route \(route) version \(version)",
                                                 detail: canaries.isEmpty ? "no canaries" : "canaries \(canaries.joined(separator: ", "))"))
        active[route] = Active(id: id, rollout: rollout, bundle: Array(record.signedBundle.utf8), createdBy: user, createdAt: now,
                               updatedAt: now)
        await execute(actions.filter { if case .record = $0 { false } else { true } }, route: route)
        try await countReportedState(route: route)
        return RolloutRecord(id: id, rollout: active[route]?.rollout ?? rollout, createdBy: user, createdAt: now, updatedAt: now)
    }

    /// A pole that already runs the version (or a newer one) gets the very same signed bytes and,
    /// rightly, says nothing: its last reported state answers for it. Also after a restart, when
    /// acknowledgements may have come while no one was listening.
    private func countReportedState(route: String) async throws {
        guard let version = active[route]?.rollout.plan.version else { return }
        for snapshot in try await storage.poleSnapshots(route: route) {
            if let inForce = snapshot.profileVersion, inForce >= version {
                await deliver(.ack(pole: snapshot.pole, version: version, applied: true, versionInForce: inForce, reason: nil),
                              route: route)
            }
        }
    }

    /// An operator stops the route's rollout: at once if this instance runs it, else the request
    /// is stored for the instance that does (carried out within a third of `leaseSeconds`).
    public func halt(route: String, reason: String, by user: String) async throws -> Bool {
        let request = "halted by \(user): \(reason)"
        if let entry = active[route], !entry.rollout.state.isFinished {
            try await storage.appendAudit(AuditEntry(at: clock(), actor: user, action: "rollout.halt", subject: "route \(route)", detail: reason))
            await deliver(.halt(reason: request), route: route)
            return true
        }
        guard try await storage.requestRolloutHalt(route: route, request: request) else { return false }
        try await storage.appendAudit(AuditEntry(at: clock(), actor: user, action: "rollout.halt", subject: "route \(route)",
                                                 detail: "\(reason) (asked at another instance)"))
        // The operator should see it halted: wait for the owner's next round (its live events go
        // to its own browsers; these get this instance's).
        let deadline = clock() + leaseSeconds / 3 + 2
        while clock() < deadline {
            try await Task.sleep(for: .milliseconds(250))
            if let latest = try await storage.latestRollout(route: route), latest.rollout.state.isFinished {
                events?.publish(route: route, kind: "rollout", RolloutView(latest))
                break
            }
        }
        return true
    }

    // MARK: - From the poles

    public func handle(ack: ProfileAckPayload) async {
        guard let route = ack.route ?? routeOf(pole: ack.pole), let version = ack.version else { return }
        await deliver(.ack(pole: ack.pole, version: version, applied: ack.result == "applied",
                           versionInForce: ack.versionInForce, reason: ack.reason), route: route)
    }

    public func handle(fault: FaultPayload) async {
        guard fault.active, let route = routeOf(pole: fault.pole) else { return }
        await deliver(.faultRaised(pole: fault.pole, code: fault.code), route: route)
    }

    private func routeOf(pole: String) -> String? {
        active.first { $0.value.rollout.plan.poles.contains(pole) }?.key
    }

    // MARK: - Running the machine

    private func deliver(_ event: Rollout.Event, route: String) async {
        // Changed in place: a copy of the entry would copy the progress of every pole on the
        // route at every acknowledgement.
        guard let before = active[route]?.rollout.revision else { return }
        let now = clock()
        let actions = active[route]!.rollout.handle(event, at: now)
        await execute(actions, route: route)
        guard active[route]?.rollout.revision != before else { return }
        active[route]?.updatedAt = now
        if actions.contains(where: { if case .record = $0 { true } else { false } }) {
            publishProgress(route: route)
        } else {
            // A single pole's progress (no change of state) is stored and shown too, but at most
            // once a second: on a route of thousands of poles every acknowledgement would otherwise
            // write (and send to every browser) the whole rollout again.
            progressPending.insert(route)
            guard progressFlush == nil else { return }
            progressFlush = Task { [weak self] in
                try? await Task.sleep(for: .seconds(1))
                await self?.flushProgress()
            }
        }
    }

    private var progressPending: Set<String> = []
    private var progressFlush: Task<Void, Never>?

    private func flushProgress() async {
        progressFlush = nil
        let routes = progressPending
        progressPending = []
        for route in routes {
            guard let entry = active[route] else { continue }
            try? await storage.updateRollout(id: entry.id, entry.rollout, at: clock())
            publishProgress(route: route)
        }
    }

    private func publishProgress(route: String) {
        progressPending.remove(route)
        if let current = active[route] { events?.publish(route: route, kind: "rollout", RolloutView(current.record)) }
    }

    private func execute(_ actions: [Rollout.Action], route: String) async {
        guard let entry = active[route] else { return }
        let topics = Topics(route: route)
        for action in actions {
            do {
                switch action {
                case let .sendToPoles(poles):
                    for pole in poles {
                        try publisher.publish(MQTTMessage(topic: Topics.poleProfile(pole), payload: entry.bundle, qos: 1, retain: true))
                    }
                case .sendToRoute:
                    try publisher.publish(MQTTMessage(topic: topics.profile, payload: entry.bundle, qos: 1, retain: true))
                case let .clearPoleTopics(poles):
                    for pole in poles {
                        try publisher.publish(MQTTMessage(topic: Topics.poleProfile(pole), payload: [], qos: 1, retain: true))
                    }
                case let .armTimer(at):
                    active[route]?.timer?.cancel()
                    // Bounded: a stored rollout from before the plan's limits must not trap the timer.
                    let delay = min(max(0, at - clock()), Rollout.Plan.longestSoak + Rollout.Plan.longestAckTimeout)
                    active[route]?.timer = Task { [weak self] in
                        try? await Task.sleep(for: .seconds(delay))
                        guard !Task.isCancelled else { return }
                        await self?.deliver(.timer, route: route)
                    }
                case let .record(state):
                    try await storage.updateRollout(id: entry.id, active[route]?.rollout ?? entry.rollout, at: clock())
                    logger.notice("rollout \(state.isFinished ? "finished" : "advanced")",
                                  metadata: ["route": "\(route)", "version": "\(entry.rollout.plan.version)", "state": "\(state)"])
                    if state.isFinished { active[route]?.timer?.cancel() }
                }
            } catch {
                // The broker or the database is away: the rollout's state is the machine's; the
                // next event or a restart (resume) publishes again.
                logger.error("rollout step failed", metadata: ["route": "\(route)", "action": "\(action)", "error": "\(error)"])
            }
        }
    }

    /// Whether the route has a rollout that is neither completed nor halted, run by this
    /// instance or another.
    public func isRunning(route: String) async throws -> Bool {
        if let entry = active[route], !entry.rollout.state.isFinished { return true }
        return try await storage.latestRollout(route: route).map { !$0.rollout.state.isFinished } ?? false
    }

    /// The route's rollout as it stands (also when finished), or nil.
    public func current(route: String) async throws -> RolloutRecord? {
        // The running (or last run) rollout is in memory and newer than its stored form, which
        // is written at most once a second; reading it back cost a decode of every pole's progress.
        // A finished one is read from storage: another instance may have started a newer one.
        if let entry = active[route], !entry.rollout.state.isFinished { return entry.record }
        return try await storage.latestRollout(route: route)
    }
}

extension MQTTLink: RolloutCoordinator.Publisher {}
