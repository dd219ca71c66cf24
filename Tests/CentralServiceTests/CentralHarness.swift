import CentralCore
import CentralService
import CentralStore
import Crypto
import Foundation
import HummingbirdBcrypt
import HummingbirdTesting
import LichtwegTestSupport
import LightCore
import Logging
import PoleLink

/// A whole control plane for a test: SQLite in a temporary file, a real mosquitto on a free
/// loopback port, the MQTT link and rollout coordinator, and the HTTP application, with three
/// users (password "correct horse"): vera (viewer), erik (engineer), ada (admin).
struct CentralHarness: Sendable {
    let client: any TestClientProtocol
    let storage: SQLiteStorage
    let broker: Broker
    let key: Curve25519.Signing.PrivateKey

    static func with(_ setup: TestingSetup = .router, key: Curve25519.Signing.PrivateKey = .init(),
                     _ body: @Sendable @escaping (CentralHarness) async throws -> Void) async throws {
        let scratch = try Scratch("central")
        let storage = try SQLiteStorage(path: "\(scratch.path)/central.sqlite")
        let hash = Bcrypt.hash("correct horse", cost: 4)
        for (name, role) in [("vera", Role.viewer), ("erik", .engineer), ("ada", .admin)] {
            try await storage.addUser(UserRecord(name: name, passwordHash: hash, role: role))
        }
        let broker = try Broker()
        var logger = Logger(label: "test-central")
        logger.logLevel = .warning
        let clock: @Sendable () -> Instant = { Instant(secondsSinceEpoch: Date().timeIntervalSince1970) }
        let link = try MQTTLink(options: MQTTOptions(host: "127.0.0.1", port: broker.port, clientID: "central-\(UUID().uuidString.prefix(8))"),
                                logger: logger)
        let events = RouteEvents()
        let rollouts = RolloutCoordinator(storage: storage, publisher: link, clock: clock, events: events, instance: "harness",
                                          logger: logger)
        let metrics = CentralMetrics()
        let central = CentralLink(link: link, storage: storage, rollouts: rollouts, clock: clock, events: events,
                                  metrics: metrics, logger: logger)
        let running = Task { try await central.run() }
        defer { running.cancel() }
        _ = await eventually(30) { link.isConnected }
        var settings = CentralSettings(host: "127.0.0.1", port: 0, signingKey: key, clock: clock)
        settings.webRoot = CentralSettings.bundledWebRoot
        settings.trafficDirectory = "\(Paths.packageRoot.path)/Profiles/traffic"
        let app = try buildApplication(settings, parts: CentralParts(storage: storage, rollouts: rollouts, publisher: link, events: events, metrics: metrics),
                                   logger: logger)
        try await app.test(setup) { client in
            try await body(CentralHarness(client: client, storage: storage, broker: broker, key: key))
        }
        withExtendedLifetime(scratch) {}
    }
}
