import Foundation
import LightCore
import ProfileFormat
@testable import RouteSim
import Testing

/// `lichtweg sim --live`'s pure half: the window's virtual run and the comparison of decisions.
@Suite("Live equals simulated: the window and the comparison")
struct LiveWindowTests {
    typealias Hand = HandComputedNightTests
    static let start = Hand.zone.instant(on: Hand.date, at: LocalTime(hour: 20, minute: 0))

    /// One pole, one pedestrian (in the sensor's zone from +30 s to +40 s, no sensor hold), a 60 s
    /// presence hold and a 2 s ramp down.
    static let window = LiveWindow.compute(profile: Hand.profile(rampDown: 2), model: Hand.model, seed: 1,
                                           start: start, duration: 120, users: [Hand.walker])

    @Test("the line edges and the decisions of a hand-made window")
    func handMadeWindow() throws {
        let w = Self.window
        let t0 = Self.start.secondsSinceEpoch
        #expect(w.users.count == 1)
        #expect(w.edges == [LineEdge(time: t0 + 30, pole: 0, sensor: "s", active: true),
                            LineEdge(time: t0 + 40, pole: 0, sensor: "s", active: false)])
        // Settled at the base level when the window opens, nobody around.
        #expect(w.level(ofPoleAt: 0, at: Self.start) == DimLevel(percent: 10))
        // Up at once when seen; down over 2 s when the hold of 60 s after the line fell has run out.
        let changes = try #require(w.changes.first)
        #expect(changes.count == 2, "\(changes)")
        guard changes.count == 2 else { return }
        #expect(changes[0] == LampChange(time: t0 + 30, from: 10, to: 100, lastMove: t0 + 30, steady: true))
        #expect(changes[1] == LampChange(time: t0 + 100, from: 100, to: 10, lastMove: t0 + 102, steady: true))
        #expect(w.cause(of: changes[0], atPole: 0) == "sensor")
        #expect(w.cause(of: changes[1], atPole: 0) == "timer")
    }

    @Test("generated traffic: the same seed and start give the same window")
    func deterministic() {
        var busy = Hand.model
        busy.users[.pedestrian]!.hourly = Array(repeating: 600, count: 24)
        let a = LiveWindow.compute(profile: Hand.profile(rampDown: 2), model: busy, seed: 7, start: Self.start, duration: 120)
        let b = LiveWindow.compute(profile: Hand.profile(rampDown: 2), model: busy, seed: 7, start: Self.start, duration: 120)
        #expect(a.users.count > 5)
        #expect(a.users == b.users && a.edges == b.edges && a.changes == b.changes)
        #expect(a.edges.allSatisfy { $0.time >= Self.start.secondsSinceEpoch && $0.time < (Self.start + 120).secondsSinceEpoch })
        #expect(a.users.allSatisfy { $0.arrival >= Self.start && $0.arrival < Self.start + 120 })
        // Another start: the same road users at the same offsets; a shorter window: the first of them.
        let later = LiveWindow.compute(profile: Hand.profile(rampDown: 2), model: busy, seed: 7, start: Self.start + 600,
                                       duration: 120)
        #expect(later.users.count == a.users.count)
        #expect(zip(later.users, a.users).allSatisfy { abs(($0.arrival - 600) - $1.arrival) < 1e-6 && $0.kind == $1.kind })
        let short = LiveWindow.compute(profile: Hand.profile(rampDown: 2), model: busy, seed: 7, start: Self.start, duration: 40)
        #expect(short.users.map(\.arrival) == a.users.filter { $0.arrival < Self.start + 40 }.map(\.arrival))
    }

    /// What a live pole would show for the hand-made window, `delay` late, sampled every 10 ms.
    static func samples(delay: Double, upTo: Double = 100) -> [(time: Double, level: Double)] {
        let t0 = start.secondsSinceEpoch
        return stride(from: 0.0, through: 125, by: 0.01).map { s -> (time: Double, level: Double) in
            let t = t0 + s
            let level: Double
            if t < t0 + 30 + delay { level = 10 } else if t < t0 + 100 + delay { level = upTo } else {
                level = max(10, upTo - (upTo - 10) * (t - (t0 + 100 + delay)) / 2)
            }
            return (t, level)
        }
    }

    static func compare(_ live: [(time: Double, level: Double)], tolerance: Double = 0.5) -> DecisionComparison {
        let seen = [LampChangeExtractor.changes(ofSamples: live, mergeGap: window.mergeGap)]
        return DecisionComparison(expected: window.changes, seen: seen,
                                  window: start.secondsSinceEpoch ... (start + 120).secondsSinceEpoch, tolerance: tolerance)
    }

    @Test("live samples 25 ms late match, with their offsets")
    func matches() {
        let c = Self.compare(Self.samples(delay: 0.025))
        #expect(c.passed, "missing \(c.missing), extra \(c.extra)")
        #expect(c.compared == 2 && c.matched.count == 2)
        // Seen at the first 10 ms sample after the change: 30 ms.
        #expect(abs((c.medianOffset ?? 0) - 0.03) < 0.006, "\(c.offsets)")
        #expect((c.maxOffset ?? 1) < 0.04)
    }

    @Test("a decision later than the tolerance is missing, and the late one is extra")
    func late() {
        let c = Self.compare(Self.samples(delay: 0.7))
        #expect(!c.passed)
        #expect(c.missing.count == 2 && c.extra.count == 2)
    }

    @Test("a decision the live pole did not make is missing")
    func missingDecision() {
        // Never raised: the level stays at 10 %.
        let flat = Self.samples(delay: 0).map { ($0.time, 10.0) }
        let c = Self.compare(flat)
        #expect(!c.passed && c.missing.count == 2 && c.extra.isEmpty && c.matched.isEmpty)
    }

    @Test("a decision to another level does not match, and is extra")
    func wrongLevel() {
        // Up to 70 % instead of 100 %: that decision differs; the way down to the base is the same.
        let c = Self.compare(Self.samples(delay: 0.02, upTo: 70))
        #expect(!c.passed && c.missing.count == 1 && c.extra.count == 1 && c.matched.count == 1)
        #expect(c.missing.first?.change.to == 100 && c.extra.first?.change.to == 70)
    }

    @Test("a live decision the virtual run did not make is extra")
    func extraDecision() {
        var live = Self.samples(delay: 0.02)
        let t0 = Self.start.secondsSinceEpoch
        for i in live.indices where live[i].time >= t0 + 5 && live[i].time < t0 + 8 { live[i].level = 50 }
        let c = Self.compare(live)
        #expect(!c.passed && c.missing.isEmpty && c.matched.count == 2)
        #expect(c.extra.count == 2, "\(c.extra)")  // up at +5 s and down at +8 s
    }

    @Test("a ramp seen in steps, some samples repeated, is one change")
    func steppedRamp() {
        // 100 Hz steps sampled every 7 ms: some steps are seen twice, none is skipped for long.
        let samples = stride(from: 0.0, through: 3, by: 0.007).map { s -> (time: Double, level: Double) in
            let stepped = (s * 100).rounded(.down) / 100
            return (s, stepped < 1 ? 10 : min(100, 10 + (stepped - 1) * 90))
        }
        let changes = LampChangeExtractor.changes(ofSamples: samples)
        #expect(changes.count == 1, "\(changes)")
        #expect(changes.first?.to == 100 && changes.first?.from == 10)
    }
}

