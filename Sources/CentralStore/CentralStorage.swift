import CentralCore
import LightCore

/// Everything the control plane stores, behind one interface with two implementations:
/// `SQLiteStorage` (GRDB, a file: the embedded default) and `PostgresStorage` (postgres-nio, for
/// several control-plane instances on one database). Both run the same versioned migrations on
/// open and pass the same test suite.
public protocol CentralStorage: Sendable {
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

    // MARK: Rollouts

    /// Stores a new rollout and returns its id.
    func createRollout(_ record: RolloutRecord) async throws -> Int64
    /// Stores the rollout's new state.
    func updateRollout(id: Int64, _ rollout: Rollout, at: Instant) async throws
    /// The route's most recent rollout.
    func latestRollout(route: String) async throws -> RolloutRecord?
    /// Rollouts neither completed nor halted, oldest first (to resume after a restart).
    func unfinishedRollouts() async throws -> [RolloutRecord]

    // MARK: Sessions (the token itself is never stored, only its hash)

    func createSession(_ session: SessionRecord) async throws
    /// The session with this token hash if it has not expired at `now`.
    func session(tokenHash: String, at now: Instant) async throws -> SessionRecord?
    func deleteSession(tokenHash: String) async throws

    // MARK: Poles

    func savePoleSnapshot(_ snapshot: PoleSnapshot) async throws
    func poleSnapshots(route: String) async throws -> [PoleSnapshot]
    func poleSnapshot(_ pole: String) async throws -> PoleSnapshot?
}

/// Why a storage call failed, beyond the database's own errors.
public enum StorageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The thing exists already (a profile version, a user).
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
