import CentralCore
import CentralStore
import Foundation
import LichtwegTestSupport
import LightCore
import Testing

/// The same suite against both storages: SQLite in a temporary file, and a real PostgreSQL.
@Suite("Storage")
struct StorageTests {
    enum Backend: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    /// A fresh, migrated storage of `backend`, closed after `body`.
    static func withStorage(_ backend: Backend, _ body: (any CentralStorage) async throws -> Void) async throws {
        switch backend {
        case .sqlite:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lichtweg-sqlite-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            try await body(try SQLiteStorage(path: dir.appendingPathComponent("central.sqlite").path))
        case .postgres:
            let storage = try await PostgresStorage(url: try await PostgresServer.shared.freshDatabaseURL())
            do {
                try await body(storage)
            } catch {
                await storage.close()
                throw error
            }
            await storage.close()
        }
    }

    static let t0 = Instant(secondsSinceEpoch: 1_795_000_000.25)
    static let route = RouteRecord(id: "brandis-beucha", name: "Brandis – Beucha", poles: ["BB-001", "BB-002"])

    static func version(_ v: Int, document: String = "format: lichtweg-profile/1\n") -> ProfileVersionRecord {
        ProfileVersionRecord(route: route.id, version: v, document: document, signedBundle: "{\"version\":\(v)}",
                             author: "anna", createdAt: t0 + Double(v), comment: "version \(v) — ümlauts ok")
    }

