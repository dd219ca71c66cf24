import ArgumentParser
import CentralCore
import CentralService
import CentralStore
import Crypto
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

    init() {}

    init(db: String) { self.db = db }

    func open() async throws -> any CentralStorage {
        if db.hasPrefix("sqlite:") { return try SQLiteStorage(path: String(db.dropFirst("sqlite:".count))) }
        if db.hasPrefix("postgres://") || db.hasPrefix("postgresql://") { return try await PostgresStorage(url: db) }
        throw ValidationError("--db must be sqlite:PATH or postgres://…, got '\(db)'")
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the control plane.")

    @Option(help: "a YAML file with these settings (see docs/central.md); options given here win")
    var config: String?
    @Option(name: .long, help: "sqlite:PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
    var db: String?
    @Option(help: "HOST:PORT to serve HTTP on (default 127.0.0.1:8080)") var listen: String?
    @Option(name: .customLong("https-cert"), help: "serve HTTPS with this certificate chain (PEM); needs --https-key")
    var httpsCert: String?
    @Option(name: .customLong("https-key"), help: "the private key (PEM) of --https-cert")
    var httpsKey: String?
    @Option(help: "the MQTT broker, mqtt://HOST[:PORT] or mqtts://HOST[:PORT] (default mqtt://127.0.0.1:1883)")
    var broker: String?
    @Option(name: .customLong("broker-ca"), help: "CA certificate of the broker (mqtts://)") var brokerCA: String?
    @Option(name: .customLong("broker-cert"), help: "client certificate for the broker") var brokerCert: String?
    @Option(name: .customLong("broker-key"), help: "client key for the broker") var brokerKey: String?
    @Option(name: .customLong("broker-credentials"), help: "file with one line username:password for the broker")
    var brokerCredentials: String?
    @Option(name: .customLong("signing-key"), help: "the Ed25519 profile-signing key (lichtweg key generate)")
    var signingKey: String?
    @Option(name: .customLong("client-id"), help: "MQTT client id of this instance (unique per instance)")
    var clientID: String?
    @Option(name: .customLong("web-root"), help: "the web UI's files (default: the ones built into this binary)")
    var webRoot: String?
    @Option(name: .customLong("traffic-dir"), help: "the simulator's traffic models for previews (default: Profiles/traffic if there)")
    var trafficDirectory: String?
    @Flag(name: .customLong("shared-subscriptions"),
          help: "split telemetry between instances ($share; faults always go to every instance); see docs/central.md")
    var sharedSubscriptions = false
    @Option(name: .customLong("session-expiry"),
            help: "seconds the broker keeps this instance's session (and queues its messages) while it is gone (default 604800; 120 with --shared-subscriptions)")
    var sessionExpirySeconds: UInt32?

    func run() async throws {
        do {
            try await serve()
        } catch let error as ValidationError {
            FileHandle.standardError.write(Data("lichtweg-central: \(error.message)\n".utf8))
            throw ExitCode(2)
        }
    }

    private func serve() async throws {
        let file = try config.map(CentralConfigFile.load)
        let listen = self.listen ?? file?.listen ?? "127.0.0.1:8080"
        let broker = self.broker ?? file?.broker ?? "mqtt://127.0.0.1:1883"
        guard let signingKey = self.signingKey ?? file?.signingKey else {
            throw ValidationError("give the profile-signing key: --signing-key PATH or signingKey in the config file")
        }
        let parts = listen.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]), (0...65535).contains(port) else {
            throw ValidationError("listen must be HOST:PORT, got '\(listen)'")
        }
        let keyText: String
        do {
            keyText = try String(contentsOfFile: signingKey, encoding: .utf8)
        } catch {
            throw ValidationError("cannot read the signing key \(signingKey): \(error.localizedDescription)")
        }
        let key: Curve25519.Signing.PrivateKey
        do {
            key = try SigningKeys.privateKey(fromFileText: keyText)
        } catch {
            throw ValidationError("\(signingKey): \(error)")
        }
        guard let brokerURL = URLComponents(string: broker), brokerURL.scheme == "mqtt" || brokerURL.scheme == "mqtts",
              let host = brokerURL.host
        else { throw ValidationError("broker must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT], got '\(broker)'") }
        let tls = brokerURL.scheme == "mqtts"
        var options = MQTTOptions(host: host, port: brokerURL.port ?? (tls ? 8883 : 1883),
                                  clientID: clientID ?? file?.clientID ?? "lichtweg-central")
        options.keepAliveSeconds = 30
        let shared = sharedSubscriptions || file?.sharedSubscriptions == true
        // A shared group keeps feeding a dead member's session until it expires: short, so that
        // the others take its share soon; the poles send again what was queued for it (receipts).
        options.sessionExpirySeconds = sessionExpirySeconds ?? file?.sessionExpirySeconds ?? (shared ? 120 : 7 * 86_400)
        options.caFile = brokerCA ?? file?.brokerCA
        options.certFile = brokerCert ?? file?.brokerCert
        options.keyFile = brokerKey ?? file?.brokerKey
        if tls && options.caFile == nil { throw ValidationError("mqtts:// needs the broker's CA: --broker-ca or brokerCA") }
        if !tls && options.caFile != nil { throw ValidationError("a broker CA is given, but the broker URL is mqtt:// (use mqtts://)") }
        for path in [options.caFile, options.certFile, options.keyFile].compactMap({ $0 })
            where !FileManager.default.isReadableFile(atPath: path) {
            throw ValidationError("cannot read \(path)")
        }
        if let credentials = brokerCredentials ?? file?.brokerCredentials {
            guard let text = try? String(contentsOfFile: credentials, encoding: .utf8),
                  let line = text.split(separator: "\n").first, let colon = line.firstIndex(of: ":")
            else { throw ValidationError("\(credentials): expected one line username:password") }
            options.username = String(line[..<colon])
            options.password = String(line[line.index(after: colon)...])
        }
        var https: CentralSettings.HTTPSFiles?
        switch (httpsCert ?? file?.httpsCert, httpsKey ?? file?.httpsKey) {
        case (nil, nil): break
        case let (cert?, key?):
            for path in [cert, key] where !FileManager.default.isReadableFile(atPath: path) {
                throw ValidationError("cannot read \(path)")
            }
            let files = CentralSettings.HTTPSFiles(certificateChain: cert, privateKey: key)
            do {
                _ = try files.configuration()
            } catch {
                throw ValidationError("the HTTPS certificate \(cert) or key \(key) does not load: \(error)")
            }
            https = files
        default: throw ValidationError("HTTPS needs both a certificate and its key: --https-cert and --https-key (httpsCert, httpsKey)")
        }
        var logger = Logger(label: "lichtweg-central")
        logger.logLevel = .info
        let storage = StorageOptions(db: db ?? file?.db ?? "sqlite:lichtweg-central.sqlite")
        let store = try await storage.open()
        let clock: @Sendable () -> Instant = { Instant(secondsSinceEpoch: Date().timeIntervalSince1970) }
        // The link is created first (the coordinator publishes through it) and fed to the coordinator.
        let link = try MQTTLink(options: options, logger: logger)
        let events = RouteEvents()
        // The MQTT client id is this instance's name in the rollouts' leases too: unique per
        // instance, and the same after a restart, which so takes its own rollouts up at once.
        let rollouts = RolloutCoordinator(storage: store, publisher: link, clock: clock, events: events,
                                          instance: options.clientID, logger: logger)
        let metrics = CentralMetrics()
        let central = CentralLink(link: link, storage: store, rollouts: rollouts, clock: clock, events: events,
                                  metrics: metrics, sharedSubscriptions: shared,
                                  logger: logger)
        try await rollouts.resume()
        var settings = CentralSettings(host: String(parts[0]), port: port, signingKey: key, clock: clock)
        settings.webRoot = webRoot ?? file?.webRoot ?? CentralSettings.bundledWebRoot
        settings.trafficDirectory = trafficDirectory ?? file?.trafficDir
            ?? (FileManager.default.fileExists(atPath: "Profiles/traffic") ? "Profiles/traffic" : nil)
        settings.https = https
        let app = try buildApplication(settings, parts: CentralParts(storage: store, rollouts: rollouts, publisher: link,
                                                                     events: events, metrics: metrics),
                                       logger: logger)
        // The key's id, never the key.
        logger.info("serving", metadata: ["listen": "\(https == nil ? "http" : "https")://\(listen)", "broker": "\(broker)",
                                          "db": "\(storage.db.hasPrefix("sqlite:") ? storage.db : "postgres")",
                                          "signingKeyID": "\(SigningKeys.keyID(key.publicKey))"])
        let group = ServiceGroup(configuration: .init(services: [app, central, rollouts], gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        try await group.run()
        events.finishAll()
        await store.close()
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
        guard UserRecord.isValidName(name) else { throw ValidationError(UserRecord.nameRule) }
        guard let password = readLine(strippingNewline: true), password.count >= UserRecord.minimumPasswordLength else {
            throw ValidationError("give a password of at least \(UserRecord.minimumPasswordLength) characters on standard input")
        }
        let store = try await storage.open()
        try await store.addUser(UserRecord(name: name, passwordHash: Bcrypt.hash(password, cost: 12), role: role))
        try await store.appendAudit(AuditEntry(at: .init(secondsSinceEpoch: Date().timeIntervalSince1970), actor: "cli",
                                               action: "user.add", subject: "user \(name)", detail: role.rawValue))
        await store.close()
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
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw ValidationError("a token name is 1 to 64 letters, digits, '-', '_' or '.' (ASCII: it is part of a URL)")
        }
        let store = try await storage.open()
        let token = APIToken.make()
        try await store.addToken(APITokenRecord(tokenHash: APIToken.hash(token), name: name, role: role, createdBy: "cli",
                                                createdAt: .init(secondsSinceEpoch: Date().timeIntervalSince1970)))
        try await store.appendAudit(AuditEntry(at: .init(secondsSinceEpoch: Date().timeIntervalSince1970), actor: "cli",
                                               action: "token.add", subject: "token \(name)", detail: role.rawValue))
        await store.close()
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
        await store.close()
    }
}
