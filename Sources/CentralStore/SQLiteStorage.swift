import CentralCore
import Foundation
import GRDB
import LightCore

/// The embedded default: one SQLite file through GRDB, created and migrated when opened.
public final class SQLiteStorage: CentralStorage {
    private let db: DatabasePool
    private let migrator: DatabaseMigrator

    /// Opens (creating if needed) the database at `path` and runs the migrations it lacks.
    public init(path: String) throws {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(5)
        db = try DatabasePool(path: path, configuration: config)
        var migrator = DatabaseMigrator()
        for migration in Migrations.all(.sqlite) {
            migrator.registerMigration(migration.id) { db in
                for statement in migration.statements { try db.execute(sql: statement) }
            }
        }
        try migrator.migrate(db)
        self.migrator = migrator
    }

    /// Nothing to end: GRDB closes the file when the pool goes.
    public func close() async {}

    /// The migrations that have run, in order.
    public func appliedMigrations() throws -> [String] {
        try db.read { db in try migrator.appliedMigrations(db) }
    }

    // MARK: - Profile versions

    public func addProfileVersion(_ record: ProfileVersionRecord, route: RouteRecord) async throws {
        try await db.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM profile_versions WHERE route = ? AND version = ?",
                                 arguments: [record.route, record.version]) == true {
                throw StorageError.conflict("route \(record.route) version \(record.version)")
            }
            try db.execute(sql: """
                INSERT INTO routes (id, name, poles) VALUES (?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, poles = excluded.poles
                """, arguments: [route.id, route.name, JSONList.encode(route.poles)])
            try db.execute(sql: """
                INSERT INTO profile_versions (route, version, document, signed_bundle, author, created_at, comment)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [record.route, record.version, record.document, record.signedBundle, record.author,
                                 record.createdAt.secondsSinceEpoch, record.comment])
        }
    }

    public func profileVersion(route: String, version: Int) async throws -> ProfileVersionRecord? {
        try await db.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM profile_versions WHERE route = ? AND version = ?",
                             arguments: [route, version]).map(Self.profileVersion)
        }
    }

    public func profileVersions(route: String) async throws -> [ProfileVersionRecord] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM profile_versions WHERE route = ? ORDER BY version DESC",
                             arguments: [route]).map(Self.profileVersion)
        }
    }

    public func routes() async throws -> [RouteRecord] {
        try await db.read { db in try Row.fetchAll(db, sql: "SELECT * FROM routes ORDER BY id").map(Self.route) }
    }

    public func route(_ id: String) async throws -> RouteRecord? {
        try await db.read { db in try Row.fetchOne(db, sql: "SELECT * FROM routes WHERE id = ?", arguments: [id]).map(Self.route) }
    }

    // MARK: - Audit log

    public func appendAudit(_ entry: AuditEntry) async throws {
        try await db.write { db in
            try db.execute(sql: "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
                           arguments: [entry.at.secondsSinceEpoch, entry.actor, entry.action, entry.subject, entry.detail])
        }
    }

    public func audit(limit: Int) async throws -> [AuditEntry] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", arguments: [limit]).map { row in
                AuditEntry(id: row["id"], at: Instant(secondsSinceEpoch: row["at"]), actor: row["actor"],
                           action: row["action"], subject: row["subject"], detail: row["detail"])
            }
        }
    }

    // MARK: - Users

    public func addUser(_ user: UserRecord) async throws {
        try await db.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE name = ?", arguments: [user.name]) == true {
                throw StorageError.conflict("user \(user.name)")
            }
            try db.execute(sql: "INSERT INTO users (name, password_hash, role) VALUES (?, ?, ?)",
                           arguments: [user.name, user.passwordHash, user.role.rawValue])
        }
    }

    public func user(named name: String) async throws -> UserRecord? {
        try await db.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE name = ?", arguments: [name]).flatMap { row in
                Role(rawValue: row["role"]).map { UserRecord(name: row["name"], passwordHash: row["password_hash"], role: $0) }
            }
        }
    }

    public func users() async throws -> [UserRecord] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY name").compactMap { row in
                Role(rawValue: row["role"]).map { UserRecord(name: row["name"], passwordHash: row["password_hash"], role: $0) }
            }
        }
    }

    public func updateUser(named name: String, role: Role?, passwordHash: String?, keepSession: String?) async throws -> Bool {
        try await db.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE name = ?", arguments: [name]) == true else { return false }
            if let role { try db.execute(sql: "UPDATE users SET role = ? WHERE name = ?", arguments: [role.rawValue, name]) }
            if let passwordHash { try db.execute(sql: "UPDATE users SET password_hash = ? WHERE name = ?", arguments: [passwordHash, name]) }
            try db.execute(sql: "DELETE FROM sessions WHERE user_name = ? AND token_hash IS NOT ?", arguments: [name, keepSession])
            return true
        }
    }

    public func deleteUser(named name: String) async throws -> Bool {
        try await db.write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE user_name = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM users WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    // MARK: - Rollouts

    public func createRollout(_ r: RolloutRecord) async throws -> Int64 {
        let body = try RolloutJSON.encode(r.rollout)
        return try await db.write { db in
            if !r.rollout.state.isFinished,
               try Bool.fetchOne(db, sql: "SELECT 1 FROM rollouts WHERE route = ? AND NOT finished",
                                 arguments: [r.rollout.plan.route]) == true {
                throw StorageError.conflict("an unfinished rollout of route \(r.rollout.plan.route)")
            }
            try db.execute(sql: """
                INSERT INTO rollouts (route, version, body, finished, created_by, created_at, updated_at, owner, lease_until)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [r.rollout.plan.route, r.rollout.plan.version, body, r.rollout.state.isFinished,
                                 r.createdBy, r.createdAt.secondsSinceEpoch, r.updatedAt.secondsSinceEpoch, r.owner,
                                 r.leaseUntil?.secondsSinceEpoch])
            return db.lastInsertedRowID
        }
    }

    public func claimRollout(id: Int64, owner: String, until: Instant, now: Instant) async throws -> Bool {
        try await db.write { db in
            try db.execute(sql: """
                UPDATE rollouts SET owner = ?, lease_until = ?
                WHERE id = ? AND NOT finished AND (owner IS NULL OR owner = ? OR lease_until IS NULL OR lease_until < ?)
                """, arguments: [owner, until.secondsSinceEpoch, id, owner, now.secondsSinceEpoch])
            return db.changesCount == 1
        }
    }

    public func renewRolloutLeases(owner: String, ids: [Int64], until: Instant) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        return try await db.write { db in
            var held: Set<Int64> = []
            for id in ids {
                try db.execute(sql: "UPDATE rollouts SET lease_until = ? WHERE id = ? AND owner = ?",
                               arguments: [until.secondsSinceEpoch, id, owner])
                if db.changesCount == 1 { held.insert(id) }
            }
            return held
        }
    }

    public func requestRolloutHalt(route: String, request: String) async throws -> Bool {
        try await db.write { db in
            try db.execute(sql: "UPDATE rollouts SET halt_request = ? WHERE route = ? AND NOT finished", arguments: [request, route])
            return db.changesCount > 0
        }
    }

    public func updateRollout(id: Int64, _ rollout: Rollout, at: Instant) async throws {
        let body = try RolloutJSON.encode(rollout)
        try await db.write { db in
            try db.execute(sql: "UPDATE rollouts SET body = ?, finished = ?, updated_at = ? WHERE id = ?",
                           arguments: [body, rollout.state.isFinished, at.secondsSinceEpoch, id])
        }
    }

    public func latestRollout(route: String) async throws -> RolloutRecord? {
        try await db.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM rollouts WHERE route = ? ORDER BY id DESC LIMIT 1", arguments: [route])
                .map(Self.rollout)
        }
    }

    public func unfinishedRollouts() async throws -> [RolloutRecord] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM rollouts WHERE NOT finished ORDER BY id").map(Self.rollout)
        }
    }

    private static func rollout(_ row: Row) throws -> RolloutRecord {
        RolloutRecord(id: row["id"], rollout: try RolloutJSON.decode(row["body"]), createdBy: row["created_by"],
                      createdAt: Instant(secondsSinceEpoch: row["created_at"]), updatedAt: Instant(secondsSinceEpoch: row["updated_at"]),
                      owner: row["owner"], leaseUntil: (row["lease_until"] as Double?).map(Instant.init(secondsSinceEpoch:)),
                      haltRequest: row["halt_request"])
    }

    // MARK: - Telemetry and alarms

    public func addTelemetry(_ reports: [TelemetryReport]) async throws -> Int {
        guard !reports.isEmpty else { return 0 }
        return try await db.write { db in
            let report = try db.cachedStatement(sql: """
                INSERT INTO telemetry_reports (pole, from_at, to_at, energy_wh, detections, lit_seconds, level_percent_seconds)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (pole, from_at) DO NOTHING
                """)
            let share = try db.cachedStatement(sql: """
                INSERT INTO telemetry_15min (pole, route, bucket, energy_wh, detections, lit_seconds, level_percent_seconds)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (pole, bucket) DO UPDATE SET
                    energy_wh = telemetry_15min.energy_wh + excluded.energy_wh,
                    detections = telemetry_15min.detections + excluded.detections,
                    lit_seconds = telemetry_15min.lit_seconds + excluded.lit_seconds,
                    level_percent_seconds = telemetry_15min.level_percent_seconds + excluded.level_percent_seconds
                """)
            var added = 0
            for r in reports {
                try report.execute(arguments: [r.pole, r.from.secondsSinceEpoch, r.to.secondsSinceEpoch, r.energyWh,
                                               r.detections, r.litSeconds ?? 0, r.levelPercentSeconds ?? 0])
                guard db.changesCount > 0 else { continue }
                for s in TelemetryBuckets.split(r) {
                    try share.execute(arguments: [r.pole, r.route, s.bucket.secondsSinceEpoch, s.energyWh, s.detections,
                                                  s.litSeconds, s.levelPercentSeconds])
                }
                added += 1
            }
            return added
        }
    }

    public func energy(route: String, from: Instant, to: Instant) async throws -> [EnergyBucket] {
        try await energy(where: "route = ?", route, from, to)
    }

    public func energy(pole: String, from: Instant, to: Instant) async throws -> [EnergyBucket] {
        try await energy(where: "pole = ?", pole, from, to)
    }

    private func energy(where condition: String, _ key: String, _ from: Instant, _ to: Instant) async throws -> [EnergyBucket] {
        try await db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT bucket, SUM(energy_wh) AS energy, SUM(detections) AS detections, SUM(lit_seconds) AS lit,
                       SUM(level_percent_seconds) AS level FROM telemetry_15min
                WHERE \(condition) AND bucket >= ? AND bucket < ? GROUP BY bucket ORDER BY bucket
                """, arguments: [key, from.secondsSinceEpoch, to.secondsSinceEpoch]).map { row in
                EnergyBucket(bucket: Instant(secondsSinceEpoch: row["bucket"]), energyWh: row["energy"], detections: row["detections"],
                             litSeconds: row["lit"], levelPercentSeconds: row["level"])
            }
        }
    }

    public func raiseAlarm(_ a: AlarmRecord) async throws -> Int64? {
        try await db.write { db in
            // A raise stored before (same pole, code, sensor and instant) or an open alarm of the
            // same pole, code and sensor: nothing (the unique indexes of migration 006).
            try db.execute(sql: """
                INSERT INTO alarms (pole, route, code, sensor, detail, raised_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """, arguments: [a.pole, a.route, a.code, a.sensor ?? "", a.detail, a.raisedAt.secondsSinceEpoch])
            return db.changesCount > 0 ? db.lastInsertedRowID : nil
        }
    }

    public func clearAlarm(pole: String, code: String, sensor: String?, at: Instant) async throws -> Bool {
        try await db.write { db in
            // A clear stored before (an alarm of this pole, code and sensor cleared at this very
            // instant) clears nothing: the open alarm is then a later raise's.
            try db.execute(sql: """
                UPDATE alarms SET cleared_at = ? WHERE pole = ? AND code = ? AND sensor = ? AND cleared_at IS NULL
                AND NOT EXISTS (SELECT 1 FROM alarms WHERE pole = ? AND code = ? AND sensor = ? AND cleared_at = ?)
                """, arguments: [at.secondsSinceEpoch, pole, code, sensor ?? "", pole, code, sensor ?? "", at.secondsSinceEpoch])
            return db.changesCount > 0
        }
    }

    public func acknowledgeAlarm(id: Int64, by user: String, at: Instant) async throws -> AlarmRecord? {
        try await db.write { db in
            try db.execute(sql: "UPDATE alarms SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND acknowledged_at IS NULL",
                           arguments: [at.secondsSinceEpoch, user, id])
            return try Row.fetchOne(db, sql: "SELECT * FROM alarms WHERE id = ?", arguments: [id]).map(Self.alarm)
        }
    }

    public func alarms(route: String?, openOnly: Bool) async throws -> [AlarmRecord] {
        try await db.read { db in
            var sql = "SELECT * FROM alarms WHERE 1 = 1"
            var arguments: StatementArguments = []
            if let route { sql += " AND route = ?"; arguments += [route] }
            if openOnly { sql += " AND cleared_at IS NULL" }
            return try Row.fetchAll(db, sql: sql + " ORDER BY id DESC", arguments: arguments).map(Self.alarm)
        }
    }

    private static func alarm(_ row: Row) -> AlarmRecord {
        let sensor: String = row["sensor"]
        return AlarmRecord(id: row["id"], pole: row["pole"], route: row["route"], code: row["code"],
                           sensor: sensor.isEmpty ? nil : sensor, detail: row["detail"],
                           raisedAt: Instant(secondsSinceEpoch: row["raised_at"]),
                           acknowledgedAt: (row["acknowledged_at"] as Double?).map(Instant.init(secondsSinceEpoch:)),
                           acknowledgedBy: row["acknowledged_by"],
                           clearedAt: (row["cleared_at"] as Double?).map(Instant.init(secondsSinceEpoch:)))
    }

    // MARK: - API tokens

    public func addToken(_ t: APITokenRecord) async throws {
        try await db.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM api_tokens WHERE name = ?", arguments: [t.name]) == true {
                throw StorageError.conflict("token \(t.name)")
            }
            try db.execute(sql: "INSERT INTO api_tokens (token_hash, name, role, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [t.tokenHash, t.name, t.role.rawValue, t.createdBy, t.createdAt.secondsSinceEpoch])
        }
    }

    public func token(hash: String) async throws -> APITokenRecord? {
        try await db.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_tokens WHERE token_hash = ?", arguments: [hash]).flatMap { row in
                Role(rawValue: row["role"]).map {
                    APITokenRecord(tokenHash: row["token_hash"], name: row["name"], role: $0, createdBy: row["created_by"],
                                   createdAt: Instant(secondsSinceEpoch: row["created_at"]))
                }
            }
        }
    }

    public func deleteToken(named name: String) async throws -> Bool {
        try await db.write { db in
            try db.execute(sql: "DELETE FROM api_tokens WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    // MARK: - Sessions

    public func createSession(_ session: SessionRecord) async throws {
        try await db.write { db in
            try db.execute(sql: "INSERT INTO sessions (token_hash, user_name, csrf, expires_at) VALUES (?, ?, ?, ?)",
                           arguments: [session.tokenHash, session.user, session.csrf, session.expiresAt.secondsSinceEpoch])
        }
    }

    public func session(tokenHash: String, at now: Instant) async throws -> SessionRecord? {
        try await db.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM sessions WHERE token_hash = ? AND expires_at > ?",
                             arguments: [tokenHash, now.secondsSinceEpoch]).map { row in
                SessionRecord(tokenHash: row["token_hash"], user: row["user_name"], csrf: row["csrf"],
                              expiresAt: Instant(secondsSinceEpoch: row["expires_at"]))
            }
        }
    }

    public func deleteSession(tokenHash: String) async throws {
        try await db.write { db in try db.execute(sql: "DELETE FROM sessions WHERE token_hash = ?", arguments: [tokenHash]) }
    }

    public func deleteExpiredSessions(at now: Instant) async throws -> Int {
        try await db.write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE expires_at <= ?", arguments: [now.secondsSinceEpoch])
            return db.changesCount
        }
    }

    // MARK: - Poles

    public func savePoleSnapshot(_ s: PoleSnapshot) async throws {
        try await db.write { db in
            try db.execute(sql: """
                INSERT INTO pole_snapshots (pole, route, online, level, state, profile_version, faults, firmware, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (pole) DO UPDATE SET route = excluded.route, online = excluded.online, level = excluded.level,
                    state = excluded.state, profile_version = excluded.profile_version, faults = excluded.faults,
                    firmware = excluded.firmware, updated_at = excluded.updated_at
                """, arguments: [s.pole, s.route, s.online, s.level, s.state, s.profileVersion,
                                 JSONList.encode(s.faults), s.firmware, s.updatedAt.secondsSinceEpoch])
        }
    }

    public func poleSnapshots(route: String) async throws -> [PoleSnapshot] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM pole_snapshots WHERE route = ? ORDER BY pole", arguments: [route])
                .map(Self.snapshot)
        }
    }

    public func poleSnapshot(_ pole: String) async throws -> PoleSnapshot? {
        try await db.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM pole_snapshots WHERE pole = ?", arguments: [pole]).map(Self.snapshot)
        }
    }

    private static func snapshot(_ row: Row) -> PoleSnapshot {
        PoleSnapshot(pole: row["pole"], route: row["route"], online: row["online"], level: row["level"],
                     state: row["state"], profileVersion: row["profile_version"],
                     faults: JSONList.decode(row["faults"]), firmware: row["firmware"],
                     updatedAt: Instant(secondsSinceEpoch: row["updated_at"]))
    }

    // MARK: - Rows to records

    private static func profileVersion(_ row: Row) -> ProfileVersionRecord {
        ProfileVersionRecord(route: row["route"], version: row["version"], document: row["document"],
                             signedBundle: row["signed_bundle"], author: row["author"],
                             createdAt: Instant(secondsSinceEpoch: row["created_at"]), comment: row["comment"])
    }

    private static func route(_ row: Row) -> RouteRecord {
        RouteRecord(id: row["id"], name: row["name"], poles: JSONList.decode(row["poles"]))
    }
}

/// A rollout in one text column, as JSON.
enum RolloutJSON {
    static func encode(_ rollout: Rollout) throws -> String {
        String(decoding: try JSONEncoder().encode(rollout), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> Rollout {
        try JSONDecoder().decode(Rollout.self, from: Data(text.utf8))
    }
}

/// A list of strings in one text column, as JSON.
enum JSONList {
    static func encode(_ list: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(list)) ?? Data("[]".utf8), as: UTF8.self)
    }

    static func decode(_ text: String) -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
    }
}
