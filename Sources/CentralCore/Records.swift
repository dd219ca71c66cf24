import LightCore

// MARK: - What the control plane keeps

/// A route as the control plane knows it: from the latest profile version stored for it.
public struct RouteRecord: Hashable, Sendable, Codable {
    public var id: String
    public var name: String
    /// The route's poles in chainage order, from the latest profile version.
    public var poles: [String]

    public init(id: String, name: String, poles: [String]) {
        self.id = id
        self.name = name
        self.poles = poles
    }
}

/// One stored profile version. Immutable once stored: a change is a new version.
public struct ProfileVersionRecord: Hashable, Sendable, Codable {
    public var route: String
    public var version: Int
    /// The document exactly as the engineer wrote it (and as it was signed).
    public var document: String
    /// The signed bundle as published to the poles (`lichtweg.signed-profile/1` JSON).
    public var signedBundle: String
    public var author: String
    public var createdAt: Instant
    public var comment: String

    public init(route: String, version: Int, document: String, signedBundle: String, author: String,
                createdAt: Instant, comment: String) {
        self.route = route
        self.version = version
        self.document = document
        self.signedBundle = signedBundle
        self.author = author
        self.createdAt = createdAt
        self.comment = comment
    }
}

/// One entry of the append-only audit log: who did what, when.
public struct AuditEntry: Hashable, Sendable, Codable {
    public var id: Int64?
    public var at: Instant
    public var actor: String
    public var action: String
    /// What the action was about, e.g. `route brandis-beucha version 4`.
    public var subject: String
    public var detail: String

    public init(id: Int64? = nil, at: Instant, actor: String, action: String, subject: String, detail: String = "") {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.subject = subject
        self.detail = detail
    }
}

/// The latest state a pole reported, as the control plane shows it.
public struct PoleSnapshot: Hashable, Sendable, Codable {
    public var pole: String
    public var route: String
    public var online: Bool
    public var level: Double?
    public var state: String?
    public var profileVersion: Int?
    public var faults: [String]
    public var firmware: String?
    public var updatedAt: Instant

    public init(pole: String, route: String, online: Bool, level: Double? = nil, state: String? = nil,
                profileVersion: Int? = nil, faults: [String] = [], firmware: String? = nil, updatedAt: Instant) {
        self.pole = pole
        self.route = route
        self.online = online
        self.level = level
        self.state = state
        self.profileVersion = profileVersion
        self.faults = faults
        self.firmware = firmware
        self.updatedAt = updatedAt
    }
}

/// A user of the control plane.
public struct UserRecord: Hashable, Sendable, Codable {
    public var name: String
    /// bcrypt hash; never the password.
    public var passwordHash: String
    public var role: Role

    public init(name: String, passwordHash: String, role: Role) {
        self.name = name
        self.passwordHash = passwordHash
        self.role = role
    }

    /// Shortest password accepted, by the command line and the API alike.
    public static let minimumPasswordLength = 10
    public static let nameRule = "a user name is 1 to 64 letters, digits, '-', '_' or '.'"

    /// 1 to 64 ASCII letters, digits, `-`, `_`, `.`: safe in a log line, an audit subject and a URL.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }
}

/// A rollout as stored: the state machine itself (plan, state, every pole's progress) and who
/// started it. Stored after every change, so that a restarted control plane resumes it.
public struct RolloutRecord: Hashable, Sendable {
    public var id: Int64?
    public var rollout: Rollout
    public var createdBy: String
    public var createdAt: Instant
    public var updatedAt: Instant
    /// The control-plane instance that runs the rollout, while its lease lasts (several instances
    /// share one database; the one that runs a rollout renews the lease, another takes the
    /// rollout over once it has run out).
    public var owner: String?
    public var leaseUntil: Instant?
    /// A halt asked for at another instance, for the owner to carry out ("halted by …: reason").
    public var haltRequest: String?

