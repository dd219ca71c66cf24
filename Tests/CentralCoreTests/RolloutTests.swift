import Foundation
import CentralCore
import LightCore
import PropertyBased
import Testing

@Suite("Rollout")
struct RolloutTests {
    static let t0 = Instant(secondsSinceEpoch: 1_795_000_000)
    static let poles = ["P1", "P2", "P3", "P4", "P5"]

    static func plan(canaries: [String] = ["P2"], soak: Double = 600, timeout: Double = 300) -> Rollout.Plan {
        Rollout.Plan(route: "r", version: 7, poles: poles, canaries: canaries, soakSeconds: soak, ackTimeoutSeconds: timeout)
    }

    static func applied(_ pole: String, version: Int = 7) -> Rollout.Event {
        .ack(pole: pole, version: version, applied: true, versionInForce: version, reason: nil)
    }

    @Test("canaries first, the route after they applied and stayed healthy for the soak time")
    func stagedRollout() {
        var r = Rollout(plan: Self.plan(canaries: ["P2", "P4"]))
        #expect(r.handle(.start, at: Self.t0) == [.sendToPoles(["P2", "P4"]), .armTimer(Self.t0 + 300),
                                                   .record(.canary(since: Self.t0))])
        #expect(r.handle(Self.applied("P2"), at: Self.t0 + 5) == [])
        let soakEnd = Self.t0 + 10 + 600
        #expect(r.handle(Self.applied("P4"), at: Self.t0 + 10) == [.armTimer(soakEnd), .record(.soaking(until: soakEnd))])
        #expect(r.handle(.timer, at: soakEnd - 1) == [])
        #expect(r.handle(.timer, at: soakEnd) == [.sendToRoute, .record(.rollingOut(since: soakEnd))])
        for pole in ["P1", "P3"] { #expect(r.handle(Self.applied(pole), at: soakEnd + 1) == []) }
        #expect(r.handle(Self.applied("P5"), at: soakEnd + 2) == [.clearPoleTopics(["P2", "P4"]),
                                                                   .record(.completed(at: soakEnd + 2))])
        #expect(r.appliedCount == 5)
        #expect(r.handle(Self.applied("P5"), at: soakEnd + 3) == [])
    }

    @Test("without canaries the route gets the version at once")
    func noCanaries() {
        var r = Rollout(plan: Self.plan(canaries: []))
        #expect(r.handle(.start, at: Self.t0) == [.sendToRoute, .record(.rollingOut(since: Self.t0))])
        for pole in Self.poles.dropLast() { _ = r.handle(Self.applied(pole), at: Self.t0 + 1) }
        #expect(r.handle(Self.applied("P5"), at: Self.t0 + 2) == [.record(.completed(at: Self.t0 + 2))])
    }

    @Test("a rejection halts the rollout with the pole's reason; the rest never get the version")
    func rejectionHalts() {
        var r = Rollout(plan: Self.plan())
        _ = r.handle(.start, at: Self.t0)
        let actions = r.handle(.ack(pole: "P2", version: 7, applied: false, versionInForce: 6, reason: "invalid-profile"),
                               at: Self.t0 + 3)
        #expect(actions == [.record(.halted(reason: "pole P2 rejected version 7: invalid-profile", at: Self.t0 + 3))])
        #expect(r.progress["P2"] == .rejected(reason: "invalid-profile"))
        #expect(r.handle(.timer, at: Self.t0 + 10_000) == [])
        #expect(r.handle(Self.applied("P2"), at: Self.t0 + 10_001) == [])
    }

    @Test("a pole that already runs the version (not-newer with the version in force) counts as applied")
    func alreadyApplied() {
        var r = Rollout(plan: Self.plan(canaries: ["P1"], soak: 0))
        _ = r.handle(.start, at: Self.t0)
        let actions = r.handle(.ack(pole: "P1", version: 7, applied: false, versionInForce: 7, reason: "not-newer"), at: Self.t0 + 1)
        #expect(actions == [.armTimer(Self.t0 + 1), .record(.soaking(until: Self.t0 + 1))])
    }

    @Test("an acknowledgement about another version does not count")
    func otherVersionIgnored() {
        var r = Rollout(plan: Self.plan(canaries: ["P1"]))
        _ = r.handle(.start, at: Self.t0)
        // The route's older retained version, refused by a canary that runs an even older one.
        #expect(r.handle(.ack(pole: "P1", version: 5, applied: false, versionInForce: 6, reason: "not-newer"), at: Self.t0 + 1) == [])
        #expect(r.state == .canary(since: Self.t0))
    }

    @Test("a new fault at a pole running the version halts; one at a pole that does not is not its doing")
    func faultsHalt() {
        var r = Rollout(plan: Self.plan(canaries: ["P1"]))
        _ = r.handle(.start, at: Self.t0)
        #expect(r.handle(.faultRaised(pole: "P3", code: "lamp-failure"), at: Self.t0 + 1) == [])
        _ = r.handle(Self.applied("P1"), at: Self.t0 + 2)
        #expect(r.handle(.faultRaised(pole: "P1", code: "stuck-sensor"), at: Self.t0 + 3)
                == [.record(.halted(reason: "pole P1 raised stuck-sensor after applying version 7", at: Self.t0 + 3))])
    }

    @Test("a canary that does not answer in time halts the rollout, naming it")
    func canaryTimeout() {
        var r = Rollout(plan: Self.plan(canaries: ["P2", "P3"], timeout: 120))
        _ = r.handle(.start, at: Self.t0)
        _ = r.handle(Self.applied("P2"), at: Self.t0 + 1)
        #expect(r.handle(.timer, at: Self.t0 + 119) == [])
        #expect(r.handle(.timer, at: Self.t0 + 120)
                == [.record(.halted(reason: "canary P3 did not apply version 7 within 120 s", at: Self.t0 + 120))])
    }

    @Test("impossible plans are explained")
    func planProblems() {
        #expect(Self.plan().problems.isEmpty)
        #expect(Self.plan(canaries: ["X9"]).problems == ["canaries not on the route: X9"])
        #expect(Self.plan(canaries: Self.poles).problems == ["every pole is a canary: leave some poles for the second stage"])
        #expect(Rollout.Plan(route: "r", version: 1, poles: [], canaries: []).problems == ["the route has no poles"])
        // Times a timer could not wait for are refused, not trapped on.
        for (soak, timeout) in [(1e300, 300.0), (600, 1e300), (-1, 300), (600, 0), (.infinity, 300), (600, .nan)] {
            #expect(!Self.plan(soak: soak, timeout: timeout).problems.isEmpty, "soak \(soak), timeout \(timeout)")
        }
        #expect(Self.plan(soak: 7 * 86_400, timeout: 86_400).problems.isEmpty)
    }

    // MARK: - Properties over random event sequences

    /// Decodes one random integer into an event and a pause.
    static func event(_ x: Int) -> (pause: Double, event: Rollout.Event) {
        let pole = poles[(x / 10) % poles.count]
        let pause = [0.0, 1, 30, 200, 700][(x / 100) % 5]
        let version = [7, 7, 7, 6, 8][(x / 1000) % 5]
        switch x % 10 {
        case 0...4: return (pause, .ack(pole: pole, version: version, applied: true, versionInForce: version, reason: nil))
        case 5: return (pause, .ack(pole: pole, version: version, applied: false, versionInForce: version - 1, reason: "invalid-profile"))
        case 6: return (pause, .ack(pole: pole, version: 7, applied: false, versionInForce: 7, reason: "not-newer"))
        case 7: return (pause, .faultRaised(pole: pole, code: "lamp-failure"))
        default: return (pause, .timer)
        }
    }

    @Test("the route never gets the version before every canary applied it and the soak time passed; after a halt nothing is sent")
    func stagingInvariant() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...Int(Int32.max)).array(of: 1...60), Gen.int(in: 0...3)) { script, canaryCount in
            let canaries = Array(Self.poles.prefix(canaryCount))
            var r = Rollout(plan: Self.plan(canaries: canaries, soak: 600, timeout: 300))
            var now = Self.t0
            var canariesDoneAt: Instant?
            var stopped = false
            func apply(_ actions: [Rollout.Action]) {
                for action in actions {
                    switch action {
                    case .sendToRoute:
                        #expect(!stopped)
                        if !canaries.isEmpty {
                            #expect(canariesDoneAt.map { now >= $0 + 600 } == true, "route sent at \(now), canaries done \(String(describing: canariesDoneAt))")
                        }
                    case .sendToPoles, .clearPoleTopics:
                        #expect(!stopped)
                    case let .record(state):
                        if case .soaking = state { canariesDoneAt = now }
                        if state.isFinished { stopped = true }
                    case .armTimer:
                        break
                    }
                }
            }
            apply(r.handle(.start, at: now))
            for x in script {
                let (pause, event) = Self.event(x)
                now = now + pause
                let (before, revision) = (r, r.revision)
                apply(r.handle(event, at: now))
                // The kept count is the count, and the revision moves exactly when something changed.
                #expect(r.appliedCount == r.progress.values.filter { if case .applied = $0 { true } else { false } }.count)
                #expect((r.revision != revision) == (r != before))
            }
            if case .completed = r.state { #expect(r.appliedCount == Self.poles.count) }
            // The stored form gives the same rollout back, its count included.
            let copy = try? JSONDecoder().decode(Rollout.self, from: JSONEncoder().encode(r))
            #expect(copy == r && copy?.appliedCount == r.appliedCount)
        }
    }

    @Test("any rejection of the version halts the rollout")
    func rejectionAlwaysHalts() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...Int(Int32.max)).array(of: 0...30), Gen.int(in: 0...4)) { script, rejecter in
            var r = Rollout(plan: Self.plan(canaries: ["P1", "P2"], soak: 0))
            var now = Self.t0
            _ = r.handle(.start, at: now)
            for x in script {
                let (pause, event) = Self.event(x)
                if case .ack(_, _, false, _, _) = event { continue }
                if case .faultRaised = event { continue }
                now = now + pause
                _ = r.handle(event, at: now)
            }
            guard !r.state.isFinished, r.state != .planned else { return }
            let pole = Self.poles[rejecter]
            if case .applied = r.progress[pole] { return }  // it runs the version: no rejection possible
            _ = r.handle(.ack(pole: pole, version: 7, applied: false, versionInForce: 6, reason: "bad-signature"), at: now + 1)
            guard case .halted = r.state else {
                Issue.record("state \(r.state) after \(pole) rejected")
                return
            }
        }
    }
}
