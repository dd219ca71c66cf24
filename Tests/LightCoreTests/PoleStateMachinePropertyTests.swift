import LightCore
import PropertyBased
import Testing

/// Invariants of the pole state machine over random event sequences.
///
/// A scenario is a start instant and a list of random integers, each decoded into a pause and an
/// event (sensor edges, neighbour notices, overrides, sensor failures). Times are on a 0.5 s grid
/// in the restart property so that the restarted and the uninterrupted machine see edges at the
/// same instants; the other properties use finer times to exercise the debouncer.
@Suite("Pole state machine properties")
struct PoleStateMachinePropertyTests {
    static let nights = ["2026-03-28", "2026-06-20", "2026-10-24", "2026-11-23", "2026-12-21"]
    static let profile = Fixtures.profile()

    // MARK: - Scenario decoding

    struct Step {
        var pause: Double
        var event: PoleEvent?
    }

    /// Decodes one random integer into a pause and an event.
    static func step(_ x: Int, at now: Instant, fine: Bool, localOnly: Bool = false) -> Step {
        let pauses: [Double] = fine ? [0.01, 0.05, 0.3, 2, 15, 90, 600, 3600] : [0.5, 1, 2, 5, 30, 120, 600, 3600]
        let pause = pauses[(x / 100_000) % pauses.count]
        let kind = localOnly ? x % 5 : x % 10
        let sensor = (x / 10) % 2 == 0 ? "up" : "down"
        switch kind {
        case 0...4:
            return Step(pause: pause, event: .presenceEdge(sensor: sensor, active: (x / 100) % 2 == 0))
        case 5, 6:
            let directions: [TravelDirection?] = [nil, .increasing, .decreasing]
            let speeds: [Double?] = [nil, 1.2, 5, 22]
            let notice = DetectionNotice(pole: "P\((x / 10) % 10)", direction: directions[(x / 100) % 3],
                                         speed: speeds[(x / 300) % 4], at: now + pause)
            return Step(pause: pause, event: .neighbourDetection(notice))
        case 7:
            if (x / 10) % 3 == 0 { return Step(pause: pause, event: .override(nil)) }
            let until: Instant? = (x / 30) % 4 == 0 ? nil : now + pause + Double((x / 3000) % 7200)
            return Step(pause: pause, event: .override(ManualOverride(level: DimLevel(percent: Double((x / 30) % 101)),
                                                                      until: until, reason: "test")))
        case 8:
            return Step(pause: pause, event: .sensorFailure(sensor: sensor, reason: (x / 100) % 2 == 0 ? "gone" : nil))
        default:
            return Step(pause: pause, event: nil)
        }
    }

    static func start(night: Int, offset: Int, grid: Bool) -> Instant {
        let date = nights[night % nights.count]
        let seconds = grid ? Double(offset) / 2 : Double(offset) / 7.3
        return Fixtures.local(date, "12:00") + seconds
    }

    /// The lowest level the schedule allows at `now`, or nil by day.
    static func minimum(_ profile: Profile, at now: Instant) -> DimLevel? {
        NightPlan.make(for: profile, containing: now).segment(at: now)?.minimum
    }

    static func baseLevel(_ profile: Profile, at now: Instant) -> DimLevel {
        guard let segment = NightPlan.make(for: profile, containing: now).segment(at: now) else { return .off }
        return max(segment.level, segment.minimum)
    }

    // MARK: - Properties

