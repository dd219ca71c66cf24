import ArgumentParser
import CentralCore
import CentralService
import CentralStore
import Foundation
import Hummingbird
import HummingbirdBcrypt
import LightCore
import Logging
import PoleLink
import PoleProtocol
import ServiceLifecycle

/// `lichtweg-central`: the control plane.
@main
struct LichtwegCentral: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lichtweg-central",
        abstract: "The control plane: profile registry, staged rollout, telemetry, alarms, web UI.",
        subcommands: [Serve.self, UserCommand.self, TokenCommand.self, ACLCommand.self],
        defaultSubcommand: Serve.self)
}

/// Where the data lives: `sqlite:PATH` (the default, a file) or `postgres://USER@HOST:PORT/DB`.
struct StorageOptions: ParsableArguments {
    @Option(name: .long, help: "sqlite:PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
    var db: String = "sqlite:lichtweg-central.sqlite"

    func open() async throws -> any CentralStorage {
        if db.hasPrefix("sqlite:") { return try SQLiteStorage(path: String(db.dropFirst("sqlite:".count))) }
        if db.hasPrefix("postgres://") || db.hasPrefix("postgresql://") { return try await PostgresStorage(url: db) }
        throw ValidationError("--db must be sqlite:PATH or postgres://…, got '\(db)'")
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the control plane.")

    @OptionGroup var storage: StorageOptions
    @Option(help: "HOST:PORT to serve HTTP on") var listen: String = "127.0.0.1:8080"
    @Option(help: "the MQTT broker, mqtt://HOST:PORT") var broker: String = "mqtt://127.0.0.1:1883"
    @Option(name: .customLong("client-id"), help: "MQTT client id of this instance (unique per instance)")
    var clientID: String = "lichtweg-central"
    @Option(name: .customLong("web-root"), help: "the web UI's files (default: the ones built into this binary)")
    var webRoot: String?
    @Option(name: .customLong("traffic-dir"), help: "the simulator's traffic models for previews (default: Profiles/traffic if there)")
    var trafficDirectory: String?
    @Option(name: .customLong("signing-key"), help: "the Ed25519 profile-signing key (lichtweg key generate)")
    var signingKey: String

    func run() async throws {
        let parts = listen.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]), (0...65535).contains(port) else {
            throw ValidationError("--listen must be HOST:PORT, got '\(listen)'")
        }
        let keyText: String
        do {
            keyText = try String(contentsOfFile: signingKey, encoding: .utf8)
        } catch {
            throw ValidationError("cannot read the signing key \(signingKey): \(error.localizedDescription)")
        }
        let key = try SigningKeys.privateKey(fromFileText: keyText)
        var logger = Logger(label: "lichtweg-central")
        logger.logLevel = .info
        guard let brokerURL = URLComponents(string: broker), brokerURL.scheme == "mqtt", let host = brokerURL.host else {
            throw ValidationError("--broker must be mqtt://HOST:PORT, got '\(broker)'")
        }
        let store = try await storage.open()
        let clock: @Sendable () -> Instant = { Instant(secondsSinceEpoch: Date().timeIntervalSince1970) }
        var options = MQTTOptions(host: host, port: brokerURL.port ?? 1883, clientID: clientID)
        options.keepAliveSeconds = 30
        // The link is created first (the coordinator publishes through it) and fed to the coordinator.
        let link = try MQTTLink(options: options, logger: logger)
        let events = RouteEvents()
        let rollouts = RolloutCoordinator(storage: store, publisher: link, clock: clock, events: events, logger: logger)
        let metrics = CentralMetrics()
        let central = CentralLink(link: link, storage: store, rollouts: rollouts, clock: clock, events: events,
                                  metrics: metrics, logger: logger)
        try await rollouts.resume()
        var settings = CentralSettings(host: String(parts[0]), port: port, signingKey: key, clock: clock)
        settings.webRoot = webRoot ?? CentralSettings.bundledWebRoot
        settings.trafficDirectory = trafficDirectory
            ?? (FileManager.default.fileExists(atPath: "Profiles/traffic") ? "Profiles/traffic" : nil)
        let app = buildApplication(settings, parts: CentralParts(storage: store, rollouts: rollouts, publisher: link, events: events, metrics: metrics),
                                   logger: logger)
        // The key's id, never the key.
        logger.info("serving", metadata: ["listen": "\(listen)", "broker": "\(broker)",
                                          "db": "\(storage.db.hasPrefix("sqlite:") ? storage.db : "postgres")",
                                          "signingKeyID": "\(SigningKeys.keyID(key.publicKey))"])
        let group = ServiceGroup(configuration: .init(services: [app, central], gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        try await group.run()
        if let pg = store as? PostgresStorage { await pg.close() }
    }
}

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "Manage users.",
                                                    subcommands: [AddUser.self])
}

struct AddUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a user. The password is read from standard input (one line), never from the command line.")

    @OptionGroup var storage: StorageOptions
    @Argument(help: "the user's name") var name: String
    @Option(help: "viewer, engineer or admin") var role: String = "viewer"

    func run() async throws {
        guard let role = Role(rawValue: role) else { throw ValidationError("--role must be viewer, engineer or admin") }
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw ValidationError("a user name is 1 to 64 letters, digits, '-', '_' or '.'")
        }
        guard let password = readLine(strippingNewline: true), password.count >= 10 else {
            throw ValidationError("give a password of at least 10 characters on standard input")
        }
        let store = try await storage.open()
        try await store.addUser(UserRecord(name: name, passwordHash: Bcrypt.hash(password, cost: 12), role: role))
        try await store.appendAudit(AuditEntry(at: .init(secondsSinceEpoch: Date().timeIntervalSince1970), actor: "cli",
                                               action: "user.add", subject: "user \(name)", detail: role.rawValue))
        if let pg = store as? PostgresStorage { await pg.close() }
        print("user \(name) added as \(role.rawValue)")
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "API tokens for machines.",
                                                    subcommands: [AddToken.self])
}

struct AddToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Make an API token; it is printed once and only its hash is kept.")

    @OptionGroup var storage: StorageOptions
    @Argument(help: "the token's name, e.g. prometheus") var name: String
    @Option(help: "viewer, engineer or admin") var role: String = "viewer"

    func run() async throws {
        guard let role = Role(rawValue: role) else { throw ValidationError("--role must be viewer, engineer or admin") }
        let store = try await storage.open()
        let token = APIToken.make()
        try await store.addToken(APITokenRecord(tokenHash: APIToken.hash(token), name: name, role: role, createdBy: "cli",
                                                createdAt: .init(secondsSinceEpoch: Date().timeIntervalSince1970)))
        try await store.appendAudit(AuditEntry(at: .init(secondsSinceEpoch: Date().timeIntervalSince1970), actor: "cli",
                                               action: "token.add", subject: "token \(name)", detail: role.rawValue))
        if let pg = store as? PostgresStorage { await pg.close() }
        print(token)
    }
}

struct ACLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acl", abstract: "Print the mosquitto ACL file for the routes stored (see docs/central.md).")

    @OptionGroup var storage: StorageOptions

    func run() async throws {
        let store = try await storage.open()
        print(BrokerACL.render(routes: try await store.routes()), terminator: "")
        if let pg = store as? PostgresStorage { await pg.close() }
    }
}
