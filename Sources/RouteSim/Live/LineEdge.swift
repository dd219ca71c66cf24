import LightCore

/// A change of one sensor line of one pole, as the pole sees it: several road users in a zone
/// are one active line, so only the first arrival and the last departure are edges.
public struct LineEdge: Sendable, Hashable {
    /// When the line changes (POSIX seconds).
    public var time: Double
    /// The pole's index on the route.
    public var pole: Int
    /// The sensor's id on that pole (what the pole's `sim` backend reads: `ID 1` / `ID 0`).
    public var sensor: String
    public var active: Bool

    public init(time: Double, pole: Int, sensor: String, active: Bool) {
        self.time = time
        self.pole = pole
        self.sensor = sensor
        self.active = active
    }
}