    @Test("profile versions are stored whole, listed newest first, and never overwritten", arguments: Backend.allCases)
    func profileVersions(_ backend: Backend) async throws {
        try await Self.withStorage(backend) { store in
            try await store.addProfileVersion(Self.version(1), route: Self.route)
            var renamed = Self.route
            renamed.poles.append("BB-003")
            try await store.addProfileVersion(Self.version(2, document: "x: 'quotes' and \"doubles\"; DROP TABLE users;"), route: renamed)
            #expect(try await store.profileVersions(route: Self.route.id).map(\.version) == [2, 1])
            #expect(try await store.profileVersion(route: Self.route.id, version: 1) == Self.version(1))
            #expect(try await store.profileVersion(route: Self.route.id, version: 2)?.document
                    == "x: 'quotes' and \"doubles\"; DROP TABLE users;")
            #expect(try await store.profileVersion(route: Self.route.id, version: 3) == nil)
            // The route follows the latest version.
            #expect(try await store.route(Self.route.id) == renamed)
            #expect(try await store.routes() == [renamed])
            await #expect(throws: StorageError.conflict("route brandis-beucha version 2")) {
                try await store.addProfileVersion(Self.version(2, document: "other"), route: renamed)
            }
            #expect(try await store.profileVersion(route: Self.route.id, version: 2)?.document.hasPrefix("x: 'quotes'") == true)
        }
    }

    @Test("the audit log appends and reads back newest first", arguments: Backend.allCases)
    func auditLog(_ backend: Backend) async throws {
        try await Self.withStorage(backend) { store in
            for i in 0..<5 {
                try await store.appendAudit(AuditEntry(at: Self.t0 + Double(i), actor: "anna", action: "profile.upload",
                                                       subject: "route brandis-beucha version \(i)", detail: "d\(i)"))
            }
            let entries = try await store.audit(limit: 3)
            #expect(entries.map(\.subject) == (2...4).reversed().map { "route brandis-beucha version \($0)" })
            #expect(entries.first?.at == Self.t0 + 4)
            let ids = entries.compactMap(\.id)
            #expect(ids.count == 3 && ids == ids.sorted(by: >))
        }
    }

    @Test("users: stored with their role, unique by name", arguments: Backend.allCases)
    func users(_ backend: Backend) async throws {
        try await Self.withStorage(backend) { store in
            let user = UserRecord(name: "anna", passwordHash: "$2b$12$abcdefghijklmnopqrstuv", role: .engineer)
            try await store.addUser(user)
            #expect(try await store.user(named: "anna") == user)
            #expect(try await store.user(named: "bob") == nil)
            await #expect(throws: StorageError.conflict("user anna")) {
                try await store.addUser(UserRecord(name: "anna", passwordHash: "x", role: .admin))
            }
        }
    }

    @Test("rollouts: stored whole after every step, the latest per route, the unfinished to resume", arguments: Backend.allCases)
    func rollouts(_ backend: Backend) async throws {
        try await Self.withStorage(backend) { store in
            var rollout = Rollout(plan: Rollout.Plan(route: "brandis-beucha", version: 2, poles: ["BB-001", "BB-002", "BB-003"],
                                                     canaries: ["BB-002"], soakSeconds: 60, ackTimeoutSeconds: 30))
            _ = rollout.handle(.start, at: Self.t0)
            let id = try await store.createRollout(RolloutRecord(rollout: rollout, createdBy: "erik", createdAt: Self.t0, updatedAt: Self.t0))
            #expect(try await store.unfinishedRollouts().map(\.id) == [id])
            _ = rollout.handle(.ack(pole: "BB-002", version: 2, applied: true, versionInForce: 2, reason: nil), at: Self.t0 + 5)
            try await store.updateRollout(id: id, rollout, at: Self.t0 + 5)
            let latest = try #require(try await store.latestRollout(route: "brandis-beucha"))
            #expect(latest.rollout == rollout && latest.createdBy == "erik" && latest.updatedAt == Self.t0 + 5)
            _ = rollout.handle(.halt(reason: "operator"), at: Self.t0 + 6)
            try await store.updateRollout(id: id, rollout, at: Self.t0 + 6)
            #expect(try await store.unfinishedRollouts().isEmpty)
            #expect(try await store.latestRollout(route: "other") == nil)
            #expect(try await store.latestRollout(route: "brandis-beucha")?.rollout.state == .halted(reason: "operator", at: Self.t0 + 6))
        }
    }

    @Test("rollouts of several instances: one unfinished per route, leases claimed only when run out, halts passed on",
          arguments: Backend.allCases)
    func rolloutLeases(_ backend: Backend) async throws {
        try await Self.withStorage(backend) { store in
            var rollout = Rollout(plan: Rollout.Plan(route: "brandis-beucha", version: 2, poles: ["BB-001", "BB-002"],
                                                     canaries: [], soakSeconds: 60, ackTimeoutSeconds: 30))
            _ = rollout.handle(.start, at: Self.t0)
            let id = try await store.createRollout(RolloutRecord(rollout: rollout, createdBy: "erik", createdAt: Self.t0,
                                                                 updatedAt: Self.t0, owner: "a", leaseUntil: Self.t0 + 10))
            var stored = try #require(try await store.unfinishedRollouts().first)
            #expect(stored.owner == "a" && stored.leaseUntil == Self.t0 + 10 && stored.haltRequest == nil)
            // A second unfinished rollout of the route, from any instance, is refused.
            await #expect(throws: StorageError.self) {
                _ = try await store.createRollout(RolloutRecord(rollout: rollout, createdBy: "anna", createdAt: Self.t0 + 1,
                                                                updatedAt: Self.t0 + 1, owner: "b", leaseUntil: Self.t0 + 11))
            }
            // b may not take it while a's lease lasts; a renews; b takes it once the lease has run out.
            #expect(try await store.claimRollout(id: id, owner: "b", until: Self.t0 + 15, now: Self.t0 + 5) == false)
            #expect(try await store.renewRolloutLeases(owner: "a", ids: [id], until: Self.t0 + 20) == [id])
            #expect(try await store.claimRollout(id: id, owner: "b", until: Self.t0 + 25, now: Self.t0 + 15) == false)
            #expect(try await store.claimRollout(id: id, owner: "b", until: Self.t0 + 31, now: Self.t0 + 21))
            #expect(try await store.renewRolloutLeases(owner: "a", ids: [id], until: Self.t0 + 40).isEmpty)
            #expect(try await store.renewRolloutLeases(owner: "b", ids: [id], until: Self.t0 + 40) == [id])
            #expect(try await store.claimRollout(id: id, owner: "b", until: Self.t0 + 45, now: Self.t0 + 22), "its own again")
            // A halt asked for anywhere is stored for the owner.
            #expect(try await store.requestRolloutHalt(route: "brandis-beucha", request: "halted by anna: test"))
            #expect(try await store.requestRolloutHalt(route: "other", request: "x") == false)
            stored = try #require(try await store.unfinishedRollouts().first)
            #expect(stored.owner == "b" && stored.haltRequest == "halted by anna: test")
            // Finished: no lease to claim, and the route may have a new rollout.
            _ = rollout.handle(.halt(reason: "halted by anna: test"), at: Self.t0 + 23)
            try await store.updateRollout(id: id, rollout, at: Self.t0 + 23)
            #expect(try await store.claimRollout(id: id, owner: "c", until: Self.t0 + 99, now: Self.t0 + 99) == false)
            var next = Rollout(plan: rollout.plan)
            _ = next.handle(.start, at: Self.t0 + 30)
            _ = try await store.createRollout(RolloutRecord(rollout: next, createdBy: "anna", createdAt: Self.t0 + 30,
                                                            updatedAt: Self.t0 + 30, owner: "b", leaseUntil: Self.t0 + 40))
            #expect(try await store.unfinishedRollouts().count == 1)
        }
    }

    @Test("API tokens: found by hash, unique by name, revoked by name", arguments: Backend.allCases)
    func tokens(_ backend: Backend) async throws {
        try await Self.withStorage(backend) { store in
            let t = APITokenRecord(tokenHash: "h1", name: "prometheus", role: .viewer, createdBy: "ada", createdAt: Self.t0)
            try await store.addToken(t)
            #expect(try await store.token(hash: "h1") == t)
            await #expect(throws: StorageError.conflict("token prometheus")) {
                try await store.addToken(APITokenRecord(tokenHash: "h2", name: "prometheus", role: .admin, createdBy: "x", createdAt: Self.t0))
            }
            #expect(try await store.deleteToken(named: "prometheus"))
            #expect(try await store.deleteToken(named: "prometheus") == false)
            #expect(try await store.token(hash: "h1") == nil)
        }
    }

    @Test("sessions: found by token hash until they expire, gone after logout", arguments: Backend.allCases)
    func sessions(_ backend: Backend) async throws {
        try await Self.withStorage(backend) { store in
            try await store.addUser(UserRecord(name: "anna", passwordHash: "h", role: .viewer))
            let session = SessionRecord(tokenHash: "abc", user: "anna", csrf: "c1", expiresAt: Self.t0 + 3600)
            try await store.createSession(session)
            #expect(try await store.session(tokenHash: "abc", at: Self.t0) == session)
            #expect(try await store.session(tokenHash: "abc", at: Self.t0 + 3600) == nil)
            #expect(try await store.session(tokenHash: "other", at: Self.t0) == nil)
            try await store.deleteSession(tokenHash: "abc")
            #expect(try await store.session(tokenHash: "abc", at: Self.t0) == nil)
            try await store.createSession(SessionRecord(tokenHash: "old", user: "anna", csrf: "c", expiresAt: Self.t0 + 10))
            try await store.createSession(SessionRecord(tokenHash: "new", user: "anna", csrf: "c", expiresAt: Self.t0 + 100))
            #expect(try await store.deleteExpiredSessions(at: Self.t0 + 50) == 1)
            #expect(try await store.session(tokenHash: "new", at: Self.t0) != nil)
        }
    }

    @Test("pole snapshots: the latest per pole, by route", arguments: Backend.allCases)
    func poleSnapshots(_ backend: Backend) async throws {
        try await Self.withStorage(backend) { store in
            let a = PoleSnapshot(pole: "BB-001", route: "brandis-beucha", online: true, level: 20, state: "base",
                                 profileVersion: 3, faults: [], firmware: "0.1.0", updatedAt: Self.t0)
            var b = PoleSnapshot(pole: "BB-002", route: "brandis-beucha", online: false, updatedAt: Self.t0)
            try await store.savePoleSnapshot(a)
            try await store.savePoleSnapshot(b)
            b.online = true
            b.level = 70
            b.faults = ["lamp-failure"]
            b.updatedAt = Self.t0 + 5
            try await store.savePoleSnapshot(b)
            try await store.savePoleSnapshot(PoleSnapshot(pole: "X-1", route: "other", online: true, updatedAt: Self.t0))
            #expect(try await store.poleSnapshots(route: "brandis-beucha") == [a, b])
            #expect(try await store.poleSnapshot("BB-002") == b)
            #expect(try await store.poleSnapshot("nope") == nil)
        }
    }

    @Test("migrations run once and are recorded", arguments: Backend.allCases)
    func migrations(_ backend: Backend) async throws {
        switch backend {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("lichtweg-mig-\(UUID().uuidString).sqlite").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            let first = try SQLiteStorage(path: path)
            try await first.appendAudit(AuditEntry(at: Self.t0, actor: "a", action: "x", subject: "y"))
            let second = try SQLiteStorage(path: path)  // opening again migrates nothing and keeps the data
            #expect(try second.appliedMigrations() == ["001-core", "002-rollouts", "003-telemetry-alarms", "004-api-tokens", "005-level-time",
                                                             "006-alarm-keys", "007-rollout-leases"])
            #expect(try await second.audit(limit: 10).count == 1)
        case .postgres:
            let url = try await PostgresServer.shared.freshDatabaseURL()
            let first = try await PostgresStorage(url: url)
            try await first.appendAudit(AuditEntry(at: Self.t0, actor: "a", action: "x", subject: "y"))
            await first.close()
            let second = try await PostgresStorage(url: url)
            #expect(try await second.appliedMigrations() == ["001-core", "002-rollouts", "003-telemetry-alarms", "004-api-tokens", "005-level-time",
                                                             "006-alarm-keys", "007-rollout-leases"])
            #expect(try await second.audit(limit: 10).count == 1)
            await second.close()
        }
    }

    @Test("a malformed database URL is refused with what was expected, never showing the password")
    func badURL() async throws {
        await #expect(throws: StorageError.self) { _ = try await PostgresStorage(url: "mysql://x@y/z") }
        let cases = [
            ("postgres://u:hunter2@127.0.0.1:1/d?sslmode=sometimes", "sslmode must be"),
            ("postgres://u:hunter2@127.0.0.1:1/d?sslmod=require", "unknown setting 'sslmod'"),
            ("postgres://u:hunter2@127.0.0.1:1/d?sslmode=verify-full&sslrootcert=/nonexistent/ca.crt", "cannot read /nonexistent/ca.crt"),
            ("postgres://u:hunter2@127.0.0.1:1/d?sslrootcert=/etc/hostname", "sslmode is disable"),
            ("postgres://u:hunter2@:1", "expected postgres://"),
        ]
        for (url, expected) in cases {
            do {
                let storage = try await PostgresStorage(url: url)
                await storage.close()
                Issue.record("\(url) was accepted")
            } catch let error as StorageError {
                #expect("\(error)".contains(expected), "\(url) → \(error)")
                #expect(!"\(error)".contains("hunter2"), "the password in a message: \(error)")
            }
        }
    }

    @Test("TLS to PostgreSQL: verify-full against the server's CA encrypts; a foreign CA is refused; disable stays plain")
    func postgresTLS() async throws {
        let url = try await PostgresServer.shared.freshDatabaseURL()
        let ca = try await PostgresServer.shared.ca()
        let verified = try await PostgresStorage(url: "\(url)?sslmode=verify-full&sslrootcert=\(ca)")
        let info = try await verified.connectionTLS()
        await verified.close()
        #expect(info.encrypted, "verify-full gave a plain connection")
        #expect(info.version == "TLSv1.3" || info.version == "TLSv1.2", "\(info)")

        let plain = try await PostgresStorage(url: url)
        #expect(try await plain.connectionTLS().encrypted == false)
        await plain.close()

        // The server's certificate is not signed by this other CA: no connection, no migration.
        let other = try await TestPKI.make(["someone"])
        do {
            let s = try await PostgresStorage(url: "\(url)?sslmode=verify-full&sslrootcert=\(other.ca)")
            await s.close()
            Issue.record("a server certificate of another CA was accepted")
        } catch let error as StorageError {
            #expect("\(error)".contains("cannot connect to PostgreSQL"), "\(error)")
        }
        // By name: the certificate is issued for localhost too.
        let byName = try await PostgresStorage(url: url.replacingOccurrences(of: "127.0.0.1", with: "localhost")
                                                + "?sslmode=verify-full&sslrootcert=\(ca)")
        #expect(try await byName.connectionTLS().encrypted)
        await byName.close()
    }
}

