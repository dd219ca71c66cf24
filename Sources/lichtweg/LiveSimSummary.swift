import Foundation
import LightCore
import RouteSim

/// What `lichtweg sim --live` found: the window, the decisions compared and the live path's
/// latency, as text or JSON.
struct LiveSimSummary: Encodable {
    var route: String
    var poles: Int
    var profileVersion: Int
    var model: String
    var seed: UInt64
    var windowStart: String
    var windowSeconds: Double
    var roadUsers: Int
    var usersByKind: [String: Int]
    var lineEdges: Int
    var toleranceSeconds: Double
    var sampleMilliseconds: Double
    var samples: Int
    var decisions: Int
    var matched: Int
    var missing: Int
    var extra: Int
    var medianOffsetSeconds: Double?
    var maxOffsetSeconds: Double?
    /// Median and maximum offset by what started the decision in the virtual run.
    var offsetsByCause: [String: Offsets]
    /// How late the edges were written to the FIFOs after their instant.
    var replayLateMedianSeconds: Double?
    var replayLateMaxSeconds: Double?
    var decisionsByPole: [String: Int]
    var mismatches: [String]
    /// The road users' light ahead, live and virtual (and predicted, with --network-draws).
    var lightAhead: LiveLightAhead
    /// What decided: `decisions` one by one, or `lightAhead` against the prediction.
    var judgedBy: String
    var passed: Bool

    struct Offsets: Encodable {
        var count: Int
        var median: Double
        var max: Double
    }

    static let metricNames = ["decisions", "matched", "missing", "extra", "medianOffsetSeconds", "maxOffsetSeconds",
                              "roadUsers", "lineEdges", "replayLateMaxSeconds", "lightAheadRatio", "virtualLightAheadRatio",
                              "darkExposureSeconds"]

    var metrics: [String: Double] {
        ["decisions": Double(decisions), "matched": Double(matched), "missing": Double(missing), "extra": Double(extra),
         "medianOffsetSeconds": medianOffsetSeconds ?? .nan, "maxOffsetSeconds": maxOffsetSeconds ?? .nan,
         "roadUsers": Double(roadUsers), "lineEdges": Double(lineEdges), "replayLateMaxSeconds": replayLateMaxSeconds ?? .nan,
         "lightAheadRatio": lightAhead.live.ratio, "virtualLightAheadRatio": lightAhead.virtual.ratio,
         "darkExposureSeconds": lightAhead.live.darkSeconds]
    }

    init(plan: LiveWindow, comparison: DecisionComparison, lightAhead: LiveLightAhead, samples: [[(time: Double, level: Double)]],
         lateness: [Double], profile: Profile, model: SimulationModel, seed: UInt64, tolerance: Double, sampleMs: Double) {
        route = profile.route.name
        poles = profile.route.poles.count
        profileVersion = profile.version
        self.model = model.name
        self.seed = seed
        windowStart = isoTime(plan.start.secondsSinceEpoch)
        windowSeconds = plan.end - plan.start
        roadUsers = plan.users.count
        usersByKind = Dictionary(grouping: plan.users, by: { "\($0.kind)" }).mapValues(\.count)
        lineEdges = plan.edges.count
        toleranceSeconds = tolerance
        sampleMilliseconds = sampleMs
        self.samples = samples.map(\.count).reduce(0, +)
        decisions = comparison.compared
        matched = comparison.matched.count
        missing = comparison.missing.count
        extra = comparison.extra.count
        medianOffsetSeconds = comparison.medianOffset
        maxOffsetSeconds = comparison.maxOffset
        var byCause: [String: [Double]] = [:]
        for m in comparison.matched { byCause[plan.cause(of: m.expected, atPole: m.pole), default: []].append(m.offset) }
        offsetsByCause = byCause.mapValues { o in
            let s = o.sorted()
            return Offsets(count: s.count, median: Self.median(s) ?? 0, max: s.last ?? 0)
        }
        let late = lateness.sorted()
        replayLateMedianSeconds = Self.median(late)
        replayLateMaxSeconds = late.last
        decisionsByPole = Dictionary(uniqueKeysWithValues: plan.poleIDs.enumerated().map { ($1, plan.changes[$0].count) })
        let t0 = plan.start.secondsSinceEpoch
        func describe(_ c: LampChange) -> String {
            String(format: "%@ %.1f → %.1f %% at +%.3f s%@", c.rising ? "up" : "down", c.from, c.to, c.time - t0,
                   c.steady ? "" : " (turned at once)")
        }
        mismatches = comparison.missing.map { "missing at pole \(plan.poleIDs[$0.pole]): \(describe($0.change)) [\(plan.cause(of: $0.change, atPole: $0.pole))]" }
            + comparison.extra.map { "extra at pole \(plan.poleIDs[$0.pole]): \(describe($0.change))" }
        self.lightAhead = lightAhead
        if let predicted = lightAhead.predicted {
            judgedBy = "lightAhead"
            passed = predicted.withinPrediction
        } else {
            judgedBy = "decisions"
            passed = comparison.passed
        }
    }