    @Test("never below the class minimum at night, never on by day without an override")
    func levelBounds() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...4), Gen.int(in: 0...(48 * 3600 * 7)),
                            Gen.int(in: 0...Int(Int32.max)).array(of: 1...60)) { night, offset, script in
            let profile = Self.profile
            var now = Self.start(night: night, offset: offset, grid: false)
            var pole = PoleHarness(profile: profile, start: now)
            func check() {
                let overridden = pole.machine.override?.isActive(at: pole.now) ?? false
                if let minimum = Self.minimum(profile, at: pole.now) {
                    #expect(pole.level >= minimum, "at \(pole.now): \(pole.level) < \(minimum) in state \(pole.state)")
                } else if !overridden {
                    #expect(pole.level == .off, "at \(pole.now) by day: \(pole.level) in state \(pole.state)")
                }
            }
            check()
            for x in script {
                let step = Self.step(x, at: now, fine: true)
                // Fire timers on the way, checking after each.
                while let t = pole.timer, t <= now + step.pause {
                    pole.advance(to: t)
                    check()
                }
                now = now + step.pause
                pole.advance(to: now)
                if let event = step.event { pole.send(event) }
                check()
            }
        }
    }

    @Test("back at the base level within hold + ramp after the last detection")
    func returnsToBase() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...4), Gen.int(in: 0...(48 * 3600 * 7)),
                            Gen.int(in: 0...Int(Int32.max)).array(of: 1...40)) { night, offset, script in
            let profile = Self.profile
            let presence = Fixtures.presence
            var now = Self.start(night: night, offset: offset, grid: false)
            var pole = PoleHarness(profile: profile, start: now)
            let startHoldEnd = now + 2 * presence.holdSeconds  // presenceOnStart, if the start is at night
            var lastLocal = Instant.distantPast
            var lastNeighbour = Instant.distantPast
            for x in script {
                // Pulses shorter than the stuck-sensor threshold, and neighbour notices.
                let step = Self.step(x % 7 < 5 ? x - x % 10 : x, at: now, fine: true, localOnly: x % 7 < 5)
                now = now + step.pause
                pole.advance(to: now)
                guard let event = step.event else { continue }
                switch event {
                case let .presenceEdge(sensor, _):
                    pole.send(.presenceEdge(sensor: sensor, active: true))
                    let length = Double(x % 40) / 2
                    now = now + length
                    pole.advance(to: now)
                    pole.send(.presenceEdge(sensor: sensor, active: false))
                    lastLocal = now
                case .neighbourDetection:
                    pole.send(event)
                    lastNeighbour = now
                default:
                    break
                }
            }
            // A hold ends `holdSeconds` after the last local sighting (+ the debounce window that may
            // delay a falling edge), or after a neighbour's notice plus at most one more hold of
            // travel time.
            let settled = max(pole.now, startHoldEnd, lastLocal + presence.holdSeconds + profile.safety.debounceSeconds,
                              lastNeighbour + 2 * presence.holdSeconds) + 0.01
            pole.advance(to: settled)
            #expect(pole.level == Self.baseLevel(profile, at: settled), "target at \(settled), state \(pole.state)")
            let ramped = settled + presence.rampDownSeconds
            let plan = NightPlan.make(for: profile, containing: settled)
            if plan.nextChange(after: settled - presence.rampDownSeconds - 30) > ramped + 1 {
                pole.advance(to: ramped)
                #expect(pole.machine.outputLevel(at: ramped) == Self.baseLevel(profile, at: ramped),
                        "output at \(ramped), state \(pole.state)")
            }
        }
    }

    @Test("a restart at any instant is never darker, and equal once the holds have run out")
    func restartEquivalence() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...4), Gen.int(in: 0...(48 * 3600 * 2)),
                            Gen.int(in: 0...Int(Int32.max)).array(of: 2...60), Gen.int(in: 0...1000)) {
            night, offset, script, cut in
            let profile = Self.profile
            let presence = Fixtures.presence
            let settle = max(2 * presence.holdSeconds, profile.safety.stuckSensorSeconds) + 1
            let restartIndex = cut % script.count
            var now = Self.start(night: night, offset: offset, grid: true)
            var steps: [(at: Instant, event: PoleEvent?)] = []
            for x in script {
                let step = Self.step(x, at: now, fine: false)
                now = now + step.pause
                steps.append((now, step.event))
            }
            let begin = Self.start(night: night, offset: offset, grid: true)
            var uninterrupted = PoleHarness(profile: profile, start: begin)
            var restarted: PoleHarness?
            var restartAt = Instant.distantFuture
            var rawActive: [String: Bool] = [:]
            for (i, step) in steps.enumerated() {
                if i == restartIndex {
                    // The power fails just before this step. The restarted pole knows its profile,
                    // the clock, what its sensor lines read now, and what the daemon keeps across a
                    // restart (the operator's override, lines the hardware cannot read).
                    restartAt = step.at
                    uninterrupted.advance(to: restartAt)
                    let active = Set(rawActive.filter(\.value).keys)
                    var fresh = PoleHarness(profile: profile, start: restartAt, activeSensors: active)
                    if let o = uninterrupted.machine.override, o.isActive(at: restartAt) { fresh.send(.override(o)) }
                    for case let .sensorFailure(s) in uninterrupted.machine.faults {
                        fresh.send(.sensorFailure(sensor: s, reason: "still failing"))
                    }
                    restarted = fresh
                }
                uninterrupted.advance(to: step.at)
                restarted?.advance(to: step.at)
                if let event = step.event {
                    uninterrupted.send(event)
                    restarted?.send(event)
                    if case let .presenceEdge(s, a) = event { rawActive[s] = a }
                }
                if let r = restarted {
                    if step.at >= restartAt + settle {
                        #expect(r.level == uninterrupted.level,
                                "\(step.at - restartAt) s after a restart: \(r.level) (\(r.state)) vs \(uninterrupted.level) (\(uninterrupted.state))")
                    } else {
                        #expect(r.level >= uninterrupted.level,
                                "\(step.at - restartAt) s after a restart: darker, \(r.level) (\(r.state)) vs \(uninterrupted.level) (\(uninterrupted.state))")
                    }
                }
            }
            // And once everything has settled, at the end.
            let end = max(now, restartAt) + settle
            uninterrupted.advance(to: end)
            if var r = restarted {
                r.advance(to: end)
                #expect(r.level == uninterrupted.level)
            }
        }
    }

    @Test("a burst of bouncing edges inside the debounce window is one detection")
    func bounceIsOneDetection() async {
        await propertyCheck(count: 200, input: Gen.int(in: 1...40), Gen.int(in: 1...19)) { edges, gapCentis in
            var safety = SafetySettings()
            safety.presenceOnStart = false
            var pole = PoleHarness(profile: Fixtures.profile(safety: safety), start: Fixtures.local("2026-11-23", "23:00"))
            let gap = Double(gapCentis) / 100 * safety.debounceSeconds / Double(edges)
            for i in 0..<edges {
                pole.send(.presenceEdge(sensor: "up", active: i % 2 == 0), at: pole.now + gap)
            }
            #expect(pole.machine.detections == 1)
            #expect(pole.published.count == 1)
            #expect(pole.level == 100)
        }
    }

    @Test("every sensor edge is accounted for: accepted, bounced or a repeated level")
    func edgesAreAccounted() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...4), Gen.int(in: 0...(48 * 3600 * 7)),
                            Gen.int(in: 0...Int(Int32.max)).array(of: 1...80)) { night, offset, script in
            var now = Self.start(night: night, offset: offset, grid: false)
            var pole = PoleHarness(profile: Self.profile, start: now)
            var sent = 0
            var lastRaw: [String: Bool] = [:]
            var repeats = 0
            for x in script {
                let step = Self.step(x, at: now, fine: true, localOnly: true)
                now = now + step.pause
                pole.advance(to: now)
                if let event = step.event {
                    if case let .presenceEdge(sensor, active) = event {
                        sent += 1
                        if (lastRaw[sensor] ?? false) == active { repeats += 1 }
                        lastRaw[sensor] = active
                    }
                    pole.send(event)
                }
            }
            pole.advance(to: now + 10)  // past every debounce window: held-back edges settle
            let counts = pole.machine.edgeCounts
            #expect(counts.edges == sent)
            #expect(counts.repeated == repeats)
            // Accepted changes alternate rising and falling per sensor, from inactive: the rising
            // ones are the detections, and after settling each sensor's state is its line's.
            let activeAtEnd = lastRaw.values.filter { $0 }.count
            #expect(counts.accepted == 2 * pole.machine.detections - activeAtEnd,
                    "accepted \(counts.accepted), detections \(pole.machine.detections), active \(activeAtEnd)")
            #expect(counts.bounced >= 0)
        }
    }
}
