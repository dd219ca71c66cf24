import LightCore

/// A staged rollout of one signed profile version to the poles of a route.
///
/// First the canary poles get the version on their own topics; when every canary has applied it
/// and stayed healthy for the soak time, the whole route gets it on the route's retained topic. A
/// rejection of the version by any pole, a fault newly raised by a pole that runs it, a canary that
/// does not answer in time, or an operator halts it. Pure: time is a parameter, and what to publish
/// comes back as actions.
public struct Rollout: Hashable, Sendable, Codable {
    /// What to roll out and how.
    public struct Plan: Hashable, Sendable, Codable {
        public var route: String
        public var version: Int
        /// Every pole of the route, as the profile lists them.
        public var poles: [String]
        /// The poles that get the version first (a subset of `poles`; empty: straight to all).
        public var canaries: [String]
        /// How long every canary must stay healthy after applying before the rest follow.
        public var soakSeconds: Double
        /// How long a canary may take to acknowledge before the rollout halts.
        public var ackTimeoutSeconds: Double

        public init(route: String, version: Int, poles: [String], canaries: [String],
                    soakSeconds: Double = 600, ackTimeoutSeconds: Double = 300) {
            self.route = route
            self.version = version
            self.poles = poles
            self.canaries = canaries
            self.soakSeconds = soakSeconds
            self.ackTimeoutSeconds = ackTimeoutSeconds
        }

        /// A week: longer, and the canaries' health says nothing about the version any more.
        public static let longestSoak = 7 * 86_400.0
        /// A day: a canary that has not answered by then is not coming back soon.
        public static let longestAckTimeout = 86_400.0

        /// Problems that make the plan impossible, in words for the engineer.
        public var problems: [String] {
            var problems: [String] = []
            if poles.isEmpty { problems.append("the route has no poles") }
            let unknown = canaries.filter { !poles.contains($0) }
            if !unknown.isEmpty { problems.append("canaries not on the route: \(unknown.joined(separator: ", "))") }
            if Set(canaries).count != canaries.count { problems.append("a canary is named twice") }
            if !canaries.isEmpty && Set(canaries) == Set(poles) {
                problems.append("every pole is a canary: leave some poles for the second stage")
            }
            if !(0...Self.longestSoak).contains(soakSeconds) {
                problems.append("soakSeconds must be 0 to \(Int(Self.longestSoak)) (7 days)")
            }
            if !(ackTimeoutSeconds > 0 && ackTimeoutSeconds <= Self.longestAckTimeout) {
                problems.append("ackTimeoutSeconds must be more than 0 and at most \(Int(Self.longestAckTimeout)) (1 day)")
            }
            return problems
        }
    }

    /// Where one pole stands in the rollout.
    public enum PoleProgress: Hashable, Sendable, Codable {
        case waiting
        case sent(at: Instant)
        case applied(at: Instant)
        case rejected(reason: String)
    }

    public enum State: Hashable, Sendable, Codable {
        /// Planned, nothing sent yet.
        case planned
        /// Sent to the canaries; waiting for all of them to apply it.
        case canary(since: Instant)
        /// Every canary applied it; the rest follow at `until` if nothing goes wrong.
        case soaking(until: Instant)
        /// Sent to the whole route; waiting for every pole to apply it.
        case rollingOut(since: Instant)
        case completed(at: Instant)
        case halted(reason: String, at: Instant)

        /// Completed or halted: nothing more happens.
        public var isFinished: Bool {
            switch self {
            case .completed, .halted: true
            default: false
            }
        }
    }

    public enum Event: Hashable, Sendable {
        case start
        /// A pole's profile acknowledgement: the version it was about, whether it applied it, and
        /// the version in force afterwards (a pole that already runs the version says `not-newer`,
        /// which is as good as applied).
        case ack(pole: String, version: Int, applied: Bool, versionInForce: Int?, reason: String?)
        case faultRaised(pole: String, code: String)
        case timer
        /// An operator stops the rollout.
        case halt(reason: String)
    }

    public enum Action: Hashable, Sendable {
        /// Publish the signed version to these poles' own profile topics (retained).
        case sendToPoles([String])
        /// Publish the signed version to the route's profile topic (retained).
        case sendToRoute
        /// Remove the retained version from these poles' own topics: the route's topic carries it.
        case clearPoleTopics([String])
        /// Deliver `.timer` at this instant (replaces an armed timer).
        case armTimer(Instant)
        /// The state changed; store it (and say so to whoever watches).
        case record(State)
    }

