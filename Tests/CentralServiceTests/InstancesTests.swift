import CentralCore
import CentralService
import CentralStore
import Foundation
import LichtwegTestSupport
import LightCore
import Logging
import PoleLink
import PoleProtocol
import Synchronization
import Testing

/// Two control planes on one database and one broker: plain subscriptions (the default) give both
/// every report, stored once; shared ones split the reports between them. Either way every stored
/// report is receipted to its pole. Faults go to both either way: a canary's fault halts the
/// rollout of the instance that runs it, and is stored as one alarm.
@Suite("Several control-plane instances", .serialized)
struct InstancesTests {
    /// Two instances of the control plane, each with its own MQTT link, rollouts and storage
    /// object on one SQLite file (as two processes would open it), running until `stop`.
    struct Instances {
        let storage: SQLiteStorage
        var links: [CentralLink] = []
        var rollouts: [RolloutCoordinator] = []
        /// Each instance's live events (what its browsers get).
        var events: [RouteEvents] = []
        var tasks: [Task<Void, any Error>] = []

        init(broker: Broker, scratch: Scratch, shared: Bool, name: String) async throws {
            var logger = Logger(label: "test-instances")
            logger.logLevel = .warning
            let clock: @Sendable () -> Instant = { Instant(secondsSinceEpoch: Date().timeIntervalSince1970) }
            storage = try SQLiteStorage(path: "\(scratch.path)/central.sqlite")
            for n in 0..<2 {
                let own = n == 0 ? storage : try SQLiteStorage(path: "\(scratch.path)/central.sqlite")
                let link = try MQTTLink(options: MQTTOptions(host: "127.0.0.1", port: broker.port, clientID: "central-\(n)-\(name)"),
                                        logger: logger)
                let events = RouteEvents()
                self.events.append(events)
                let rollouts = RolloutCoordinator(storage: own, publisher: link, clock: clock, events: events,
                                                  instance: "central-\(n)-\(name)", leaseSeconds: 3, logger: logger)
                let central = CentralLink(link: link, storage: own, rollouts: rollouts, clock: clock, sharedSubscriptions: shared,
                                          logger: logger)
                links.append(central)
                self.rollouts.append(rollouts)
                tasks.append(Task { try await central.run() })
                tasks.append(Task { try await rollouts.run() })  // leases, halts asked for elsewhere, take-overs
            }
            let links = self.links
            #expect(await eventually(30) { links.allSatisfy { $0.link.isConnected } })
            try await Task.sleep(for: .milliseconds(300))  // the SUBACKs
        }

        func stop() { tasks.forEach { $0.cancel() } }

        /// Instance `n` dies: its MQTT link and its leases stop, its rollout timers with them.
        func stop(_ n: Int) {
            tasks[2 * n].cancel()
            tasks[2 * n + 1].cancel()
        }
    }

    @Test("a rollout runs on one instance: the other refuses a second one, passes a halt on, and takes it over when the first dies")
    func rolloutAcrossInstances() async throws {
        let scratch = try Scratch("instances-rollout")
        let broker = try Broker()
        let instances = try await Instances(broker: broker, scratch: scratch, shared: false, name: "rollout")
        defer { instances.stop() }
        let storage = instances.storage
        let (a, b) = (instances.rollouts[0], instances.rollouts[1])
        let now = Instant(secondsSinceEpoch: Date().timeIntervalSince1970)
        for route in ["halt-road", "lease-road"] {
            try await storage.addProfileVersion(
                ProfileVersionRecord(route: route, version: 1, document: "format: lichtweg-profile/1\n", signedBundle: "{}",
                                     author: "erik", createdAt: now, comment: "test"),
                route: RouteRecord(id: route, name: route, poles: ["\(route)-1", "\(route)-2"]))
        }
        func state(_ c: RolloutCoordinator, _ route: String) async -> Rollout.State? {
            try? await c.current(route: route)?.rollout.state
        }

        // B's browsers see the rollout A runs (a lease round later); a halt asked for at B is
        // carried out by A.
        let seenAtB = Mutex<[String]>([])
        let watchB = instances.events[1].watch(route: "halt-road")
        let collect = Task { for await event in watchB { seenAtB.withLock { $0.append(event) } } }
        defer { collect.cancel() }
        _ = try await a.start(route: "halt-road", version: 1, canaries: ["halt-road-1"], soakSeconds: 600,
                              ackTimeoutSeconds: 600, by: "erik")
        #expect(await eventually(30) { seenAtB.withLock { $0.contains { $0.contains(#""state":"canary""#) } } },
                "\(seenAtB.withLock { $0 })")
        #expect(try await b.isRunning(route: "halt-road"))
        #expect(try await b.halt(route: "halt-road", reason: "wrong canary", by: "anna"))
        // B answers once A has halted it (A's round comes within a third of the 3 s lease).
        if case .halted = await state(b, "halt-road") {} else { Issue.record("B answered before A halted it") }
        #expect(await eventually(30) { if case .halted = await state(a, "halt-road") { true } else { false } })
        if case let .halted(reason, _) = await state(a, "halt-road") { #expect(reason == "halted by anna: wrong canary") }
        #expect(try await b.isRunning(route: "halt-road") == false)
        #expect(try await b.halt(route: "halt-road", reason: "again", by: "anna") == false)

        // A starts one; B refuses a second on the same route.
        _ = try await a.start(route: "lease-road", version: 1, canaries: ["lease-road-1"], soakSeconds: 1,
                              ackTimeoutSeconds: 600, by: "erik")
        await #expect(throws: RolloutCoordinator.StartError.self) {
            _ = try await b.start(route: "lease-road", version: 1, canaries: [], soakSeconds: 1, ackTimeoutSeconds: 600, by: "anna")
        }
        #expect(try await storage.unfinishedRollouts().map(\.owner) == ["central-0-rollout"])