extension StorageTests {
    @Test("telemetry: each report once, shared out over the quarter hours it covers, in batches", arguments: Backend.allCases)
    func telemetry(_ backend: Backend) async throws {
        try await Self.withStorage(backend) { store in
            let q = TelemetryBuckets.bucket(containing: Self.t0)
            func report(_ pole: String, _ from: Double, _ to: Double, _ wh: Double, _ n: Int, lit: Double? = nil,
                        level: Double? = nil) -> TelemetryReport {
                TelemetryReport(pole: pole, route: "brandis-beucha", from: q + from, to: q + to, energyWh: wh, detections: n,
                                litSeconds: lit, levelPercentSeconds: level)
            }
            // 10 minutes from 5 minutes into a quarter hour: two thirds in the first, one third in the next.
            #expect(try await store.addTelemetry(report("BB-001", 300, 900, 6, 3, lit: 600, level: 12_000)))
            // A batch: a new report, another pole's (without level time: older firmware), and a
            // duplicate of the new one within the batch.
            #expect(try await store.addTelemetry([report("BB-001", 900, 1200, 3, 1, lit: 300, level: 6_000),
                                                  report("BB-002", 600, 1200, 2, 2),
                                                  report("BB-001", 900, 1200, 3, 1, lit: 300, level: 6_000)]) == 2)
            // The same report again (a QoS 1 duplicate) adds nothing.
            #expect(try await store.addTelemetry(report("BB-001", 900, 1200, 3, 1)) == false)
            #expect(try await store.addTelemetry([]) == 0)
            let route = try await store.energy(route: "brandis-beucha", from: q, to: q + 3600)
            #expect(route.map(\.bucket) == [q, q + 900])
            #expect(abs(route[0].energyWh - 7) < 1e-9 && abs(route[1].energyWh - 4) < 1e-9)
            #expect(route.map(\.detections) == [4, 2])
            #expect(route.map(\.litSeconds) == [600, 300])
            #expect(route.map(\.meanLitLevelPercent) == [20, 20])
            let pole = try await store.energy(pole: "BB-002", from: q, to: q + 3600)
            #expect(pole.map(\.detections) == [1, 1])
            #expect(pole.allSatisfy { $0.litSeconds == 0 && $0.meanLitLevelPercent == nil })
            #expect(try await store.energy(route: "brandis-beucha", from: q + 1800, to: q + 3600).isEmpty)
        }
    }

    @Test("telemetry: a large batch is stored whole, its shares summed per quarter hour", arguments: Backend.allCases)
    func telemetryBatch(_ backend: Backend) async throws {
        try await Self.withStorage(backend) { store in
            let q = TelemetryBuckets.bucket(containing: Self.t0)
            // 3 poles × 1,000 reports of 60 s: many reports share each quarter hour of a pole.
            let reports = (0..<3_000).map { (i: Int) -> TelemetryReport in
                let minute = Double(i / 3) * 60
                return TelemetryReport(pole: "BB-00\(i % 3 + 1)", route: "brandis-beucha", from: q + minute, to: q + minute + 60,
                                       energyWh: 0.5, detections: 1, litSeconds: 60, levelPercentSeconds: 3_000)
            }
            #expect(try await store.addTelemetry(reports) == 3_000)
            let route = try await store.energy(route: "brandis-beucha", from: q, to: q + 60_000)
            let energy: Double = route.map(\.energyWh).reduce(0, +)
            let detections: Int = route.map(\.detections).reduce(0, +)
            let means: [Double] = route.compactMap(\.meanLitLevelPercent)
            #expect(abs(energy - 1_500) < 1e-6)
            #expect(detections == 3_000)
            #expect(route.count == 67 && means.count == 67 && means.allSatisfy { abs($0 - 50) < 1e-9 })
        }
    }

    @Test("alarms: one open per pole, code and sensor; acknowledged; cleared", arguments: Backend.allCases)
    func alarms(_ backend: Backend) async throws {
        try await Self.withStorage(backend) { store in
            let lamp = AlarmRecord(pole: "BB-001", route: "brandis-beucha", code: "lamp-failure", detail: "no current", raisedAt: Self.t0)
            let id = try #require(try await store.raiseAlarm(lamp))
            #expect(try await store.raiseAlarm(lamp) == nil, "raised again while open: the same alarm")
            let stuck = AlarmRecord(pole: "BB-001", route: "brandis-beucha", code: "stuck-sensor", sensor: "a", raisedAt: Self.t0 + 1)
            #expect(try await store.raiseAlarm(stuck) != nil)
            let acked = try #require(try await store.acknowledgeAlarm(id: id, by: "bauhof", at: Self.t0 + 10))
            #expect(acked.acknowledgedBy == "bauhof" && acked.acknowledgedAt == Self.t0 + 10 && acked.isOpen)
            #expect(try await store.acknowledgeAlarm(id: 9999, by: "x", at: Self.t0) == nil)
            #expect(try await store.clearAlarm(pole: "BB-001", code: "lamp-failure", sensor: nil, at: Self.t0 + 20))
            #expect(try await store.clearAlarm(pole: "BB-001", code: "lamp-failure", sensor: nil, at: Self.t0 + 21) == false)
            #expect(try await store.alarms(route: "brandis-beucha", openOnly: true).map(\.code) == ["stuck-sensor"])
            let all = try await store.alarms(route: nil, openOnly: false)
            #expect(all.map(\.code) == ["stuck-sensor", "lamp-failure"])
            #expect(all.last?.clearedAt == Self.t0 + 20 && all.first?.sensor == "a" && all.last?.sensor == nil)
            // Raised again after it cleared: a new alarm (a raise of its own instant).
            var again = lamp
            again.raisedAt = Self.t0 + 30
            #expect(try await store.raiseAlarm(again) != nil)
        }
    }

    /// Every instance stores every fault, each in its own time: what one stores after another
    /// already did must change nothing.
    @Test("alarms: a raise or clear stored twice, in any order across instances, gives one alarm with one lifecycle",
          arguments: Backend.allCases)
    func alarmsStoredTwice(_ backend: Backend) async throws {
        try await Self.withStorage(backend) { store in
            func raise(_ at: Instant, sensor: String? = "a") -> AlarmRecord {
                AlarmRecord(pole: "BB-002", route: "brandis-beucha", code: "stuck-sensor", sensor: sensor, detail: "active 3600 s",
                            raisedAt: at)
            }
            func clear(_ at: Instant, sensor: String? = "a") async throws -> Bool {
                try await store.clearAlarm(pole: "BB-002", code: "stuck-sensor", sensor: sensor, at: at)
            }
            func lifecycles(sensor: String? = "a") async throws -> [String] {
                try await store.alarms(route: nil, openOnly: false).filter { $0.sensor == sensor }.reversed().map {
                    "\($0.raisedAt - Self.t0)→\($0.clearedAt.map { "\($0 - Self.t0)" } ?? "open")"
                }
            }

            // The same raise twice: one alarm.
            let id = try #require(try await store.raiseAlarm(raise(Self.t0)))
            #expect(try await store.raiseAlarm(raise(Self.t0)) == nil)
            #expect(try await lifecycles() == ["0.0→open"])
            // Raise, clear, then the duplicate raise: still one alarm, cleared.
            #expect(try await clear(Self.t0 + 10))
            #expect(try await store.raiseAlarm(raise(Self.t0)) == nil, "a late duplicate raise reopened the alarm")
            #expect(try await lifecycles() == ["0.0→10.0"])
            #expect(try await store.alarms(route: nil, openOnly: true).isEmpty)
            // The duplicate clear: nothing.
            #expect(try await clear(Self.t0 + 10) == false)
            #expect(try await lifecycles() == ["0.0→10.0"])
            #expect(try await store.alarms(route: nil, openOnly: false).first?.id == id)

            // Instance A stores raise, clear and the next raise before instance B stores the first
            // raise and clear: B's copies change nothing, the second alarm stays open.
            #expect(try await store.raiseAlarm(raise(Self.t0 + 20)) != nil)    // A: raise
            #expect(try await clear(Self.t0 + 25))                              // A: clear
            #expect(try await store.raiseAlarm(raise(Self.t0 + 30)) != nil)    // A: raise again
            #expect(try await store.raiseAlarm(raise(Self.t0 + 20)) == nil)    // B: the first raise
            #expect(try await clear(Self.t0 + 25) == false, "a late duplicate clear cleared a later raise's alarm")
            #expect(try await lifecycles() == ["0.0→10.0", "20.0→25.0", "30.0→open"])
            #expect(try await clear(Self.t0 + 35))                              // A: the second clear
            #expect(try await store.raiseAlarm(raise(Self.t0 + 30)) == nil)    // B: the second raise
            #expect(try await clear(Self.t0 + 35) == false)                     // B: the second clear
            #expect(try await lifecycles() == ["0.0→10.0", "20.0→25.0", "30.0→35.0"])

            // A fault of the pole itself (no sensor) is keyed alike, apart from the sensor's.
            #expect(try await store.raiseAlarm(raise(Self.t0 + 20, sensor: nil)) != nil)
            #expect(try await store.raiseAlarm(raise(Self.t0 + 20, sensor: nil)) == nil)
            #expect(try await clear(Self.t0 + 40, sensor: nil))
            #expect(try await lifecycles(sensor: nil) == ["20.0→40.0"])
            #expect(try await lifecycles() == ["0.0→10.0", "20.0→25.0", "30.0→35.0"])
        }
    }

    /// Two instances storing the same faults at the same moment (PostgreSQL: two connections of
    /// one pool; SQLite: one writer at a time anyway).
    @Test("alarms: the same raises and clears stored concurrently by two writers give one alarm each", arguments: Backend.allCases)
    func alarmsStoredConcurrently(_ backend: Backend) async throws {
        try await Self.withStorage(backend) { store in
            let poles = (1...20).map { "C-\($0)" }
            // Each pole: raise at 0, clear at 5, raise at 10 (left open); both writers in this order.
            @Sendable func lifecycle(_ pole: String) async throws {
                let a = AlarmRecord(pole: pole, route: "r", code: "lamp-failure", raisedAt: Self.t0)
                _ = try await store.raiseAlarm(a)
                _ = try await store.clearAlarm(pole: pole, code: "lamp-failure", sensor: nil, at: Self.t0 + 5)
                var b = a
                b.raisedAt = Self.t0 + 10
                _ = try await store.raiseAlarm(b)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for pole in poles {
                    group.addTask { try await lifecycle(pole) }
                    group.addTask { try await lifecycle(pole) }
                }
                try await group.waitForAll()
            }
            let all = try await store.alarms(route: "r", openOnly: false)
            #expect(all.count == 2 * poles.count, "\(all.count) alarms for \(poles.count) poles × 2 raises")
            for pole in poles {
                let mine = all.filter { $0.pole == pole }.sorted { $0.raisedAt < $1.raisedAt }
                #expect(mine.map(\.raisedAt) == [Self.t0, Self.t0 + 10], "\(pole): \(mine)")
                #expect(mine.map(\.clearedAt) == [Self.t0 + 5, nil], "\(pole): \(mine)")
            }
        }
    }
}