    public let plan: Plan
    public private(set) var state: State = .planned {
        didSet { revision &+= 1 }
    }
    /// Each pole's progress. Changed only through `set(_:_:)`, which keeps `appliedCount`.
    public private(set) var progress: [String: PoleProgress]
    /// Poles that have applied the version: kept as progress changes, since a route of 10,000
    /// poles would otherwise count them all again at every acknowledgement.
    public private(set) var appliedCount = 0
    /// Grows with every change of state or progress: whoever runs the machine sees in O(1)
    /// whether an event changed anything (comparing whole rollouts was O(poles) per event).
    /// Not stored, and not part of equality.
    public private(set) var revision = 0

    public init(plan: Plan) {
        self.plan = plan
        progress = Dictionary(plan.poles.map { ($0, PoleProgress.waiting) }, uniquingKeysWith: { a, _ in a })
    }

    private mutating func set(_ pole: String, _ new: PoleProgress) {
        let old = progress.updateValue(new, forKey: pole)
        if case .applied = old { appliedCount -= 1 }
        if case .applied = new { appliedCount += 1 }
        revision &+= 1
    }

    // MARK: - Stored form and equality (plan, state, progress)

    private enum CodingKeys: String, CodingKey { case plan, state, progress }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        plan = try c.decode(Plan.self, forKey: .plan)
        state = try c.decode(State.self, forKey: .state)
        progress = try c.decode([String: PoleProgress].self, forKey: .progress)
        appliedCount = progress.values.filter { if case .applied = $0 { true } else { false } }.count
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(plan, forKey: .plan)
        try c.encode(state, forKey: .state)
        try c.encode(progress, forKey: .progress)
    }

    public static func == (a: Rollout, b: Rollout) -> Bool {
        a.plan == b.plan && a.state == b.state && a.progress == b.progress
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(plan)
        hasher.combine(state)
        hasher.combine(progress)
    }

    // MARK: - Events

    public mutating func handle(_ event: Event, at now: Instant) -> [Action] {
        guard !state.isFinished else { return [] }
        switch event {
        case .start:
            guard state == .planned else { return [] }
            if plan.canaries.isEmpty { return rollOut(at: now) }
            for pole in plan.canaries { set(pole, .sent(at: now)) }
            state = .canary(since: now)
            return [.sendToPoles(plan.canaries), .armTimer(now + plan.ackTimeoutSeconds), .record(state)]

        case let .ack(pole, version, applied, versionInForce, reason):
            guard state != .planned, progress[pole] != nil else { return [] }
            if let inForce = versionInForce, inForce >= plan.version {
                if case .applied = progress[pole] { return [] }
                set(pole, .applied(at: now))
                return advance(at: now)
            }
            guard version == plan.version, !applied else { return [] }
            let why = reason ?? "no reason given"
            set(pole, .rejected(reason: why))
            return halt("pole \(pole) rejected version \(plan.version): \(why)", at: now)

        case let .faultRaised(pole, code):
            // Only a pole that runs the new version can have been harmed by it.
            guard case .applied = progress[pole] else { return [] }
            return halt("pole \(pole) raised \(code) after applying version \(plan.version)", at: now)

        case .timer:
            switch state {
            case let .canary(since) where now >= since + plan.ackTimeoutSeconds:
                let silent = plan.canaries.filter { if case .applied = progress[$0] { false } else { true } }
                return halt("canar\(silent.count == 1 ? "y" : "ies") \(silent.joined(separator: ", ")) did not apply "
                            + "version \(plan.version) within \(Int(plan.ackTimeoutSeconds)) s", at: now)
            case let .soaking(until) where now >= until:
                return rollOut(at: now)
            default:
                return []
            }

        case let .halt(reason):
            return halt(reason, at: now)
        }
    }

    // MARK: - Transitions

    private mutating func advance(at now: Instant) -> [Action] {
        switch state {
        case .canary:
            let allApplied = plan.canaries.allSatisfy { if case .applied = progress[$0] { true } else { false } }
            guard allApplied else { return [] }
            state = .soaking(until: now + plan.soakSeconds)
            return [.armTimer(now + plan.soakSeconds), .record(state)]
        case .rollingOut:
            guard appliedCount == plan.poles.count else { return [] }
            state = .completed(at: now)
            return (plan.canaries.isEmpty ? [] : [.clearPoleTopics(plan.canaries)]) + [.record(state)]
        default:
            return []
        }
    }

    private mutating func rollOut(at now: Instant) -> [Action] {
        for pole in plan.poles where progress[pole] == .waiting { set(pole, .sent(at: now)) }
        state = .rollingOut(since: now)
        // Canaries that applied already count; a route whose poles all did is done at once.
        return [.sendToRoute, .record(state)] + advance(at: now)
    }

    private mutating func halt(_ reason: String, at now: Instant) -> [Action] {
        state = .halted(reason: reason, at: now)
        return [.record(state)]
    }
}
