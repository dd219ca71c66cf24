/// Compares the lamp decisions of a virtual run with those a live run made, pole by pole.
///
/// Every virtual change must appear live in the same direction, ending at the same level, and
/// starting no earlier than `early` before and no later than `tolerance` after the virtual one
/// (the latency of the live path); every live change must be one of these. Changes are paired in
/// order: a live change is used once.
public struct DecisionComparison: Sendable {
    public struct Match: Sendable, Hashable {
        public var pole: Int
        public var expected: LampChange
        public var seen: LampChange
        /// Live onset − virtual onset, seconds.
        public var offset: Double { seen.time - expected.time }
    }

    public struct Unpaired: Sendable, Hashable {
        public var pole: Int
        public var change: LampChange
    }

    public let tolerance: Double
    public let early: Double
    public private(set) var matched: [Match] = []
    /// Virtual changes with no live counterpart (missing, or late beyond the tolerance).
    public private(set) var missing: [Unpaired] = []
    /// Live changes the virtual run did not make.
    public private(set) var extra: [Unpaired] = []

    /// - Parameters:
    ///   - expected: per pole, the virtual run's changes in the compared window.
    ///   - seen: per pole, the live changes, sampled until `tolerance` after the window ends.
    ///   - window: the compared window (POSIX seconds); live changes after it are not extra.
    ///   - levelTolerance: percentage points by which a steady end level may differ (PWM
    ///     rounding); a change turned round at once may differ by what its ramp covers in
    ///     `tolerance` more.
    public init(expected: [[LampChange]], seen: [[LampChange]], window: ClosedRange<Double>, tolerance: Double,
                early: Double = 0.05, levelTolerance: Double = 1) {
        self.tolerance = tolerance
        self.early = early
        for pole in 0 ..< max(expected.count, seen.count) {
            let wanted = pole < expected.count ? expected[pole].filter { window.contains($0.time) } : []
            let live = pole < seen.count ? seen[pole] : []
            var used = Array(repeating: false, count: live.count)
            var next = 0  // live changes before this index are used or passed over
            for change in wanted {
                var allowance = levelTolerance
                if !change.steady && change.lastMove > change.time {
                    allowance += abs(change.to - change.from) / (change.lastMove - change.time) * tolerance
                }
                var found: Int?
                var j = next
                while j < live.count && live[j].time <= change.time + tolerance {
                    let c = live[j]
                    if !used[j] && c.time >= change.time - early && c.rising == change.rising
                        && abs(c.to - change.to) <= allowance {
                        found = j
                        break
                    }
                    j += 1
                }
                if let found {
                    used[found] = true
                    next = found + 1
                    matched.append(Match(pole: pole, expected: change, seen: live[found]))
                } else {
                    missing.append(Unpaired(pole: pole, change: change))
                }
            }
            for (j, c) in live.enumerated() where !used[j] && window.contains(c.time) {
                extra.append(Unpaired(pole: pole, change: c))
            }
        }
    }

    /// The decisions agree: none missing, none extra.
    public var passed: Bool { missing.isEmpty && extra.isEmpty }
    /// How many virtual decisions were compared.
    public var compared: Int { matched.count + missing.count }

    /// The offsets of the matched decisions, sorted.
    public var offsets: [Double] { matched.map(\.offset).sorted() }
    public var medianOffset: Double? {
        let o = offsets
        guard !o.isEmpty else { return nil }
        return o.count % 2 == 1 ? o[o.count / 2] : (o[o.count / 2 - 1] + o[o.count / 2]) / 2
    }
    public var maxOffset: Double? { offsets.last }
}
