import CentralCore
import LightCore

/// Everything the control plane stores, behind one interface with two implementations:
/// `SQLiteStorage` (GRDB, a file: the embedded default) and `PostgresStorage` (postgres-nio, for
/// several control-plane instances on one database). Both run the same versioned migrations on
/// open and pass the same test suite.
public protocol CentralStorage: Sendable {
    /// Ends the storage's connections (PostgreSQL's pool; nothing to do for a SQLite file).
    func close() async

    // MARK: Profile versions (immutable; the route record follows the latest)

    /// Stores a new version. Fails with `StorageError.conflict` if the route already has it.
    func addProfileVersion(_ record: ProfileVersionRecord, route: RouteRecord) async throws
    func profileVersion(route: String, version: Int) async throws -> ProfileVersionRecord?
    /// All versions of a route, newest first.
    func profileVersions(route: String) async throws -> [ProfileVersionRecord]
    func routes() async throws -> [RouteRecord]
    func route(_ id: String) async throws -> RouteRecord?

    // MARK: Audit log (append-only)

    func appendAudit(_ entry: AuditEntry) async throws
    /// The newest `limit` entries, newest first.
    func audit(limit: Int) async throws -> [AuditEntry]

    // MARK: Users

    func addUser(_ user: UserRecord) async throws
    func user(named name: String) async throws -> UserRecord?
    /// Every user, by name.
    func users() async throws -> [UserRecord]
    /// Changes a user's role and/or password hash, and ends all of the user's sessions. False if
    /// there is no such user. `keepSession` (a token hash) stays: the user changing their own password.
    func updateUser(named name: String, role: Role?, passwordHash: String?, keepSession: String?) async throws -> Bool
    /// Removes a user and the user's sessions. False if there is no such user.
    func deleteUser(named name: String) async throws -> Bool

    // MARK: Rollouts

    /// Stores a new rollout and returns its id.
    func createRollout(_ record: RolloutRecord) async throws -> Int64
    /// Stores the rollout's new state.
    func updateRollout(id: Int64, _ rollout: Rollout, at: Instant) async throws
    /// The route's most recent rollout.
    func latestRollout(route: String) async throws -> RolloutRecord?
    /// Rollouts neither completed nor halted, oldest first (to resume after a restart), with their
    /// owners, leases and halt requests.
    func unfinishedRollouts() async throws -> [RolloutRecord]
    /// Takes the unfinished rollout `id` for `owner` until `until`, if nobody else holds it at
    /// `now` (no owner, or a lease that has run out). False if another instance holds it.
    func claimRollout(id: Int64, owner: String, until: Instant, now: Instant) async throws -> Bool
    /// Extends `owner`'s leases of the rollouts `ids` to `until`; returns the ids it still holds
    /// (a rollout another instance took over after the lease ran out is no longer among them).
    func renewRolloutLeases(owner: String, ids: [Int64], until: Instant) async throws -> Set<Int64>
    /// Asks whoever runs the route's unfinished rollout to halt it; false if there is none.
    func requestRolloutHalt(route: String, request: String) async throws -> Bool

    // MARK: Telemetry (per quarter hour) and alarms

    /// Adds reports in one transaction, each shared out over the quarter hours it covers; a report
    /// stored before (same pole and start: a QoS 1 duplicate) adds nothing. Returns how many were new.
    func addTelemetry(_ reports: [TelemetryReport]) async throws -> Int
    /// Quarter hours in [from, to) of a route (all its poles summed) or of one pole, oldest first.
    func energy(route: String, from: Instant, to: Instant) async throws -> [EnergyBucket]
    func energy(pole: String, from: Instant, to: Instant) async throws -> [EnergyBucket]

    /// Opens an alarm; its id if opened. Nothing if one for the same pole, code and sensor is
    /// open, or if this raise was stored before (same pole, code, sensor and `raisedAt`, the
    /// pole's instant of the raise), also when that alarm has been cleared since: every instance
    /// stores every fault, in its own time, and a raise must give one alarm with one lifecycle.
    func raiseAlarm(_ alarm: AlarmRecord) async throws -> Int64?
    /// Clears the open alarm of this pole, code and sensor at `at` (the pole's instant of the
    /// clear); whether there was one. Nothing if this clear was stored before (an alarm of this
    /// pole, code and sensor was cleared at `at`): the alarm open now is a later raise's.
    func clearAlarm(pole: String, code: String, sensor: String?, at: Instant) async throws -> Bool
    /// Marks an alarm as seen by `user`; nil if there is no such alarm.
    func acknowledgeAlarm(id: Int64, by user: String, at: Instant) async throws -> AlarmRecord?
    /// Alarms of a route (or all), newest first; only open ones if `openOnly`.
    func alarms(route: String?, openOnly: Bool) async throws -> [AlarmRecord]

    // MARK: API tokens

    /// Fails with `StorageError.conflict` if a token of that name exists.
    func addToken(_ token: APITokenRecord) async throws
    func token(hash: String) async throws -> APITokenRecord?
    /// Whether there was a token of that name.
    func deleteToken(named name: String) async throws -> Bool

    // MARK: Sessions (the token itself is never stored, only its hash)

    func createSession(_ session: SessionRecord) async throws
    /// The session with this token hash if it has not expired at `now`.
    func session(tokenHash: String, at now: Instant) async throws -> SessionRecord?
    func deleteSession(tokenHash: String) async throws
    /// Removes the sessions that expired before `now`; how many.
    func deleteExpiredSessions(at now: Instant) async throws -> Int

    // MARK: Poles

    func savePoleSnapshot(_ snapshot: PoleSnapshot) async throws
    func poleSnapshots(route: String) async throws -> [PoleSnapshot]
    func poleSnapshot(_ pole: String) async throws -> PoleSnapshot?
}

/// Why a storage call failed, beyond the database's own errors.
public enum StorageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The thing exists already (a profile version, a user, an unfinished rollout of the route).
    case conflict(String)
    /// A URL or option the storage does not understand.
    case badConfiguration(String)

    public var description: String {
        switch self {
        case let .conflict(what): "already exists: \(what)"
        case let .badConfiguration(what): "storage configuration: \(what)"
        }
    }
}

extension CentralStorage {
    /// Adds one report (see `addTelemetry(_:)`); false if it was stored before.
    public func addTelemetry(_ report: TelemetryReport) async throws -> Bool {
        try await addTelemetry([report]) == 1
    }
}
