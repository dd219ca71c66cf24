import CentralCore
import Hummingbird
import LightCore

/// A rollout as the API and the UI show it.
public struct RolloutView: ResponseEncodable {
    public struct Pole: Encodable, Sendable {
        var pole: String
        var progress: String
        var reason: String?
    }

    /// The rollout's number: a later rollout has a larger one (nil only before it is stored).
    var id: Int64?
    var route: String
    var version: Int
    var state: String
    var reason: String?
    var canaries: [String]
    var applied: Int
    var poles: [Pole]
    var createdBy: String
    var createdAt: String
    var soakSeconds: Double
    var ackTimeoutSeconds: Double
    /// While canaries are awaited: when the rollout halts if one has not applied the version.
    var ackDeadline: String?
    /// While soaking: when the rest of the route gets the version.
    var soakUntil: String?

    init(_ record: RolloutRecord) {
        let r = record.rollout
        id = record.id
        route = r.plan.route
        version = r.plan.version
        switch r.state {
        case .planned: state = "planned"
        case let .canary(since): state = "canary"; ackDeadline = (since + r.plan.ackTimeoutSeconds).description
        case let .soaking(until): state = "soaking"; soakUntil = until.description
        case .rollingOut: state = "rolling-out"
        case .completed: state = "completed"
        case let .halted(why, _): state = "halted"; reason = why
        }
        canaries = r.plan.canaries
        applied = r.appliedCount
        poles = r.plan.poles.map { pole in
            switch r.progress[pole] ?? .waiting {
            case .waiting: Pole(pole: pole, progress: "waiting")
            case .sent: Pole(pole: pole, progress: "sent")
            case .applied: Pole(pole: pole, progress: "applied")
            case let .rejected(reason): Pole(pole: pole, progress: "rejected", reason: reason)
            }
        }
        createdBy = record.createdBy
        createdAt = record.createdAt.description
        soakSeconds = r.plan.soakSeconds
        ackTimeoutSeconds = r.plan.ackTimeoutSeconds
    }
}
