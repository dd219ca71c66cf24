import CentralCore
import CentralService
import CentralStore
import Foundation
import LichtwegTestSupport
import LightCore
import Logging
import PoleLink
import PoleProtocol
import Testing

/// Two control planes on one database and one broker: plain subscriptions (the default) give both
/// every report, stored once; shared ones split the reports between them. Either way every stored
/// report is receipted to its pole.
@Suite("Several control-plane instances", .serialized)
struct InstancesTests {
    @Test("two instances: plain subscriptions give each every report, stored once; shared ones split them", arguments: [false, true])
    func twoInstances(shared: Bool) async throws {
        let scratch = try Scratch("instances")
        let broker = try Broker()
        var logger = Logger(label: "test-instances")
        logger.logLevel = .warning
        let clock: @Sendable () -> Instant = { Instant(secondsSinceEpoch: Date().timeIntervalSince1970) }
        var links: [CentralLink] = []
        var tasks: [Task<Void, any Error>] = []
        let storage = try SQLiteStorage(path: "\(scratch.path)/central.sqlite")
        for n in 0..<2 {
            // Each instance opens the database itself, as two processes would.
            let own = n == 0 ? storage : try SQLiteStorage(path: "\(scratch.path)/central.sqlite")
            let link = try MQTTLink(options: MQTTOptions(host: "127.0.0.1", port: broker.port, clientID: "central-\(n)-\(shared)"),
                                    logger: logger)
            let rollouts = RolloutCoordinator(storage: own, publisher: link, clock: clock, logger: logger)
            let central = CentralLink(link: link, storage: own, rollouts: rollouts, clock: clock, sharedSubscriptions: shared,
                                      logger: logger)
            links.append(central)
            tasks.append(Task { try await central.run() })
        }
        defer { tasks.forEach { $0.cancel() } }
        #expect(await eventually(10) { links.allSatisfy { $0.link.isConnected } })
        try await Task.sleep(for: .milliseconds(300))  // the SUBACKs

        // A pole says where it is, then sends 200 reports of distinct minutes.
        let pole = try Observer(broker: broker, name: "pole")
        try await pole.start()
        let now = Instant(secondsSinceEpoch: Date().timeIntervalSince1970)
        let state = StatePayload(pole: "P1", route: "two-road", state: "base", failsafeReason: nil, level: 20, program: "night",
                                 profileVersion: 1, faults: [], uptimeSeconds: 1, firmware: "test", at: Timestamp(now))
        try await pole.publish(Topics.state("P1"), PayloadCodec.encode(state), retain: true)
        #expect(await eventually(10) { links.allSatisfy { $0.counts.received >= 1 } })
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
        #expect(await eventually(20) { all() >= expected })
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
}
