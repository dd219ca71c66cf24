/// What became of the raw edges of a pole's presence sensors: the accounting that shows no edge
/// was lost between the sensor line and the state machine.
///
/// Every edge is exactly one of: a level change the debouncer accepted (at once or when its
/// window ended), a bounce it swallowed, or a repeat of the line's level (the edge's twin never
/// arrived: the kernel's event queue was full and dropped it). So
/// `edges == accepted + bounced + repeated` at all times.
public struct SensorEdgeCounts: Hashable, Sendable {
    /// Edges delivered by the inputs.
    public var edges = 0
    /// Edges that repeated the line's last level.
    public var repeated = 0
    /// Edges swallowed as bounce (held back and never accepted).
    public var bounced = 0

    public init(edges: Int = 0, repeated: Int = 0, bounced: Int = 0) {
        self.edges = edges
        self.repeated = repeated
        self.bounced = bounced
    }

    /// Edges that changed the debounced state of their sensor.
    public var accepted: Int { edges - repeated - bounced }

    /// The counts since `earlier` (an interval's share of the running totals).
    public func since(_ earlier: SensorEdgeCounts) -> SensorEdgeCounts {
        SensorEdgeCounts(edges: edges - earlier.edges, repeated: repeated - earlier.repeated,
                         bounced: bounced - earlier.bounced)
    }
}
