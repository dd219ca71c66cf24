/// A road lighting class of EN 13201-2: M1–M6 (motorised traffic, luminance), C0–C5 (conflict
/// areas) and P1–P6 (pedestrians and low-speed traffic, illuminance).
///
/// CEN/TR 13201-1 and DIN 13201-1:2021 allow *adaptive* lighting: a lower class at times of low
/// traffic. A profile states which output level of its luminaires still meets each class it uses,
/// and the pole never goes below that level at night.
public struct LightingClass: Hashable, Comparable, Sendable, CustomStringConvertible {
    public enum Series: String, Sendable, CaseIterable { case M, C, P }

    public let series: Series
    public let number: Int

    /// Parses `M1`…`M6`, `C0`…`C5`, `P1`…`P6`.
    public init?(_ text: some StringProtocol) {
        guard text.count == 2, let series = Series(rawValue: String(text.prefix(1))),
              let number = Int(text.suffix(1))
        else { return nil }
        let range = series == .C ? 0...5 : 1...6
        guard range.contains(number) else { return nil }
        self.series = series
        self.number = number
    }

    public var description: String { "\(series.rawValue)\(number)" }

    public static func < (a: LightingClass, b: LightingClass) -> Bool {
        (a.series.rawValue, a.number) < (b.series.rawValue, b.number)
    }

    /// The maintained average the class requires, as tabulated in EN 13201-2 (unit in `unit`).
    public var requirement: (value: Double, unit: String) {
        switch series {
        case .M: return ([2.0, 1.5, 1.0, 0.75, 0.5, 0.3][number - 1], "cd/m²")
        case .C: return ([50, 30, 20, 15, 10, 7.5][number], "lx")
        case .P: return ([15, 10, 7.5, 5, 3, 2][number - 1], "lx")
        }
    }
}
