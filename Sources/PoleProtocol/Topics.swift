/// The MQTT topics of one route, version 1 (`docs/mqtt.md`).
///
/// Everything a pole says is under `lichtweg/v1/pole/<pole>/…`; what concerns the whole route
/// (its signed profile, the detection notices poles send each other) is under
/// `lichtweg/v1/route/<route>/…`.
public struct Topics: Hashable, Sendable {
    public static let root = "lichtweg/v1"

    public let route: String

    public init(route: String) {
        self.route = route
    }

    // MARK: - Route

    /// Retained: the route's signed profile (`SignedProfile`), published by the control plane.
    public var profile: String { "\(Self.root)/route/\(route)/profile" }

    /// Detection notices of `pole` for its neighbours (`DetectionPayload`, QoS 0, best effort).
    public func detection(from pole: String) -> String { "\(Self.root)/route/\(route)/detection/\(pole)" }

    /// Wildcard over all poles' detection notices of the route (for the control plane's counts).
    public var allDetections: String { "\(Self.root)/route/\(route)/detection/+" }

    // MARK: - Pole

    /// Retained: `OnlinePayload` — the birth message, and the broker's last will when the pole is gone.
    public static func online(_ pole: String) -> String { "\(root)/pole/\(pole)/online" }
    /// Retained: the pole's present state (`StatePayload`).
    public static func state(_ pole: String) -> String { "\(root)/pole/\(pole)/state" }
    /// Periodic energy and presence counts (`TelemetryPayload`).
    public static func telemetry(_ pole: String) -> String { "\(root)/pole/\(pole)/telemetry" }
    /// Faults raised and cleared (`FaultPayload`, QoS 1, queued while offline).
    public static func fault(_ pole: String) -> String { "\(root)/pole/\(pole)/fault" }
    /// Answers to profiles (`ProfileAckPayload`, QoS 1, queued while offline).
    public static func profileAck(_ pole: String) -> String { "\(root)/pole/\(pole)/profile-ack" }
    /// Retained, to the pole: a signed profile for this pole alone (`SignedProfile`), the canary
    /// stage of a rollout. The pole takes the newer of this and the route's; an empty retained
    /// message (the control plane clearing it once the route's topic carries the version) is ignored.
    public static func poleProfile(_ pole: String) -> String { "\(root)/pole/\(pole)/profile" }
    /// To the pole: which of its telemetry reports the control plane has stored
    /// (`TelemetryReceiptPayload`, QoS 1).
    public static func telemetryReceipt(_ pole: String) -> String { "\(root)/pole/\(pole)/telemetry-receipt" }
    /// Retained, to the pole: a manual override (`OverridePayload`); an empty retained message or
    /// `level: null` clears it.
    public static func override(_ pole: String) -> String { "\(root)/pole/\(pole)/override" }

    /// Whether `id` can be a topic level: MQTT gives `/`, `+` and `#` a meaning, and an empty
    /// level or a NUL would make a different topic.
    public static func isValidLevel(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64 && !id.contains(where: { "/+#\u{0}".contains($0) || $0.isWhitespace })
    }
}
