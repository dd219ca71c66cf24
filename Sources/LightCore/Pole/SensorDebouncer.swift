/// Debounces one presence sensor's edges.
///
/// The first edge after a quiet period is accepted at once — latency from a road user to light
/// matters more than anything — and further edges within `window` are held back. When the window
/// ends, the line's last raw state is accepted if it differs, so a real change is never lost, only
/// delayed by at most one window.
public struct SensorDebouncer: Hashable, Sendable {
    public private(set) var rawActive = false
    public private(set) var active = false
    public private(set) var lastAccepted = Instant.distantPast
    /// Edges swallowed as bounce.
    public private(set) var bounces = 0
    public let window: Double

    public init(window: Double, active: Bool = false, since: Instant = .distantPast) {
        self.window = window
        self.active = active
        self.rawActive = active
        self.lastAccepted = since
    }

    /// Feeds a raw edge. Returns the accepted new state if the edge is accepted now.
    public mutating func edge(active newRaw: Bool, at now: Instant) -> Bool? {
        if newRaw == rawActive {
            // A repeated level (e.g. an edge the kernel merged with its twin): nothing changed.
            return nil
        }
        rawActive = newRaw
        if now >= lastAccepted + window && newRaw != active {
            return accept(newRaw, at: now)
        }
        bounces += 1
        return nil
    }

    /// When a held-back state must be looked at again, if any. (Comparisons use this same sum,
    /// never a difference, so a timer armed for it always finds the window over.)
    public var pendingDeadline: Instant? {
        rawActive != active ? lastAccepted + window : nil
    }

    /// Call at or after `pendingDeadline`. Returns the accepted new state, if any.
    public mutating func settle(at now: Instant) -> Bool? {
        guard rawActive != active, now >= lastAccepted + window else { return nil }
        // The held-back edge was real, not bounce.
        bounces -= 1
        return accept(rawActive, at: now)
    }

    /// Moves stored instants with a wall-clock step.
    public mutating func shift(by seconds: Double) {
        if lastAccepted != .distantPast { lastAccepted = lastAccepted + seconds }
    }

    private mutating func accept(_ value: Bool, at now: Instant) -> Bool {
        active = value
        lastAccepted = now
        return value
    }
}
