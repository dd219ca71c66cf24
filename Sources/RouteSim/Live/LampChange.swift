import LightCore

/// A lamp decision as the lamp's output shows it: the output starts moving up or down and moves
/// on (one ramp, or several decisions in the same direction in quick succession) until it rests
/// or turns. Both the virtual run's commanded ramps and the live samples of a pole's PWM are
/// turned into these by the same rules (`LampChangeExtractor`), so that they can be compared.
public struct LampChange: Sendable, Hashable {
    /// When the output started moving (POSIX seconds): the decision's instant in the virtual run,
    /// the first sample that showed the change live.
    public var time: Double
    /// The level (percent) before and at the end of the movement.
    public var from: Double
    public var to: Double
    /// When the output last moved in this change.
    public var lastMove: Double
    /// Whether the output rested (for at least the merge gap) at `to` afterwards; a change that
    /// was turned round at once ends at a level that depends on when it was turned.
    public var steady: Bool

    public init(time: Double, from: Double, to: Double, lastMove: Double? = nil, steady: Bool = true) {
        self.time = time
        self.from = from
        self.to = to
        self.lastMove = lastMove ?? time
        self.steady = steady
    }

    public var rising: Bool { to > from }
}

/// Turns lamp output into `LampChange`s. Pieces of movement are fed in time order; a piece in the
/// same direction as the current change that starts within `mergeGap` of its last movement
/// extends it, anything else starts a new change.
public struct LampChangeExtractor: Sendable {
    public var mergeGap: Double
    /// Movements smaller than this (percent) are no movement.
    public var epsilon: Double
    public private(set) var changes: [LampChange] = []

    public init(mergeGap: Double = 0.15, epsilon: Double = 0.05) {
        self.mergeGap = mergeGap
        self.epsilon = epsilon
    }

    /// The output moved from `from` to `to`, starting at `onset` and last moving at `end`.
    public mutating func move(onset: Double, end: Double, from: Double, to: Double) {
        guard abs(to - from) > epsilon else { return }
        if var last = changes.last, last.rising == (to > from), onset - last.lastMove <= mergeGap {
            last.to = to
            last.lastMove = max(last.lastMove, end)
            changes[changes.count - 1] = last
        } else {
            changes.append(LampChange(time: onset, from: from, to: to, lastMove: end))
        }
    }

    /// The changes, each marked steady unless the next one followed within the merge gap.
    public func finish() -> [LampChange] {
        var result = changes
        for i in result.indices {
            result[i].steady = i + 1 == result.count || result[i + 1].time - result[i].lastMove >= mergeGap
        }
        return result
    }

    /// The changes of a commanded output (ramps in the order commanded, as `NightRecord.timelines`
    /// holds them) whose movement starts in `window`.
    public static func changes(of ramps: [LevelRamp], in window: ClosedRange<Double>, mergeGap: Double = 0.15) -> [LampChange] {
        var extractor = LampChangeExtractor(mergeGap: mergeGap)
        for (i, ramp) in ramps.enumerated() {
            let t0 = ramp.start.secondsSinceEpoch
            guard window.contains(t0) else { continue }
            var endInstant = ramp.end
            if i + 1 < ramps.count { endInstant = min(endInstant, ramps[i + 1].start) }
            let to = ramp.duration <= 0 ? ramp.to : ramp.level(at: endInstant)
            extractor.move(onset: t0, end: endInstant.secondsSinceEpoch, from: ramp.from.percent, to: to.percent)
        }
        return extractor.finish()
    }

    /// The changes seen in samples of the output (time, percent), in time order: a sample that
    /// differs from the one before is movement seen at the sample's time.
    public static func changes(ofSamples samples: [(time: Double, level: Double)], mergeGap: Double = 0.15) -> [LampChange] {
        var extractor = LampChangeExtractor(mergeGap: mergeGap)
        for i in samples.indices.dropFirst() {
            let (t, v) = samples[i]
            extractor.move(onset: t, end: t, from: samples[i - 1].level, to: v)
        }
        return extractor.finish()
    }
}