extension StorageTests {
    @Test("users: listed by name; a change ends their sessions but the one kept; removed with their sessions", arguments: Backend.allCases)
    func userManagement(_ backend: Backend) async throws {
        try await Self.withStorage(backend) { store in
            for (name, role) in [("zoe", Role.viewer), ("ada", .admin)] {
                try await store.addUser(UserRecord(name: name, passwordHash: "h-\(name)", role: role))
            }
            #expect(try await store.users().map(\.name) == ["ada", "zoe"])
            let later = Self.t0 + 3600
            for token in ["s1", "s2"] {
                try await store.createSession(SessionRecord(tokenHash: token, user: "zoe", csrf: "c", expiresAt: later))
            }
            #expect(try await store.updateUser(named: "zoe", role: .engineer, passwordHash: nil, keepSession: "s2"))
            #expect(try await store.user(named: "zoe")?.role == .engineer)
            #expect(try await store.user(named: "zoe")?.passwordHash == "h-zoe")
            #expect(try await store.session(tokenHash: "s1", at: Self.t0) == nil)
            #expect(try await store.session(tokenHash: "s2", at: Self.t0) != nil)
            #expect(try await store.updateUser(named: "zoe", role: nil, passwordHash: "h2", keepSession: nil))
            #expect(try await store.session(tokenHash: "s2", at: Self.t0) == nil)
            #expect(try await store.user(named: "zoe")?.passwordHash == "h2")
            #expect(try await store.updateUser(named: "nobody", role: .admin, passwordHash: nil, keepSession: nil) == false)
            try await store.createSession(SessionRecord(tokenHash: "s3", user: "zoe", csrf: "c", expiresAt: later))
            #expect(try await store.deleteUser(named: "zoe"))
            #expect(try await store.deleteUser(named: "zoe") == false)
            #expect(try await store.user(named: "zoe") == nil)
            #expect(try await store.session(tokenHash: "s3", at: Self.t0) == nil)
            #expect(try await store.users().map(\.name) == ["ada"])
        }
    }
}