/// The light ahead of a live window's road users: from the live lamps' samples, from the virtual
/// run, and predicted over draws of the network's luck (`lichtweg sim --live --network-draws`).
@Suite("Live window: light ahead of the road users")
struct WindowLightAheadTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let start = HandComputedNightTests.zone.instant(on: HandComputedNightTests.date, at: LocalTime(hour: 21, minute: 0))

    /// The Brandis–Beucha pilot route (50 poles) in a busy 90 s window, with `network`; its
    /// sensors cut down to one short-range PIR per pole and its presence control to three poles ahead,
    /// so that a late notice leaves road users in the dark (with the pilot's radars and reach a
    /// second's delay costs almost nothing).
    static func window(_ network: NetworkModel) throws -> LiveWindow {
        var profile = try ProfileLoader.load(
            try String(contentsOf: root.appendingPathComponent("Profiles/brandis-beucha.yaml"), encoding: .utf8),
            file: "brandis-beucha.yaml").get()
        for name in profile.programs.keys where profile.programs[name]!.presence != nil {
            profile.programs[name]!.presence!.polesAhead = 3
            profile.programs[name]!.presence!.polesBehind = 0
            profile.programs[name]!.presence!.lookAheadSeconds = 0
            profile.programs[name]!.presence!.maxPolesAhead = 3
        }
        for i in profile.route.poles.indices {
            profile.route.poles[i].sensors = [Sensor(id: "s", kind: .pir, facing: .increasing, range: 15)]
        }
        var model = try SimulationModelLoader.load(
            try String(contentsOf: root.appendingPathComponent("Profiles/traffic/rural-night.yaml"), encoding: .utf8),
            file: "rural-night.yaml").get().withIdealSensors
        for kind in model.users.keys { model.users[kind]!.hourly = Array(repeating: 400, count: 24) }
        model.network = network
        return LiveWindow.compute(profile: profile, model: model, seed: 3, start: start, duration: 90)
    }

    static let perfect = NetworkModel(latencyMedian: 0.005, latencyP95: 0.005, loss: 0)

    /// The virtual run's outputs as a live pole would show them: sampled every 20 ms, `delay` late.
    static func sampled(_ w: LiveWindow, delay: Double = 0) -> [[(time: Double, level: Double)]] {
        w.timelines.indices.map { pole in
            stride(from: w.start.secondsSinceEpoch - 1, through: w.end.secondsSinceEpoch + 1, by: 0.02).map { t in
                (t, w.level(ofPoleAt: pole, at: Instant(secondsSinceEpoch: t - delay)).percent)
            }
        }
    }

    @Test("the live lamps doing what the virtual run did give its light ahead; later lamps give less")
    func liveFromSamples() throws {
        let w = try Self.window(Self.perfect)
        let virtual = w.lightAhead()
        #expect(w.users.count >= 10)
        #expect(virtual.exposedSeconds > 100, "\(virtual)")
        #expect(virtual.darkSeconds > 0, "a window with something to lose: \(virtual)")
        let live = w.lightAhead(ofSamples: Self.sampled(w))
        #expect(abs(live.exposedSeconds - virtual.exposedSeconds) < 1e-9)
        // Each step is placed halfway between two samples 20 ms apart: within 10 ms of the truth.
        #expect(abs(live.darkSeconds - virtual.darkSeconds) <= Double(virtual.darkEpisodes) * 2 * 0.01 + 1e-6,
                "live \(live), virtual \(virtual)")
        let late = w.lightAhead(ofSamples: Self.sampled(w, delay: 1))
        #expect(late.darkSeconds > virtual.darkSeconds + 1, "late \(late), virtual \(virtual)")
        #expect(late.ratio < virtual.ratio)
        // A lamp that never comes up: all its sight time is dark.
        var stuck = Self.sampled(w)
        for pole in stuck.indices { stuck[pole] = stuck[pole].map { ($0.time, 20) } }
        let dark = w.lightAhead(ofSamples: stuck)
        #expect(abs(dark.darkSeconds - dark.exposedSeconds) < 1e-6 && dark.ratio == 0, "\(dark)")
    }

    @Test("predicted over draws of the network: no spread without luck, a spread and less light with it")
    func prediction() throws {
        let w = try Self.window(Self.perfect)
        let sure = w.predictedLightAhead(draws: 12)
        #expect(sure.count == 12)
        #expect(sure.allSatisfy { $0 == w.lightAhead() }, "\(Set(sure.map(\.ratio)))")

        // A lossy path of measured latencies, as tc netem's 300 ms and 20 % per link gave.
        let lossy = try Self.window(NetworkModel(latencySamples: [0.61, 0.62, 0.64, 1.21, 1.23, 1.82, 2.4, 3.1], loss: 0.1))
        #expect(lossy.users == w.users && lossy.edges == w.edges, "the same road users: only the network differs")
        let draws = lossy.predictedLightAhead(draws: 12)
        #expect(Set(draws.map(\.ratio)).count > 6, "\(draws.map(\.ratio))")
        let mean = draws.map(\.ratio).reduce(0, +) / Double(draws.count)
        #expect(mean < w.lightAhead().ratio - 0.01, "lossy mean \(mean), perfect \(w.lightAhead().ratio)")
        // The same draws again: the prediction is a function of its inputs.
        #expect(lossy.predictedLightAhead(draws: 12) == draws)
    }
}
