import LightCore

/// What an input line is for.
public enum InputRole: Hashable, Sendable {
    /// A presence sensor, by its id in the route profile.
    case sensor(String)
    /// The lamp driver's feedback: active = driver OK / current flowing.
    case lampFeedback
}

/// An edge on an input line, with the instant the kernel saw it (not when it was read), or the
/// news that the line cannot be read any more.
public struct InputEdge: Hashable, Sendable {
    public var role: InputRole
    /// The line's logical value after the edge (active-low already applied).
    public var active: Bool
    public var at: Instant
    /// Set when the line failed (its events can no longer be read); `active` then means nothing.
    public var failure: String?

    public init(role: InputRole, active: Bool, at: Instant, failure: String? = nil) {
        self.role = role
        self.active = active
        self.at = at
        self.failure = failure
    }
}

/// Pull resistor configuration of an input line.
public enum LineBias: String, Hashable, Sendable, CaseIterable {
    case asIs = "as-is"
    case disable
    case pullUp = "pull-up"
    case pullDown = "pull-down"
}

/// How one input line is requested.
public struct InputLineConfig: Hashable, Sendable {
    public var role: InputRole
    public var offset: UInt32
    public var bias: LineBias
    public var activeLow: Bool

    public init(role: InputRole, offset: UInt32, bias: LineBias, activeLow: Bool) {
        self.role = role
        self.offset = offset
        self.bias = bias
        self.activeLow = activeLow
    }
}

/// The pole's inputs: presence sensors and the lamp feedback, as a stream of edges.
public protocol InputSource: AnyObject, Sendable {
    /// Every edge, in the order the kernel saw them. Ends when the source is closed.
    var edges: AsyncStream<InputEdge> { get }
    /// The lines' present values (for `.start(activeSensors:)` and the lamp check).
    func currentValues() throws -> [InputRole: Bool]
    /// Stops the reader thread and releases the lines.
    func close()
}

/// The relay that switches the lamp driver's supply.
public protocol SwitchOutput: AnyObject, Sendable {
    func set(_ on: Bool) throws
}

/// The dimming signal of the lamp driver.
public protocol DimmingOutput: AnyObject, Sendable {
    func write(_ level: DimLevel) throws
}