    static func median(_ sorted: [Double]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    func text(comparison: DecisionComparison, poleIDs: [String], start: Double) -> String {
        func ms(_ v: Double?) -> String { v.map { String(format: "%.1f ms", $0 * 1000) } ?? "—" }
        var lines: [String] = []
        let users = usersByKind.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)s" }.joined(separator: ", ")
        lines.append("\(route) — \(poles) poles live, profile version \(profileVersion)")
        lines.append("window \(windowStart) + \(SimText.number(windowSeconds)) s, seed \(seed), \(model)")
        lines.append("  road users        \(roadUsers)\(users.isEmpty ? "" : " (\(users))"), \(lineEdges) line edges replayed "
                     + "(written \(ms(replayLateMedianSeconds)) after their instant, at most \(ms(replayLateMaxSeconds)))")
        lines.append("  decisions         \(decisions) in the virtual run: \(matched) matched live, \(missing) missing, \(extra) extra live")
        lines.append("  offset live−sim   median \(ms(medianOffsetSeconds)), max \(ms(maxOffsetSeconds)) "
                     + "(tolerance \(ms(toleranceSeconds)); PWM sampled every \(SimText.number(sampleMilliseconds)) ms)")
        for (cause, o) in offsetsByCause.sorted(by: { $0.key < $1.key }) {
            lines.append(String(format: "    %-8@ %3d decisions, median %.1f ms, max %.1f ms", cause, o.count, o.median * 1000, o.max * 1000))
        }
        lines.append("  per pole          " + poleIDs.map { id in
            let n = comparison.matched.filter { poleIDs[$0.pole] == id }.count
            return "\(id) \(n)/\(decisionsByPole[id] ?? 0)"
        }.joined(separator: ", "))
        let live = lightAhead.live, virtual = lightAhead.virtual
        lines.append(String(format: "  light ahead       live %.4f (dark %.1f s of %.1f s with a pole in sight ahead), virtual run %.4f",
                            live.ratio, live.darkSeconds, live.exposedSeconds, virtual.ratio))
        if let p = lightAhead.predicted {
            lines.append(String(format: "  predicted         %.4f–%.4f (median %.4f) over %d draws of the network (%@); "
                                + "live timing allowance ±%.4f", p.low, p.high, p.median, p.draws, p.network, p.allowance))
            lines.append(p.withinPrediction ? "live light ahead as the simulator predicts for this network"
                                            : "live light ahead OUTSIDE the simulator's prediction")
        } else {
            for m in mismatches { lines.append("  MISMATCH \(m)") }
            lines.append(passed ? "live equals simulated: every decision matched within \(ms(toleranceSeconds))"
                                : "live DIFFERS from simulated")
        }
        return lines.joined(separator: "\n")
    }
}