    public init(id: Int64? = nil, rollout: Rollout, createdBy: String, createdAt: Instant, updatedAt: Instant,
                owner: String? = nil, leaseUntil: Instant? = nil, haltRequest: String? = nil) {
        self.id = id
        self.rollout = rollout
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.owner = owner
        self.leaseUntil = leaseUntil
        self.haltRequest = haltRequest
    }
}

/// A token for a machine (a script, a monitoring system): a name, a role, and the SHA-256 of the
/// token, which is shown once when it is made and never stored.
public struct APITokenRecord: Hashable, Sendable {
    public var tokenHash: String
    public var name: String
    public var role: Role
    public var createdBy: String
    public var createdAt: Instant

    public init(tokenHash: String, name: String, role: Role, createdBy: String, createdAt: Instant) {
        self.tokenHash = tokenHash
        self.name = name
        self.role = role
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

/// A logged-in browser session. The cookie carries a random token; the control plane keeps only
/// its SHA-256, so a copy of the database does not let anyone in.
public struct SessionRecord: Hashable, Sendable {
    public var tokenHash: String
    public var user: String
    /// Sent back by the UI in a header on every change (CSRF protection).
    public var csrf: String
    public var expiresAt: Instant

    public init(tokenHash: String, user: String, csrf: String, expiresAt: Instant) {
        self.tokenHash = tokenHash
        self.user = user
        self.csrf = csrf
        self.expiresAt = expiresAt
    }
}

/// What a user may do. Each role includes the ones before it.
public enum Role: String, Hashable, Sendable, Codable, CaseIterable, Comparable {
    /// Sees routes, poles, energy, alarms, the audit log.
    case viewer
    /// Also edits profiles, rolls them out and back, sets overrides, acknowledges alarms.
    case engineer
    /// Also manages users and API tokens.
    case admin

    public static func < (a: Role, b: Role) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// A fault of a pole as the Bauhof sees it: raised, perhaps acknowledged, eventually cleared.
public struct AlarmRecord: Hashable, Sendable, Codable {
    public var id: Int64?
    public var pole: String
    public var route: String
    /// The pole's fault code (`lamp-failure`, `stuck-sensor`, …).
    public var code: String
    public var sensor: String?
    public var detail: String?
    public var raisedAt: Instant
    public var acknowledgedAt: Instant?
    public var acknowledgedBy: String?
    public var clearedAt: Instant?

    public init(id: Int64? = nil, pole: String, route: String, code: String, sensor: String? = nil, detail: String? = nil,
                raisedAt: Instant, acknowledgedAt: Instant? = nil, acknowledgedBy: String? = nil, clearedAt: Instant? = nil) {
        self.id = id
        self.pole = pole
        self.route = route
        self.code = code
        self.sensor = sensor
        self.detail = detail
        self.raisedAt = raisedAt
        self.acknowledgedAt = acknowledgedAt
        self.acknowledgedBy = acknowledgedBy
        self.clearedAt = clearedAt
    }

    public var isOpen: Bool { clearedAt == nil }
}

/// One quarter hour of a route's (or a pole's) telemetry.
public struct EnergyBucket: Hashable, Sendable, Codable {
    public var bucket: Instant
    public var energyWh: Double
    public var detections: Int
    /// Pole-seconds lit in the quarter hour (summed over the poles of a route).
    public var litSeconds: Double
    /// The poles' levels integrated over the quarter hour, in percent-seconds.
    public var levelPercentSeconds: Double

    public init(bucket: Instant, energyWh: Double, detections: Int, litSeconds: Double = 0, levelPercentSeconds: Double = 0) {
        self.bucket = bucket
        self.energyWh = energyWh
        self.detections = detections
        self.litSeconds = litSeconds
        self.levelPercentSeconds = levelPercentSeconds
    }

    /// The mean level while lit, in percent; nil when nothing was lit.
    public var meanLitLevelPercent: Double? {
        litSeconds > 0 ? levelPercentSeconds / litSeconds : nil
    }
}
