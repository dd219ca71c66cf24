import PoleLink

/// Telemetry reports sent but not yet confirmed stored by the control plane.
///
/// The broker's PUBACK only says the broker has a report: libmosquitto on the control plane's
/// side acknowledges before the report is in the database, so a control plane killed at that
/// moment loses it. The control plane therefore sends a receipt after storing; a report without
/// one is sent again, later each time (`resendAfter`, doubling up to `maxResendInterval`), until
/// a receipt names it or, the list being full, it is the oldest and makes room (counted).
///
/// Resending starts only once some receipt has come: a control plane that sends none (an older
/// version) would otherwise get every report again and again.
public struct UnconfirmedTelemetry: Sendable {
    public struct Entry: Sendable {
        /// The report's `from` in milliseconds: what a receipt names.
        public var key: Int64
        public var message: MQTTMessage
        /// Monotonic seconds of the next send.
        public var due: Double
        public var sends: Int
    }

    public let capacity: Int
    /// Seconds from a send to the first resend.
    public let resendAfter: Double
    public let maxResendInterval: Double
    public private(set) var entries: [Entry] = []
    /// Reports pushed out unconfirmed because the list was full.
    public private(set) var dropped = 0
    /// Reports sent again.
    public private(set) var resent = 0
    /// Whether any receipt has come since start (see the type's description).
    public private(set) var receiptsSeen = false

    public init(capacity: Int, resendAfter: Double, maxResendInterval: Double = 3600) {
        precondition(capacity > 0 && resendAfter > 0)
        self.capacity = capacity
        self.resendAfter = resendAfter
        self.maxResendInterval = max(resendAfter, maxResendInterval)
    }

    public static func key(_ seconds: Double) -> Int64 { Int64((seconds * 1000).rounded()) }

    public var count: Int { entries.count }

    /// A report has just been sent for the first time.
    public mutating func sent(_ message: MQTTMessage, from seconds: Double, at now: Double) {
        if entries.count == capacity {
            entries.removeFirst()
            dropped += 1
        }
        entries.append(Entry(key: Self.key(seconds), message: message, due: now + resendAfter, sends: 1))
    }

    /// A receipt: forgets the reports it names. Returns how many were waiting.
    @discardableResult
    public mutating func confirm(_ froms: [Double]) -> Int {
        receiptsSeen = true
        let keys = Set(froms.map(Self.key))
        let before = entries.count
        entries.removeAll { keys.contains($0.key) }
        return before - entries.count
    }

    /// The reports to send again now (at most `limit`, oldest first); each is due again later.
    public mutating func due(at now: Double, limit: Int = 100) -> [MQTTMessage] {
        guard receiptsSeen else { return [] }
        var out: [MQTTMessage] = []
        for i in entries.indices where entries[i].due <= now {
            guard out.count < limit else { break }
            out.append(entries[i].message)
            let interval = min(resendAfter * Double(1 << min(entries[i].sends, 20)), maxResendInterval)
            entries[i].sends += 1
            entries[i].due = now + interval
        }
        resent += out.count
        return out
    }
}
