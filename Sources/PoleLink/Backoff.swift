/// Reconnect delays: exponential, capped, with jitter, so that a route's poles do not all knock
/// on the broker in the same second after it comes back.
public struct Backoff: Sendable {
    public var initial: Double
    public var maximum: Double
    public private(set) var attempt = 0

    public init(initial: Double = 1, maximum: Double = 60) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The delay before the next attempt, in seconds: a random value in [d/2, d] where d doubles
    /// with each failed attempt up to `maximum` ("equal jitter").
    public mutating func next(random: Double = Double.random(in: 0...1)) -> Double {
        let exponent = min(attempt, 30)
        attempt += 1
        let d = min(maximum, initial * Double(1 << exponent))
        return d / 2 + d / 2 * min(1, max(0, random))
    }

    /// After a successful connection.
    public mutating func reset() { attempt = 0 }
}
