import CentralCore
import CentralStore
import Crypto
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import LightCore
import Logging

/// How the control plane is set up: where it listens, what it stores in, what it signs with.
public struct CentralSettings: Sendable {
    public var host: String
    public var port: Int
    public var signingKey: Curve25519.Signing.PrivateKey
    public var clock: @Sendable () -> Instant
    /// The web UI's files; nil serves the API only.
    public var webRoot: String?
    /// The simulator's traffic models (`Profiles/traffic`) for previews; nil: previews without simulation.
    public var trafficDirectory: String?
    /// HTTPS: the server's certificate chain and key (PEM files); nil serves plain HTTP.
    public var https: HTTPSFiles?

    /// The PEM files of an HTTPS server.
    public struct HTTPSFiles: Sendable {
        public var certificateChain: String
        public var privateKey: String

        public init(certificateChain: String, privateKey: String) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
        }

        /// The server's TLS configuration (TLS 1.2 at least); throws when a file does not load.
        public func configuration() throws -> TLSConfiguration {
            let chain = try NIOSSLCertificate.fromPEMFile(certificateChain).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: privateKey, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            tls.minimumTLSVersion = .tlsv12
            return tls
        }
    }

    /// The UI as built into this binary's resources.
    public static var bundledWebRoot: String? {
        Bundle.module.resourceURL?.appendingPathComponent("Web").path
    }

    public init(host: String = "127.0.0.1", port: Int = 8080, signingKey: Curve25519.Signing.PrivateKey,
                clock: @escaping @Sendable () -> Instant = { Instant(secondsSinceEpoch: Date().timeIntervalSince1970) }) {
        self.host = host
        self.port = port
        self.signingKey = signingKey
        self.clock = clock
    }
}

/// The running parts the HTTP layer works with.
public struct CentralParts: Sendable {
    public var storage: any CentralStorage
    public var rollouts: RolloutCoordinator
    /// Where messages to the poles go (the MQTT link).
    public var publisher: any RolloutCoordinator.Publisher
    public var events: RouteEvents
    public var metrics: CentralMetrics

    public init(storage: any CentralStorage, rollouts: RolloutCoordinator, publisher: any RolloutCoordinator.Publisher,
                events: RouteEvents, metrics: CentralMetrics) {
        self.metrics = metrics
        self.storage = storage
        self.rollouts = rollouts
        self.publisher = publisher
        self.events = events
    }
}

/// The control plane's HTTP application: the one `main` runs and the tests drive. Throws when
/// the HTTPS certificate or key cannot be read.
public func buildApplication(_ settings: CentralSettings, parts: CentralParts,
                             logger: Logger = Logger(label: "lichtweg-central")) throws -> some ApplicationProtocol {
    var server = HTTPServerBuilder.http1()
    if let https = settings.https {
        server = try .tls(.http1(), tlsConfiguration: https.configuration())
    }
    return Application(router: buildRouter(settings, parts: parts), server: server,
                       configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "lichtweg-central"),
                       logger: logger)
}

/// The routes, also for in-process tests.
public func buildRouter(_ settings: CentralSettings, parts: CentralParts) -> Router<CentralContext> {
    let storage = parts.storage
    let router = Router(context: CentralContext.self)
    // JSONErrors turns every failure into a JSON refusal; SecurityHeaders, around it, puts its
    // headers on every response, refusals included.
    router.add(middleware: SecurityHeaders(https: settings.https != nil))
    router.add(middleware: JSONErrors())
    if let webRoot = settings.webRoot {
        // The UI's static files: public (the login page is one of them), and before the session
        // lookup, which they do not need.
        router.add(middleware: FileMiddleware(webRoot, searchForIndexHtml: true))
    }
    router.add(middleware: SessionAuthenticator(storage: storage, clock: settings.clock))
    let api = router.group("api")
    let registry = ProfileRegistry(storage: storage, signingKey: settings.signingKey, clock: settings.clock)
    AuthRoutes(storage: storage, clock: settings.clock, secureCookie: settings.https != nil).add(to: api)
    ProfileRoutes(storage: storage, registry: registry).add(to: api)
    AuditRoutes(storage: storage).add(to: api)
    RolloutRoutes(storage: storage, registry: registry, rollouts: parts.rollouts).add(to: api)
    AlarmRoutes(storage: storage, registry: registry, clock: settings.clock).add(to: api)
    PreviewRoutes(storage: storage, registry: registry, trafficDirectory: settings.trafficDirectory).add(to: api)
    EventRoutes(storage: storage, events: parts.events, rollouts: parts.rollouts).add(to: api)
    OverrideRoutes(storage: storage, publisher: parts.publisher, clock: settings.clock).add(to: api)
    BrokerRoutes(storage: storage).add(to: api)
    ExportRoutes(storage: storage, registry: registry).add(to: api)
    TokenRoutes(storage: storage, clock: settings.clock).add(to: api)
    UserRoutes(storage: storage, clock: settings.clock).add(to: api)
    api.get("health") { _, _ in "ok" }
    // Counts only, no identifiers: open to the monitoring system (Prometheus cannot log in).
    router.get("metrics") { _, _ -> Response in
        let text = try await parts.metrics.scrape(storage: storage, rollouts: parts.rollouts)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
    return router
}
