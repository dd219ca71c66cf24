import CentralCore
import Foundation
import LightCore
import Logging
import NIOSSL
import PostgresNIO

/// PostgreSQL through postgres-nio, for several control-plane instances on one database.
///
/// The connection pool runs in a task this object owns; `close()` ends it. Migrations run under
/// an advisory lock, so that instances starting together do not race.
public final class PostgresStorage: CentralStorage {
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger

    /// Connects to `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…&sslrootcert=PATH]`
    /// and runs missing migrations. `sslmode` as libpq has it: `disable` (the default), `prefer`
    /// and `require` (encrypted, the server not verified), `verify-ca` (its certificate signed by
    /// `sslrootcert`, or by the system's roots), `verify-full` (and issued for HOST).
    public init(url: String, logger: Logger = Logger(label: "lichtweg.postgres")) async throws {
        guard let parts = URLComponents(string: url), parts.scheme == "postgres" || parts.scheme == "postgresql",
              let host = parts.host, let user = parts.user, !parts.path.dropFirst().isEmpty
        else { throw StorageError.badConfiguration("expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, got \(Self.redacted(url))") }
        let (mode, tlsConfiguration) = try Self.tls(parts.queryItems ?? [])
        let database = String(parts.path.dropFirst())
        // One connection first, to fail at once with the reason (a refused certificate, a wrong
        // password): the pool would keep trying and say nothing for a minute.
        try await Self.probe(host: host, port: parts.port ?? 5432, user: user, password: parts.password, database: database,
                             mode: mode, tls: tlsConfiguration, logger: logger)
        let clientTLS: PostgresClient.Configuration.TLS
        switch mode {
        case .disable: clientTLS = .disable
        case .prefer: clientTLS = try .prefer(tlsConfiguration)
        case .require: clientTLS = try .require(tlsConfiguration)
        }
        let config = PostgresClient.Configuration(host: host, port: parts.port ?? 5432, username: user,
                                                  password: parts.password, database: database, tls: clientTLS)
        client = PostgresClient(configuration: config)
        self.logger = logger
        runner = Task { [client] in await client.run() }
        do {
            try await migrate()
        } catch {
            runner.cancel()
            throw error
        }
    }

    enum TLSMode { case disable, prefer, require }

