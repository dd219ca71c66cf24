/// A lamp's light output as a percentage of full output, 0…100.
///
/// 0 means dark (the driver's relay may be opened); any other value is a dimmed or full output.
public struct DimLevel: Hashable, Comparable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral
{
    public var percent: Double

    /// Clamps to 0…100 so that arithmetic on levels can never command an impossible output.
    public init(percent: Double) {
        self.percent = percent.isNaN ? 100 : min(100, max(0, percent))
    }

    public init(integerLiteral value: Int) { self.init(percent: Double(value)) }
    public init(floatLiteral value: Double) { self.init(percent: value) }

    public static let off = DimLevel(percent: 0)
    public static let full = DimLevel(percent: 100)

    public var isOff: Bool { percent <= 0 }

    public static func < (a: DimLevel, b: DimLevel) -> Bool { a.percent < b.percent }

    public var description: String {
        percent == percent.rounded() ? "\(Int(percent)) %" : "\(percent) %"
    }

    public init(from decoder: any Decoder) throws {
        self.init(percent: try decoder.singleValueContainer().decode(Double.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(percent)
    }
}