        // A dies in the canary stage. Once its lease (3 s) has run out, B takes the rollout over.
        instances.stop(0)
        let died = ContinuousClock.now
        #expect(await eventually(30) { (try? await storage.unfinishedRollouts().first?.owner) == "central-1-rollout" })
        let takeover = ContinuousClock.now - died
        #expect(takeover < .seconds(3 + 1 + 2), "taken over after \(takeover)")
        #expect(await eventually(30) { if case .canary = await state(b, "lease-road") { true } else { false } })

        // B runs it to the end: the canary's acknowledgement, the 1 s soak, the route's.
        let poles = try Observer(broker: broker, name: "lease-poles")
        try await poles.start()
        func ack(_ pole: String) async throws {
            let ack = ProfileAckPayload(pole: pole, route: "lease-road", version: 1, result: "applied", reason: nil, detail: nil,
                                        versionInForce: 1, at: Timestamp(Instant(secondsSinceEpoch: Date().timeIntervalSince1970)))
            try await poles.publish(Topics.profileAck(pole), PayloadCodec.encode(ack))
        }
        try await ack("lease-road-1")
        #expect(await eventually(30) { if case .rollingOut = await state(b, "lease-road") { true } else { false } })
        try await ack("lease-road-2")
        #expect(await eventually(30) { if case .completed = await state(b, "lease-road") { true } else { false } })
        #expect(try await storage.unfinishedRollouts().isEmpty)
    }

    @Test("two instances: plain subscriptions give each every report, stored once; shared ones split them", arguments: [false, true])
    func twoInstances(shared: Bool) async throws {
        let scratch = try Scratch("instances")
        let broker = try Broker()
        let instances = try await Instances(broker: broker, scratch: scratch, shared: shared, name: "\(shared)")
        defer { instances.stop() }
        let links = instances.links
        let storage = instances.storage

        // A pole says where it is, then sends 200 reports of distinct minutes.
        let pole = try Observer(broker: broker, name: "pole")
        try await pole.start()
        let now = Instant(secondsSinceEpoch: Date().timeIntervalSince1970)
        let state = StatePayload(pole: "P1", route: "two-road", state: "base", failsafeReason: nil, level: 20, program: "night",
                                 profileVersion: 1, faults: [], uptimeSeconds: 1, firmware: "test", at: Timestamp(now))
        try await pole.publish(Topics.state("P1"), PayloadCodec.encode(state), retain: true)
        #expect(await eventually(30) { links.allSatisfy { $0.counts.received >= 1 } })
        let reports = 200
        let start = TelemetryBuckets.bucket(containing: now) - Double(reports) * 60
        for i in 0..<reports {
            let from = start + Double(i) * 60
            let report = TelemetryPayload(pole: "P1", from: Timestamp(from), to: Timestamp(from + 60), energyWh: Double(i),
                                          intervalEnergyWh: 0.5, detections: 1, level: 20)
            try await pole.publish(Topics.telemetry("P1"), PayloadCodec.encode(report))
        }
        let expected = shared ? reports : 2 * reports
        let all = { () -> Int in links.map(\.counts.telemetry).reduce(0, +) }
        #expect(await eventually(30) { all() >= expected })
        for central in links { await central.ingest.drain() }
        let counts = links.map(\.counts.telemetry)
        if shared {
            #expect(counts.reduce(0, +) == reports, "\(counts)")
            #expect(counts.allSatisfy { $0 > 0 }, "one instance got nothing: \(counts)")
        } else {
            #expect(counts == [reports, reports])
        }
        // Stored once either way: the energy adds up to 200 reports of 0.5 Wh.
        let energy = try await storage.energy(pole: "P1", from: start - 900, to: start + Double(reports + 1) * 60)
        let wattHours: Double = energy.map(\.energyWh).reduce(0, +)
        let detections: Int = energy.map(\.detections).reduce(0, +)
        #expect(abs(wattHours - Double(reports) * 0.5) < 1e-6)
        #expect(detections == reports)

        // Every stored report was receipted to its pole (by both instances when both stored it).
        let froms = Set((0..<reports).map { Timestamp(start + Double($0) * 60) })
        let receipted = { () async -> Set<Timestamp> in
            Set(await pole.payloads(TelemetryReceiptPayload.self, on: Topics.telemetryReceipt("P1")).flatMap(\.reports))
        }
        var seen: Set<Timestamp> = []
        for _ in 0..<100 where seen != froms {
            try await Task.sleep(for: .milliseconds(100))
            seen = await receipted()
        }
        #expect(seen == froms, "\(froms.subtracting(seen).count) reports without a receipt, \(seen.subtracting(froms).count) receipted but never sent")
        // A report sent again (the pole got no receipt) is ignored by the storage but receipted again.
        await pole.clear()
        let again = TelemetryPayload(pole: "P1", from: Timestamp(start), to: Timestamp(start + 60), energyWh: 0,
                                     intervalEnergyWh: 0.5, detections: 1, level: 20)
        try await pole.publish(Topics.telemetry("P1"), PayloadCodec.encode(again))
        let receipt = try await pole.waitFor(TelemetryReceiptPayload.self, on: Topics.telemetryReceipt("P1")) { $0.reports.contains(Timestamp(start)) }
        #expect(receipt.pole == "P1")
        for central in links { await central.ingest.drain() }
        let after = try await storage.energy(pole: "P1", from: start - 900, to: start + Double(reports + 1) * 60)
        #expect(abs(after.map(\.energyWh).reduce(0, +) - wattHours) < 1e-9, "a duplicate was stored twice")
    }

    @Test("a canary's fault halts the rollout of the instance that runs it, also with shared subscriptions; one alarm each",
          arguments: [false, true])
    func canaryFaultHaltsRollout(shared: Bool) async throws {
        let scratch = try Scratch("instances-fault")
        let broker = try Broker()
        let instances = try await Instances(broker: broker, scratch: scratch, shared: shared, name: "fault-\(shared)")
        defer { instances.stop() }
        let storage = instances.storage
        let runner = instances.rollouts[0]  // instance A runs every rollout; B runs none

        // Four routes, each rolled out by A with one canary. Four, so that if the broker split the
        // faults between the instances (as a shared subscription does), some would miss A.
        let routes = (1...4).map { "fault-road-\($0)" }
        let now = Instant(secondsSinceEpoch: Date().timeIntervalSince1970)
        for route in routes {
            try await storage.addProfileVersion(
                ProfileVersionRecord(route: route, version: 1, document: "format: lichtweg-profile/1\n", signedBundle: "{}",
                                     author: "erik", createdAt: now, comment: "test"),
                route: RouteRecord(id: route, name: route, poles: ["\(route)-canary", "\(route)-other"]))
            _ = try await runner.start(route: route, version: 1, canaries: ["\(route)-canary"], soakSeconds: 600,
                                       ackTimeoutSeconds: 600, by: "erik")
        }
        let state = { (route: String) async throws -> Rollout.State? in try await runner.current(route: route)?.rollout.state }
        func waitForAll(_ what: String, _ done: (Rollout.State?) -> Bool) async throws -> [Rollout.State?] {
            var states: [Rollout.State?] = []
            for _ in 0..<100 {
                states = []
                for route in routes { states.append(try await state(route)) }
                if states.allSatisfy(done) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let all = states.allSatisfy(done)
            #expect(all, "not every rollout \(what): \(states)")
            return states
        }

        // Every canary applies the version (acknowledgements are plain: A gets them all).
        let poles = try Observer(broker: broker, name: "canaries")
        try await poles.start()
        for route in routes {
            let ack = ProfileAckPayload(pole: "\(route)-canary", route: route, version: 1, result: "applied", reason: nil,
                                        detail: nil, versionInForce: 1, at: Timestamp(now))
            try await poles.publish(Topics.profileAck("\(route)-canary"), PayloadCodec.encode(ack))
        }
        _ = try await waitForAll("soaking") { if case .soaking = $0 { true } else { false } }

        // Then each canary's lamp fails: every rollout must halt, whichever instance the broker
        // would have given the fault to.
        let raisedAt = Instant(secondsSinceEpoch: Date().timeIntervalSince1970.rounded(.down))  // whole: exact on the wire
        for route in routes {
            let fault = FaultPayload(pole: "\(route)-canary", code: "lamp-failure", sensor: nil, active: true, detail: nil,
                                     at: Timestamp(raisedAt))
            try await poles.publish(Topics.fault("\(route)-canary"), PayloadCodec.encode(fault))
        }
        let halted = try await waitForAll("halted") { if case .halted = $0 { true } else { false } }
        for (route, state) in zip(routes, halted) {
            if case let .halted(reason, _) = state {
                #expect(reason.contains("\(route)-canary raised lamp-failure"), "\(reason)")
            }
        }

        // Both instances store every fault: one alarm per canary, then cleared once.
        let clearedAt = raisedAt + 5
        for route in routes {
            let clear = FaultPayload(pole: "\(route)-canary", code: "lamp-failure", sensor: nil, active: false, detail: nil,
                                     at: Timestamp(clearedAt))
            try await poles.publish(Topics.fault("\(route)-canary"), PayloadCodec.encode(clear))
        }
        var alarms: [AlarmRecord] = []
        for _ in 0..<100 {
            alarms = try await storage.alarms(route: nil, openOnly: false)
            if alarms.count == routes.count, alarms.allSatisfy({ $0.clearedAt != nil }) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .milliseconds(300))  // the other instance's copies, if any were late
        alarms = try await storage.alarms(route: nil, openOnly: false)
        #expect(alarms.map(\.pole).sorted() == routes.map { "\($0)-canary" }, "\(alarms)")
        #expect(alarms.allSatisfy { $0.raisedAt == raisedAt && $0.clearedAt == clearedAt }, "\(alarms)")
    }

    @Test("an instance whose persistent session still has an earlier version's shared fault subscription drops it: each fault comes once")
    func retiredSharedFaultSubscription() async throws {
        let scratch = try Scratch("instances-retired")
        let broker = try Broker()
        var logger = Logger(label: "test-instances")
        logger.logLevel = .warning
        let clientID = "central-upgraded"
        // The earlier version: faults on the shared subscription, in a persistent session.
        let earlier = try MQTTLink(options: MQTTOptions(host: "127.0.0.1", port: broker.port, clientID: clientID), logger: logger)
        earlier.subscribe("$share/\(CentralLink.shareGroup)/lichtweg/v1/pole/+/fault", qos: 1)
        try earlier.start()
        #expect(await eventually(30) { earlier.isConnected })
        try await Task.sleep(for: .milliseconds(300))  // the SUBACK
        earlier.stop()

        // This version, same client id and session.
        let storage = try SQLiteStorage(path: "\(scratch.path)/central.sqlite")
        let clock: @Sendable () -> Instant = { Instant(secondsSinceEpoch: Date().timeIntervalSince1970) }
        let link = try MQTTLink(options: MQTTOptions(host: "127.0.0.1", port: broker.port, clientID: clientID), logger: logger)
        let central = CentralLink(link: link, storage: storage,
                                  rollouts: RolloutCoordinator(storage: storage, publisher: link, clock: clock, instance: "retired",
                                                               logger: logger),
                                  clock: clock, sharedSubscriptions: true, logger: logger)
        let task = Task { try await central.run() }
        defer { task.cancel() }
        #expect(await eventually(30) { link.isConnected })
        try await Task.sleep(for: .milliseconds(300))  // the SUBACKs and UNSUBACK

        let pole = try Observer(broker: broker, name: "pole")
        try await pole.start()
        let fault = FaultPayload(pole: "P1", code: "lamp-failure", sensor: nil, active: true, detail: nil,
                                 at: Timestamp(clock()))
        try await pole.publish(Topics.fault("P1"), PayloadCodec.encode(fault))
        #expect(await eventually(30) { central.counts.received >= 1 })
        try await Task.sleep(for: .milliseconds(500))  // a second copy, if the shared subscription were still there
        #expect(central.counts.received == 1, "\(central.counts.received) copies of one fault")
    }
}
