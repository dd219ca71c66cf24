import LightCore

// MARK: - Pole → everyone

/// The retained birth message of a pole, and (with `online: false`) its last will.
public struct OnlinePayload: Payload, Hashable {
    public static let schema = "lichtweg.online/1"
    public var schema: String = Self.schema
    public var pole: String
    public var online: Bool
    public var firmware: String?
    /// When the pole said it; absent in the last will (the broker sends it, at an unknown time).
    public var at: Timestamp?

    public init(pole: String, online: Bool, firmware: String?, at: Timestamp?) {
        self.pole = pole
        self.online = online
        self.firmware = firmware
        self.at = at
    }
}

/// The retained state of a pole, sent whenever it changes.
public struct StatePayload: Payload, Hashable {
    public static let schema = "lichtweg.state/1"
    public var schema: String = Self.schema
    public var pole: String
    public var route: String
    /// `failsafe`, `day`, `base`, `boosted`, `degraded` or `overridden`.
    public var state: String
    /// Why the pole is in failsafe (`noProfile`, `poleNotInProfile`, `clockUntrusted`).
    public var failsafeReason: String?
    /// Commanded level in percent.
    public var level: Double
    public var program: String?
    /// Version of the profile in force; nil while the built-in failsafe program runs.
    public var profileVersion: Int?
    /// Fault codes in force (see `FaultPayload.code`).
    public var faults: [String]
    public var uptimeSeconds: Double
    public var firmware: String
    public var at: Timestamp
    /// Faults and acknowledgements dropped since start because the outbox was full while offline.
    public var droppedMessages: Int

    public init(pole: String, route: String, state: String, failsafeReason: String?, level: Double,
                program: String?, profileVersion: Int?, faults: [String], uptimeSeconds: Double,
                firmware: String, at: Timestamp, droppedMessages: Int = 0) {
        self.pole = pole
        self.route = route
        self.state = state
        self.failsafeReason = failsafeReason
        self.level = level
        self.program = program
        self.profileVersion = profileVersion
        self.faults = faults
        self.uptimeSeconds = uptimeSeconds
        self.firmware = firmware
        self.at = at
        self.droppedMessages = droppedMessages
    }
}

/// Periodic telemetry: an energy counter and presence counts. Counts only: no presence event,
/// time of passage or anything else about a road user leaves the pole.
public struct TelemetryPayload: Payload, Hashable {
    public static let schema = "lichtweg.telemetry/1"
    public var schema: String = Self.schema
    public var pole: String
    /// The interval the counts are for.
    public var from: Timestamp
    public var to: Timestamp
    /// Energy used since the controller started, in Wh (a counter: the control plane takes differences).
    public var energyWh: Double
    /// Energy used in this interval, in Wh.
    public var intervalEnergyWh: Double
    /// Presence detections (debounced rising edges, all sensors) in this interval.
    public var detections: Int
    /// Raw sensor edges read from the lines in this interval, all sensors: with `repeatedEdges`
    /// and `bounces` the account of every edge (see `SensorEdgeCounts`).
    public var edges: Int
    /// Edges that repeated the line's level (their twin was dropped before the pole read it).
    public var repeatedEdges: Int
    /// Edges swallowed as bounce by the debouncer.
    public var bounces: Int
    /// Commanded level at the end of the interval, percent.
    public var level: Double
    /// Seconds of the interval the lamp was lit (absent from firmware before it was reported).
    public var litSeconds: Double?
    /// The lamp's output integrated over the interval, in percent-seconds: the level time, from
    /// which the control plane derives the mean level (absent from older firmware).
    public var levelPercentSeconds: Double?

    public init(pole: String, from: Timestamp, to: Timestamp, energyWh: Double, intervalEnergyWh: Double,
                detections: Int, edges: SensorEdgeCounts = SensorEdgeCounts(), level: Double,
                litSeconds: Double? = nil, levelPercentSeconds: Double? = nil) {
        self.litSeconds = litSeconds
        self.levelPercentSeconds = levelPercentSeconds
        self.pole = pole
        self.from = from
        self.to = to
        self.energyWh = energyWh
        self.intervalEnergyWh = intervalEnergyWh
        self.detections = detections
        self.edges = edges.edges
        self.repeatedEdges = edges.repeated
        self.bounces = edges.bounced
        self.level = level
    }
}