    private static func probe(host: String, port: Int, user: String, password: String?, database: String,
                              mode: TLSMode, tls: TLSConfiguration, logger: Logger) async throws {
        let connectionTLS: PostgresConnection.Configuration.TLS
        do {
            switch mode {
            case .disable: connectionTLS = .disable
            case .prefer: connectionTLS = .prefer(try NIOSSLContext(configuration: tls))
            case .require: connectionTLS = .require(try NIOSSLContext(configuration: tls))
            }
        } catch {
            throw StorageError.badConfiguration("the PostgreSQL TLS settings do not load: \(error)")
        }
        let configuration = PostgresConnection.Configuration(host: host, port: port, username: user, password: password,
                                                             database: database, tls: connectionTLS)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        } catch {
            throw StorageError.badConfiguration("cannot connect to PostgreSQL at \(host):\(port): \(String(reflecting: error))")
        }
        try? await connection.close()
    }

    /// The TLS setting of a URL's query (`sslmode`, `sslrootcert`).
    static func tls(_ items: [URLQueryItem]) throws -> (TLSMode, TLSConfiguration) {
        var mode = "disable"
        var rootCertificate: String?
        for item in items {
            switch item.name {
            case "sslmode": mode = item.value ?? ""
            case "sslrootcert": rootCertificate = item.value
            default: throw StorageError.badConfiguration("unknown setting '\(item.name)' in the PostgreSQL URL (known: sslmode, sslrootcert)")
            }
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let rootCertificate {
            guard FileManager.default.isReadableFile(atPath: rootCertificate) else {
                throw StorageError.badConfiguration("sslrootcert: cannot read \(rootCertificate)")
            }
            tls.trustRoots = .file(rootCertificate)
        }
        switch mode {
        case "disable":
            guard rootCertificate == nil else { throw StorageError.badConfiguration("sslrootcert is given, but sslmode is disable") }
            return (.disable, tls)
        case "prefer":
            tls.certificateVerification = .none
            return (.prefer, tls)
        case "require":
            tls.certificateVerification = .none
            return (.require, tls)
        case "verify-ca":
            tls.certificateVerification = .noHostnameVerification
            return (.require, tls)
        case "verify-full":
            tls.certificateVerification = .fullVerification
            return (.require, tls)
        default:
            throw StorageError.badConfiguration("sslmode must be disable, prefer, require, verify-ca or verify-full, got '\(mode)'")
        }
    }

    /// The URL without its password, for messages.
    static func redacted(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.password != nil else { return url }
        parts.password = "…"
        return parts.string ?? "postgres://…"
    }

    /// Whether this connection to the server is encrypted (`pg_stat_ssl`), and with which protocol.
    public func connectionTLS() async throws -> (encrypted: Bool, version: String?) {
        let rows = try await client.query("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: logger)
        for try await (ssl, version) in rows.decode((Bool, String?).self) { return (ssl, version) }
        return (false, nil)
    }

    /// Ends the connection pool.
    public func close() async {
        runner.cancel()
        _ = await runner.value
    }

    private func migrate() async throws {
        try await transaction { db in
            // One instance at a time; the others wait here and then find the work done.
            try await db.query("SELECT pg_advisory_xact_lock(7474746)", logger: logger)
            try await db.query("CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)",
                               logger: logger)
            var applied: Set<String> = []
            for try await id in try await db.query("SELECT id FROM schema_migrations", logger: logger).decode(String.self) {
                applied.insert(id)
            }
            for migration in Migrations.all(.postgres) where !applied.contains(migration.id) {
                for statement in migration.statements {
                    try await db.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                let now = Date().timeIntervalSince1970
                try await db.query("INSERT INTO schema_migrations (id, applied_at) VALUES (\(migration.id), \(now))", logger: logger)
            }
        }
    }

    /// Runs `body` in a transaction; its own errors come out as they were thrown, not wrapped.
    private func transaction(_ body: (PostgresConnection) async throws -> Void) async throws {
        do {
            try await client.withTransaction(logger: logger) { db in try await body(db) }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error
        }
    }

    /// The migrations that have run, in order.
    public func appliedMigrations() async throws -> [String] {
        var ids: [String] = []
        for try await id in try await client.query("SELECT id FROM schema_migrations ORDER BY id", logger: logger).decode(String.self) {
            ids.append(id)
        }
        return ids
    }

    // MARK: - Profile versions

    public func addProfileVersion(_ r: ProfileVersionRecord, route: RouteRecord) async throws {
        let poles = JSONList.encode(route.poles)
        try await transaction { db in
            try await db.query("""
                INSERT INTO routes (id, name, poles) VALUES (\(route.id), \(route.name), \(poles))
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, poles = excluded.poles
                """, logger: logger)
            let inserted = try await db.query("""
                INSERT INTO profile_versions (route, version, document, signed_bundle, author, created_at, comment)
                VALUES (\(r.route), \(Int64(r.version)), \(r.document), \(r.signedBundle), \(r.author),
                        \(r.createdAt.secondsSinceEpoch), \(r.comment))
                ON CONFLICT (route, version) DO NOTHING RETURNING version
                """, logger: logger).collect()
            if inserted.isEmpty { throw StorageError.conflict("route \(r.route) version \(r.version)") }
        }
    }

    public func profileVersion(route: String, version: Int) async throws -> ProfileVersionRecord? {
        try await profileVersions("""
            SELECT route, version, document, signed_bundle, author, created_at, comment FROM profile_versions
            WHERE route = \(route) AND version = \(Int64(version))
            """).first
    }

    public func profileVersions(route: String) async throws -> [ProfileVersionRecord] {
        try await profileVersions("""
            SELECT route, version, document, signed_bundle, author, created_at, comment FROM profile_versions
            WHERE route = \(route) ORDER BY version DESC
            """)
    }

    private func profileVersions(_ query: PostgresQuery) async throws -> [ProfileVersionRecord] {
        var records: [ProfileVersionRecord] = []
        let rows = try await client.query(query, logger: logger)
        for try await (route, version, document, bundle, author, createdAt, comment)
            in rows.decode((String, Int64, String, String, String, Double, String).self) {
            records.append(ProfileVersionRecord(route: route, version: Int(version), document: document, signedBundle: bundle,
                                                author: author, createdAt: Instant(secondsSinceEpoch: createdAt), comment: comment))
        }
        return records
    }

    public func routes() async throws -> [RouteRecord] {
        try await routes("SELECT id, name, poles FROM routes ORDER BY id")
    }

    public func route(_ id: String) async throws -> RouteRecord? {
        try await routes("SELECT id, name, poles FROM routes WHERE id = \(id)").first
    }

    private func routes(_ query: PostgresQuery) async throws -> [RouteRecord] {
        var records: [RouteRecord] = []
        for try await (id, name, poles) in try await client.query(query, logger: logger).decode((String, String, String).self) {
            records.append(RouteRecord(id: id, name: name, poles: JSONList.decode(poles)))
        }
        return records
    }

    // MARK: - Audit log

    public func appendAudit(_ e: AuditEntry) async throws {
        try await client.query("""
            INSERT INTO audit_log (at, actor, action, subject, detail)
            VALUES (\(e.at.secondsSinceEpoch), \(e.actor), \(e.action), \(e.subject), \(e.detail))
            """, logger: logger)
    }

    public func audit(limit: Int) async throws -> [AuditEntry] {
        var entries: [AuditEntry] = []
        let rows = try await client.query(
            "SELECT id, at, actor, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT \(Int64(limit))", logger: logger)
        for try await (id, at, actor, action, subject, detail) in rows.decode((Int64, Double, String, String, String, String).self) {
            entries.append(AuditEntry(id: id, at: Instant(secondsSinceEpoch: at), actor: actor, action: action,
                                      subject: subject, detail: detail))
        }
        return entries
    }

    // MARK: - Users

    public func addUser(_ user: UserRecord) async throws {
        let inserted = try await client.query("""
            INSERT INTO users (name, password_hash, role) VALUES (\(user.name), \(user.passwordHash), \(user.role.rawValue))
            ON CONFLICT (name) DO NOTHING RETURNING name
            """, logger: logger).collect()
        if inserted.isEmpty { throw StorageError.conflict("user \(user.name)") }
    }

    public func user(named name: String) async throws -> UserRecord? {
        let rows = try await client.query("SELECT name, password_hash, role FROM users WHERE name = \(name)", logger: logger)
        for try await (name, hash, role) in rows.decode((String, String, String).self) {
            return Role(rawValue: role).map { UserRecord(name: name, passwordHash: hash, role: $0) }
        }
        return nil
    }

    public func users() async throws -> [UserRecord] {
        var users: [UserRecord] = []
        let rows = try await client.query("SELECT name, password_hash, role FROM users ORDER BY name", logger: logger)
        for try await (name, hash, role) in rows.decode((String, String, String).self) {
            if let role = Role(rawValue: role) { users.append(UserRecord(name: name, passwordHash: hash, role: role)) }
        }
        return users
    }

    public func updateUser(named name: String, role: Role?, passwordHash: String?, keepSession: String?) async throws -> Bool {
        var found = false
        try await transaction { db in
            found = try await !db.query("SELECT name FROM users WHERE name = \(name) FOR UPDATE", logger: logger).collect().isEmpty
            guard found else { return }
            if let role { try await db.query("UPDATE users SET role = \(role.rawValue) WHERE name = \(name)", logger: logger) }
            if let passwordHash { try await db.query("UPDATE users SET password_hash = \(passwordHash) WHERE name = \(name)", logger: logger) }
            try await db.query("DELETE FROM sessions WHERE user_name = \(name) AND token_hash IS DISTINCT FROM \(keepSession)", logger: logger)
        }
        return found
    }

    public func deleteUser(named name: String) async throws -> Bool {
        var found = false
        try await transaction { db in
            try await db.query("DELETE FROM sessions WHERE user_name = \(name)", logger: logger)
            found = try await !db.query("DELETE FROM users WHERE name = \(name) RETURNING name", logger: logger).collect().isEmpty
        }
        return found
    }

    // MARK: - Rollouts

    public func createRollout(_ r: RolloutRecord) async throws -> Int64 {
        let body = try RolloutJSON.encode(r.rollout)
        // The unique index on the route's unfinished rollout decides between instances.
        let rows = try await client.query("""
            INSERT INTO rollouts (route, version, body, finished, created_by, created_at, updated_at, owner, lease_until)
            VALUES (\(r.rollout.plan.route), \(Int64(r.rollout.plan.version)), \(body), \(r.rollout.state.isFinished),
                    \(r.createdBy), \(r.createdAt.secondsSinceEpoch), \(r.updatedAt.secondsSinceEpoch), \(r.owner),
                    \(r.leaseUntil?.secondsSinceEpoch))
            ON CONFLICT DO NOTHING RETURNING id
            """, logger: logger)
        for try await id in rows.decode(Int64.self) { return id }
        throw StorageError.conflict("an unfinished rollout of route \(r.rollout.plan.route)")
    }

    public func claimRollout(id: Int64, owner: String, until: Instant, now: Instant) async throws -> Bool {
        try await !client.query("""
            UPDATE rollouts SET owner = \(owner), lease_until = \(until.secondsSinceEpoch)
            WHERE id = \(id) AND NOT finished
              AND (owner IS NULL OR owner = \(owner) OR lease_until IS NULL OR lease_until < \(now.secondsSinceEpoch))
            RETURNING id
            """, logger: logger).collect().isEmpty
    }

    public func renewRolloutLeases(owner: String, ids: [Int64], until: Instant) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        let rows = try await client.query("""
            UPDATE rollouts SET lease_until = \(until.secondsSinceEpoch) WHERE id = ANY(\(ids)) AND owner = \(owner) RETURNING id
            """, logger: logger)
        var held: Set<Int64> = []
        for try await id in rows.decode(Int64.self) { held.insert(id) }
        return held
    }

    public func requestRolloutHalt(route: String, request: String) async throws -> Bool {
        try await !client.query("""
            UPDATE rollouts SET halt_request = \(request) WHERE route = \(route) AND NOT finished RETURNING id
            """, logger: logger).collect().isEmpty
    }

    public func updateRollout(id: Int64, _ rollout: Rollout, at: Instant) async throws {
        let body = try RolloutJSON.encode(rollout)
        try await client.query("""
            UPDATE rollouts SET body = \(body), finished = \(rollout.state.isFinished), updated_at = \(at.secondsSinceEpoch)
            WHERE id = \(id)
            """, logger: logger)
    }

    public func latestRollout(route: String) async throws -> RolloutRecord? {
        try await rollouts("""
            SELECT id, body, created_by, created_at, updated_at, owner, lease_until, halt_request FROM rollouts
            WHERE route = \(route) ORDER BY id DESC LIMIT 1
            """).first
    }

    public func unfinishedRollouts() async throws -> [RolloutRecord] {
        try await rollouts("""
            SELECT id, body, created_by, created_at, updated_at, owner, lease_until, halt_request FROM rollouts
            WHERE NOT finished ORDER BY id
            """)
    }

    private func rollouts(_ query: PostgresQuery) async throws -> [RolloutRecord] {
        var records: [RolloutRecord] = []
        let rows = try await client.query(query, logger: logger)
        for try await (id, body, by, created, updated, owner, lease, halt)
            in rows.decode((Int64, String, String, Double, Double, String?, Double?, String?).self) {
            records.append(RolloutRecord(id: id, rollout: try RolloutJSON.decode(body), createdBy: by,
                                         createdAt: Instant(secondsSinceEpoch: created), updatedAt: Instant(secondsSinceEpoch: updated),
                                         owner: owner, leaseUntil: lease.map(Instant.init(secondsSinceEpoch:)), haltRequest: halt))
        }
        return records
    }

    // MARK: - Telemetry and alarms

    public func addTelemetry(_ reports: [TelemetryReport]) async throws -> Int {
        guard !reports.isEmpty else { return 0 }
        var added = 0
        try await transaction { db in
            // One statement for the reports and one for their shares, as arrays: one round trip each
            // instead of three per report.
            let new = try await db.query("""
                INSERT INTO telemetry_reports (pole, from_at, to_at, energy_wh, detections, lit_seconds, level_percent_seconds)
                SELECT * FROM UNNEST(\(reports.map(\.pole))::TEXT[], \(reports.map(\.from.secondsSinceEpoch))::FLOAT8[],
                    \(reports.map(\.to.secondsSinceEpoch))::FLOAT8[], \(reports.map(\.energyWh))::FLOAT8[],
                    \(reports.map { Int64($0.detections) })::INT8[], \(reports.map { $0.litSeconds ?? 0 })::FLOAT8[],
                    \(reports.map { $0.levelPercentSeconds ?? 0 })::FLOAT8[])
                ON CONFLICT (pole, from_at) DO NOTHING RETURNING pole, from_at
                """, logger: logger)
            var stored: Set<Key> = []
            for try await (pole, from) in new.decode((String, Double).self) { stored.insert(Key(pole: pole, value: from)) }
            // A statement may not update one row twice: the batch's shares are summed per quarter hour first.
            var shares: [Key: (route: String, share: TelemetryBuckets.Share)] = [:]
            for r in reports where stored.remove(Key(pole: r.pole, value: r.from.secondsSinceEpoch)) != nil {
                added += 1
                for s in TelemetryBuckets.split(r) {
                    let key = Key(pole: r.pole, value: s.bucket.secondsSinceEpoch)
                    if var known = shares[key] {
                        known.share.energyWh += s.energyWh
                        known.share.detections += s.detections
                        known.share.litSeconds += s.litSeconds
                        known.share.levelPercentSeconds += s.levelPercentSeconds
                        shares[key] = known
                    } else {
                        shares[key] = (r.route, s)
                    }
                }
            }
            guard !shares.isEmpty else { return }
            let rows = Array(shares)
            try await db.query("""
                INSERT INTO telemetry_15min (pole, route, bucket, energy_wh, detections, lit_seconds, level_percent_seconds)
                SELECT * FROM UNNEST(\(rows.map(\.key.pole))::TEXT[], \(rows.map(\.value.route))::TEXT[],
                    \(rows.map(\.key.value))::FLOAT8[], \(rows.map(\.value.share.energyWh))::FLOAT8[],
                    \(rows.map { Int64($0.value.share.detections) })::INT8[], \(rows.map(\.value.share.litSeconds))::FLOAT8[],
                    \(rows.map(\.value.share.levelPercentSeconds))::FLOAT8[])
                ON CONFLICT (pole, bucket) DO UPDATE SET
                    energy_wh = telemetry_15min.energy_wh + excluded.energy_wh,
                    detections = telemetry_15min.detections + excluded.detections,
                    lit_seconds = telemetry_15min.lit_seconds + excluded.lit_seconds,
                    level_percent_seconds = telemetry_15min.level_percent_seconds + excluded.level_percent_seconds
                """, logger: logger)
        }
        return added
    }

    /// A pole and an instant (a report's start, a quarter hour's).
    private struct Key: Hashable {
        var pole: String
        var value: Double
    }

    public func energy(route: String, from: Instant, to: Instant) async throws -> [EnergyBucket] {
        try await energy("""
            SELECT bucket, SUM(energy_wh), SUM(detections)::BIGINT, SUM(lit_seconds), SUM(level_percent_seconds) FROM telemetry_15min
            WHERE route = \(route) AND bucket >= \(from.secondsSinceEpoch) AND bucket < \(to.secondsSinceEpoch)
            GROUP BY bucket ORDER BY bucket
            """)
    }

    public func energy(pole: String, from: Instant, to: Instant) async throws -> [EnergyBucket] {
        try await energy("""
            SELECT bucket, SUM(energy_wh), SUM(detections)::BIGINT, SUM(lit_seconds), SUM(level_percent_seconds) FROM telemetry_15min
            WHERE pole = \(pole) AND bucket >= \(from.secondsSinceEpoch) AND bucket < \(to.secondsSinceEpoch)
            GROUP BY bucket ORDER BY bucket
            """)
    }

    private func energy(_ query: PostgresQuery) async throws -> [EnergyBucket] {
        var buckets: [EnergyBucket] = []
        let rows = try await client.query(query, logger: logger).decode((Double, Double, Int64, Double, Double).self)
        for try await (bucket, energy, detections, lit, level) in rows {
            buckets.append(EnergyBucket(bucket: Instant(secondsSinceEpoch: bucket), energyWh: energy, detections: Int(detections),
                                        litSeconds: lit, levelPercentSeconds: level))
        }
        return buckets
    }

    public func raiseAlarm(_ a: AlarmRecord) async throws -> Int64? {
        // One statement, so one transaction: a raise stored before (same pole, code, sensor and
        // instant) or an open alarm of the same pole, code and sensor is a conflict on a unique
        // index of migration 006. An instance inserting the same raise at the same time waits
        // for the other's commit and then inserts nothing.
        let rows = try await client.query("""
            INSERT INTO alarms (pole, route, code, sensor, detail, raised_at)
            VALUES (\(a.pole), \(a.route), \(a.code), \(a.sensor ?? ""), \(a.detail), \(a.raisedAt.secondsSinceEpoch))
            ON CONFLICT DO NOTHING RETURNING id
            """, logger: logger)
        var id: Int64?
        for try await new in rows.decode(Int64.self) { id = new }
        return id
    }

    public func clearAlarm(pole: String, code: String, sensor: String?, at: Instant) async throws -> Bool {
        // A clear stored before (an alarm of this pole, code and sensor cleared at this very
        // instant) clears nothing: the open alarm is then a later raise's. Two instances clearing
        // at once: the second waits for the first's row and then finds it cleared.
        let rows = try await client.query("""
            UPDATE alarms SET cleared_at = \(at.secondsSinceEpoch)
            WHERE pole = \(pole) AND code = \(code) AND sensor = \(sensor ?? "") AND cleared_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM alarms d WHERE d.pole = \(pole) AND d.code = \(code) AND d.sensor = \(sensor ?? "")
                            AND d.cleared_at = \(at.secondsSinceEpoch))
            RETURNING id
            """, logger: logger).collect()
        return !rows.isEmpty
    }

    public func acknowledgeAlarm(id: Int64, by user: String, at: Instant) async throws -> AlarmRecord? {
        try await client.query("""
            UPDATE alarms SET acknowledged_at = \(at.secondsSinceEpoch), acknowledged_by = \(user)
            WHERE id = \(id) AND acknowledged_at IS NULL
            """, logger: logger)
        return try await alarms("SELECT id, pole, route, code, sensor, detail, raised_at, acknowledged_at, acknowledged_by, cleared_at FROM alarms WHERE id = \(id)").first
    }

    public func alarms(route: String?, openOnly: Bool) async throws -> [AlarmRecord] {
        switch (route, openOnly) {
        case let (route?, true): try await alarms("SELECT id, pole, route, code, sensor, detail, raised_at, acknowledged_at, acknowledged_by, cleared_at FROM alarms WHERE route = \(route) AND cleared_at IS NULL ORDER BY id DESC")
        case let (route?, false): try await alarms("SELECT id, pole, route, code, sensor, detail, raised_at, acknowledged_at, acknowledged_by, cleared_at FROM alarms WHERE route = \(route) ORDER BY id DESC")
        case (nil, true): try await alarms("SELECT id, pole, route, code, sensor, detail, raised_at, acknowledged_at, acknowledged_by, cleared_at FROM alarms WHERE cleared_at IS NULL ORDER BY id DESC")
        case (nil, false): try await alarms("SELECT id, pole, route, code, sensor, detail, raised_at, acknowledged_at, acknowledged_by, cleared_at FROM alarms ORDER BY id DESC")
        }
    }

    private func alarms(_ query: PostgresQuery) async throws -> [AlarmRecord] {
        var records: [AlarmRecord] = []
        let rows = try await client.query(query, logger: logger)
        for try await (id, pole, route, code, sensor, detail, raised, acked, ackedBy, cleared)
            in rows.decode((Int64, String, String, String, String, String?, Double, Double?, String?, Double?).self) {
            records.append(AlarmRecord(id: id, pole: pole, route: route, code: code, sensor: sensor.isEmpty ? nil : sensor,
                                       detail: detail, raisedAt: Instant(secondsSinceEpoch: raised),
                                       acknowledgedAt: acked.map(Instant.init(secondsSinceEpoch:)), acknowledgedBy: ackedBy,
                                       clearedAt: cleared.map(Instant.init(secondsSinceEpoch:))))
        }
        return records
    }

    // MARK: - API tokens

    public func addToken(_ t: APITokenRecord) async throws {
        let inserted = try await client.query("""
            INSERT INTO api_tokens (token_hash, name, role, created_by, created_at)
            VALUES (\(t.tokenHash), \(t.name), \(t.role.rawValue), \(t.createdBy), \(t.createdAt.secondsSinceEpoch))
            ON CONFLICT DO NOTHING RETURNING name
            """, logger: logger).collect()
        if inserted.isEmpty { throw StorageError.conflict("token \(t.name)") }
    }

    public func token(hash: String) async throws -> APITokenRecord? {
        let rows = try await client.query(
            "SELECT token_hash, name, role, created_by, created_at FROM api_tokens WHERE token_hash = \(hash)", logger: logger)
        for try await (h, name, role, by, at) in rows.decode((String, String, String, String, Double).self) {
            return Role(rawValue: role).map {
                APITokenRecord(tokenHash: h, name: name, role: $0, createdBy: by, createdAt: Instant(secondsSinceEpoch: at))
            }
        }
        return nil
    }

    public func deleteToken(named name: String) async throws -> Bool {
        !(try await client.query("DELETE FROM api_tokens WHERE name = \(name) RETURNING name", logger: logger).collect()).isEmpty
    }

    // MARK: - Sessions

    public func createSession(_ s: SessionRecord) async throws {
        try await client.query("""
            INSERT INTO sessions (token_hash, user_name, csrf, expires_at)
            VALUES (\(s.tokenHash), \(s.user), \(s.csrf), \(s.expiresAt.secondsSinceEpoch))
            """, logger: logger)
    }

    public func session(tokenHash: String, at now: Instant) async throws -> SessionRecord? {
        let rows = try await client.query("""
            SELECT token_hash, user_name, csrf, expires_at FROM sessions
            WHERE token_hash = \(tokenHash) AND expires_at > \(now.secondsSinceEpoch)
            """, logger: logger)
        for try await (hash, user, csrf, expires) in rows.decode((String, String, String, Double).self) {
            return SessionRecord(tokenHash: hash, user: user, csrf: csrf, expiresAt: Instant(secondsSinceEpoch: expires))
        }
        return nil
    }

    public func deleteSession(tokenHash: String) async throws {
        try await client.query("DELETE FROM sessions WHERE token_hash = \(tokenHash)", logger: logger)
    }

    public func deleteExpiredSessions(at now: Instant) async throws -> Int {
        try await client.query("DELETE FROM sessions WHERE expires_at <= \(now.secondsSinceEpoch) RETURNING token_hash",
                               logger: logger).collect().count
    }

    // MARK: - Poles

    public func savePoleSnapshot(_ s: PoleSnapshot) async throws {
        let faults = JSONList.encode(s.faults)
        let version = s.profileVersion.map(Int64.init)
        try await client.query("""
            INSERT INTO pole_snapshots (pole, route, online, level, state, profile_version, faults, firmware, updated_at)
            VALUES (\(s.pole), \(s.route), \(s.online), \(s.level), \(s.state), \(version), \(faults), \(s.firmware),
                    \(s.updatedAt.secondsSinceEpoch))
            ON CONFLICT (pole) DO UPDATE SET route = excluded.route, online = excluded.online, level = excluded.level,
                state = excluded.state, profile_version = excluded.profile_version, faults = excluded.faults,
                firmware = excluded.firmware, updated_at = excluded.updated_at
            """, logger: logger)
    }

    public func poleSnapshots(route: String) async throws -> [PoleSnapshot] {
        try await snapshots("""
            SELECT pole, route, online, level, state, profile_version, faults, firmware, updated_at
            FROM pole_snapshots WHERE route = \(route) ORDER BY pole
            """)
    }

    public func poleSnapshot(_ pole: String) async throws -> PoleSnapshot? {
        try await snapshots("""
            SELECT pole, route, online, level, state, profile_version, faults, firmware, updated_at
            FROM pole_snapshots WHERE pole = \(pole)
            """).first
    }

    private func snapshots(_ query: PostgresQuery) async throws -> [PoleSnapshot] {
        var snapshots: [PoleSnapshot] = []
        let rows = try await client.query(query, logger: logger)
        for try await (pole, route, online, level, state, version, faults, firmware, updatedAt)
            in rows.decode((String, String, Bool, Double?, String?, Int64?, String, String?, Double).self) {
            snapshots.append(PoleSnapshot(pole: pole, route: route, online: online, level: level, state: state,
                                          profileVersion: version.map(Int.init), faults: JSONList.decode(faults),
                                          firmware: firmware, updatedAt: Instant(secondsSinceEpoch: updatedAt)))
        }
        return snapshots
    }
}