/// A fault raised or cleared.
public struct FaultPayload: Payload, Hashable {
    public static let schema = "lichtweg.fault/1"
    public var schema: String = Self.schema
    public var pole: String
    /// `stuck-sensor`, `sensor-failure`, `lamp-failure`, `clock-invalid`, `no-profile`,
    /// `pole-not-in-profile`, `profile-rejected`, `output-failure`.
    public var code: String
    /// The sensor concerned, if any.
    public var sensor: String?
    /// true: raised; false: cleared.
    public var active: Bool
    public var detail: String?
    public var at: Timestamp

    public init(pole: String, code: String, sensor: String?, active: Bool, detail: String?, at: Timestamp) {
        self.pole = pole
        self.code = code
        self.sensor = sensor
        self.active = active
        self.detail = detail
        self.at = at
    }
}

/// The pole's answer to a profile it received.
public struct ProfileAckPayload: Payload, Hashable {
    public static let schema = "lichtweg.profile-ack/1"
    public var schema: String = Self.schema
    public var pole: String
    public var route: String?
    public var version: Int?
    /// `applied` or `rejected`.
    public var result: String
    /// Why it was rejected (a stable code, see `ProfileRejection.code`) …
    public var reason: String?
    /// … and what exactly was wrong, for a person.
    public var detail: String?
    /// The version in force after this answer.
    public var versionInForce: Int?
    public var at: Timestamp

    public init(pole: String, route: String?, version: Int?, result: String, reason: String?, detail: String?,
                versionInForce: Int?, at: Timestamp) {
        self.pole = pole
        self.route = route
        self.version = version
        self.result = result
        self.reason = reason
        self.detail = detail
        self.versionInForce = versionInForce
        self.at = at
    }
}

// MARK: - Pole ↔ pole

/// A pole's detection notice for its neighbours (`DetectionNotice` on the wire).
public struct DetectionPayload: Payload, Hashable {
    public static let schema = "lichtweg.detection/1"
    public var schema: String = Self.schema
    public var pole: String
    public var direction: TravelDirection?
    /// m/s.
    public var speed: Double?
    public var at: Timestamp

    public init(_ notice: DetectionNotice) {
        pole = notice.pole
        direction = notice.direction
        speed = notice.speed.flatMap { $0.isFinite && $0 >= 0 ? $0 : nil }
        at = Timestamp(notice.at)
    }

    /// The notice, or nil if it makes no sense (negative or absurd speed).
    public var notice: DetectionNotice? {
        if let speed, !(speed.isFinite && speed >= 0 && speed < 100) { return nil }
        return DetectionNotice(pole: pole, direction: direction, speed: speed, at: at.instant)
    }
}

// MARK: - Control plane → pole

/// A manual override of one pole's level (roadworks, an accident, an event).
public struct OverridePayload: Payload, Hashable {
    public static let schema = "lichtweg.override/1"
    public var schema: String = Self.schema
    /// Percent, 0…100; nil clears the override.
    public var level: Double?
    /// When it ends by itself; nil: until cleared.
    public var until: Timestamp?
    public var reason: String?

    public init(level: Double?, until: Timestamp?, reason: String?) {
        self.level = level
        self.until = until
        self.reason = reason
    }

    /// The override, nil for "clear"; throws for a level outside 0…100.
    public func override() throws(PayloadError) -> ManualOverride? {
        guard let level else { return nil }
        guard level.isFinite, (0...100).contains(level) else { throw .invalid("level: \(level) is outside 0…100") }
        return ManualOverride(level: DimLevel(percent: level), until: until?.instant, reason: reason ?? "")
    }
}

/// The control plane's receipt for telemetry it has stored (or already had): the `from` of each
/// report, to the pole that sent them. libmosquitto acknowledges a message to the broker before
/// the control plane has stored it, so the broker's PUBACK alone does not mean "stored"; a pole
/// that gets no receipt sends the report again (the control plane ignores duplicates).
public struct TelemetryReceiptPayload: Payload, Hashable {
    public static let schema = "lichtweg.telemetry-receipt/1"
    public var schema: String = Self.schema
    public var pole: String
    /// The `from` of every report stored, as the pole sent it.
    public var reports: [Timestamp]

    public init(pole: String, reports: [Timestamp]) {
        self.pole = pole
        self.reports = reports
    }
}
