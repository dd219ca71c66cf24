import LightCore
import Testing

@Suite("Pole state machine")
struct PoleStateMachineTests {
    let profile = Fixtures.profile()
    let evening = Fixtures.local("2026-11-23", "20:00")
    let lateNight = Fixtures.local("2026-11-23", "23:30")
    let noon = Fixtures.local("2026-11-24", "13:00")

    // MARK: - Schedule

    @Test("boots into the scheduled level from the profile and the clock alone")
    func bootsIntoSchedule() {
        var profileNoStartHold = profile
        profileNoStartHold.safety.presenceOnStart = false
        #expect(PoleHarness(profile: profileNoStartHold, start: evening).level == 30)
        #expect(PoleHarness(profile: profileNoStartHold, start: evening).state == .base)
        #expect(PoleHarness(profile: profileNoStartHold, start: lateNight).level == 10)
        #expect(PoleHarness(profile: profileNoStartHold, start: noon).level == .off)
        #expect(PoleHarness(profile: profileNoStartHold, start: noon).state == .day)
    }

    @Test("a start at night lights as for a detection, for the longest hold one can cause")
    func startAtNightHolds() {
        var pole = PoleHarness(profile: profile, start: lateNight)
        #expect(pole.level == 100)
        #expect(pole.state == .boosted)
        pole.advance(by: 179)
        #expect(pole.level == 100)
        pole.advance(by: 2)
        #expect(pole.level == 10)
        #expect(pole.state == .base)
    }

    @Test("follows the steps through the night and switches off in the morning")
    func followsSteps() {
        var pole = PoleHarness(profile: profile, start: Fixtures.local("2026-11-23", "13:00"))
        #expect(pole.level == .off)
        let plan = NightPlan.make(for: profile, date: LocalDate(iso: "2026-11-23")!)
        pole.advance(to: plan.switchOn + 1)
        #expect(pole.level == 30)
        pole.advance(to: Fixtures.local("2026-11-23", "22:00"))
        #expect(pole.level == 10)
        pole.advance(to: Fixtures.local("2026-11-24", "05:00"))
        #expect(pole.level == 30)
        pole.advance(to: plan.switchOff)
        #expect(pole.level == .off)
        // Switching on from dark is immediate, later steps ramp.
        let ramps = pole.actions.compactMap { a -> Double? in
            if case let .setLevel(_, ramp) = a.action { ramp } else { nil }
        }
        #expect(ramps.first == 0)
        #expect(ramps.contains(30))  // 30 → 10 at 22:00 uses the step ramp
    }

    // MARK: - Presence

    @Test("a local detection raises the lamp, publishes a notice and falls back after the hold")
    func localDetection() {
        var safety = SafetySettings()
        safety.presenceOnStart = false
        var pole = PoleHarness(profile: Fixtures.profile(safety: safety), start: lateNight)
        #expect(pole.level == 10)
        pole.pulse("up", for: 3)
        #expect(pole.level == 100)
        #expect(pole.state == .boosted)
        #expect(pole.published.count == 1)
        #expect(pole.published.first?.pole == "P4")
        #expect(pole.machine.detections == 1)
        pole.advance(by: 89)  // the hold runs from the falling edge
        #expect(pole.level == 100)
        pole.advance(by: 2)
        #expect(pole.level == 10)
        let lastSet = pole.actions.last { if case .setLevel = $0.action { true } else { false } }
        #expect(lastSet?.action == .setLevel(10, rampSeconds: 20))  // ramp down slowly
    }

    @Test("presence by day does nothing")
    func presenceByDay() {
        var pole = PoleHarness(profile: profile, start: noon)
        pole.pulse("up")
        #expect(pole.level == .off)
        #expect(pole.published.isEmpty)
    }

    @Test("two sensors give direction and speed: down-facing first means travelling up")
    func twoSensorDirection() {
        var safety = SafetySettings()
        safety.presenceOnStart = false
        var pole = PoleHarness(profile: Fixtures.profile(safety: safety), start: lateNight)
        pole.pulse("down", for: 1)
        pole.advance(by: 2)  // 3 s after the first detection: 12 m / 3 s = 4 m/s
        pole.pulse("up", for: 1)
        #expect(pole.published.count == 2)
        #expect(pole.published[0].direction == nil)
        #expect(pole.published[1].direction == .increasing)
        #expect(abs((pole.published[1].speed ?? 0) - 4) < 0.01)
    }

    @Test("a long-range and a short-range sensor looking the same way give the speed of someone approaching")
    func sameFacingRanges() {
        var safety = SafetySettings()
        safety.presenceOnStart = false
        var route = Fixtures.route()
        route.poles[0].sensors.append(Sensor(id: "entry", kind: .radar, facing: .decreasing, range: 60))
        var pole = PoleHarness(pole: "P0", profile: Fixtures.profile(route: route, safety: safety), start: lateNight)
        pole.send(.presenceEdge(sensor: "entry", active: true))   // seen 60 m out …
        pole.advance(by: 2.4)
        pole.send(.presenceEdge(sensor: "down", active: true))    // … and 12 m out 2.4 s later: 20 m/s
        // The first notice, a renewal after 2 s (the entry zone stayed active), then the estimate.
        #expect(pole.published.count == 3)
        #expect(pole.published[0].direction == .increasing)       // an end pole's outward sensor: coming in
        #expect(pole.published[0].speed == nil)
        #expect(pole.published.last?.direction == .increasing)
        #expect(abs((pole.published.last?.speed ?? 0) - 20) < 1e-4)  // instants are ~1.8e9 s: µs rounding
    }

    @Test("a neighbour's notice followed by a local detection gives direction and speed")
    func successivePoles() {
        var safety = SafetySettings()
        safety.presenceOnStart = false
        var pole = PoleHarness(pole: "P4", profile: Fixtures.profile(safety: safety), start: lateNight)
        pole.send(.neighbourDetection(DetectionNotice(pole: "P3", direction: nil, speed: nil, at: pole.now)))
        pole.advance(by: 7)  // 35 m in 7 s = 5 m/s, from P3 (lower chainage) to P4
        pole.pulse("down")
        #expect(pole.published.last?.direction == .increasing)
        #expect(abs((pole.published.last?.speed ?? 0) - 5) < 0.01)
    }

    @Test("neighbours ahead and behind rise; poles beyond the reach do not", arguments: [
        // (detecting pole, direction, pole under test, raised?)
        ("P3", TravelDirection?.some(.increasing), "P4", true),   // 1 ahead
        ("P2", .some(.increasing), "P4", true),                   // 2 ahead
        ("P1", .some(.increasing), "P4", false),                  // 3 ahead: beyond polesAhead = 2
        ("P5", .some(.increasing), "P4", true),                   // 1 behind
        ("P6", .some(.increasing), "P4", false),                  // 2 behind: beyond polesBehind = 1
        ("P6", .some(.decreasing), "P4", true),                   // 2 ahead the other way
        ("P2", nil, "P4", true),                                  // unknown direction: both ways
        ("P6", nil, "P4", true),
        ("P7", nil, "P4", false),
    ])
    func neighbourReach(detector: String, direction: TravelDirection?, pole id: String, raised: Bool) {
        var safety = SafetySettings()
        safety.presenceOnStart = false
        var pole = PoleHarness(pole: id, profile: Fixtures.profile(safety: safety), start: lateNight)
        pole.send(.neighbourDetection(DetectionNotice(pole: detector, direction: direction, speed: nil, at: pole.now)))
        #expect((pole.level == 100) == raised)
        #expect(pole.published.isEmpty)  // neighbours do not relay: no notice storms
    }

    @Test("a fast road user raises more poles ahead, held until they have passed")
    func lookAheadGrowsWithSpeed() {
        var safety = SafetySettings()
        safety.presenceOnStart = false
        let p = Fixtures.profile(safety: safety)
        // A car at 22 m/s (80 km/h) seen at P0, travelling up: 8 s look-ahead = 176 m, which reaches
        // P5 (175 m); the next pole is raised too so that the light covers the whole distance.
        let notice = { (at: Instant) in DetectionNotice(pole: "P0", direction: .increasing, speed: 22, at: at) }
        var p5 = PoleHarness(pole: "P5", profile: p, start: lateNight)
        p5.send(.neighbourDetection(notice(p5.now)))
        #expect(p5.level == 100)
        // Held for the travel time (175 m / 22 m/s ≈ 8 s) plus the hold.
        p5.advance(by: 90 + 7)
        #expect(p5.level == 100)
        p5.advance(by: 2)
        #expect(p5.level == 10)
        var p6 = PoleHarness(pole: "P6", profile: p, start: lateNight)
        p6.send(.neighbourDetection(notice(p6.now)))
        #expect(p6.level == 100)
        var p7 = PoleHarness(pole: "P7", profile: p, start: lateNight)
        p7.send(.neighbourDetection(notice(p7.now)))
        #expect(p7.level == 10)
        // A pedestrian (1.2 m/s) only gets polesAhead.
        var slow = PoleHarness(pole: "P3", profile: p, start: lateNight)
        slow.send(.neighbourDetection(DetectionNotice(pole: "P0", direction: .increasing, speed: 1.2, at: slow.now)))
        #expect(slow.level == 10)
    }

    @Test("a stale neighbour notice is ignored")
    func staleNotice() {
        var safety = SafetySettings()
        safety.presenceOnStart = false
        var pole = PoleHarness(pole: "P4", profile: Fixtures.profile(safety: safety), start: lateNight)
        pole.send(.neighbourDetection(DetectionNotice(pole: "P3", direction: nil, speed: nil, at: pole.now - 120)))
        #expect(pole.level == 10)
    }

    // MARK: - Debounce and stuck sensors

    @Test("bouncing edges are one detection; a real change after the window is not lost")
    func debounce() {
        var safety = SafetySettings()
        safety.presenceOnStart = false
        var pole = PoleHarness(profile: Fixtures.profile(safety: safety), start: lateNight)
        for i in 0..<10 {  // 10 edges 10 ms apart: bounce
            pole.send(.presenceEdge(sensor: "up", active: i % 2 == 0), at: pole.now + 0.01)
        }
        #expect(pole.machine.detections == 1)
        #expect(pole.published.count == 1)
        #expect(pole.machine.edgeCounts == SensorEdgeCounts(edges: 10, repeated: 0, bounced: 9))
        // The last raw state was inactive; it is accepted when the window ends (so that edge was
        // no bounce after all).
        pole.advance(by: 0.5)
        #expect(pole.machine.edgeCounts == SensorEdgeCounts(edges: 10, repeated: 0, bounced: 8))
        pole.send(.presenceEdge(sensor: "up", active: true), at: pole.now + 1)
        #expect(pole.machine.detections == 2)
        // The same level again: its twin edge never arrived.
        pole.send(.presenceEdge(sensor: "up", active: true), at: pole.now + 1)
        #expect(pole.machine.edgeCounts == SensorEdgeCounts(edges: 12, repeated: 1, bounced: 8))
        #expect(pole.machine.edgeCounts.accepted == 3)
    }

    @Test("a sensor active far too long is stuck: fault raised, schedule at the sensor-fault level")
    func stuckSensor() {
        var safety = SafetySettings()
        safety.presenceOnStart = false
        var pole = PoleHarness(profile: Fixtures.profile(safety: safety), start: lateNight)
        pole.send(.presenceEdge(sensor: "up", active: true))
        #expect(pole.level == 100)
        pole.advance(by: 899)
        #expect(pole.raised.isEmpty)
        pole.advance(by: 2)
        #expect(pole.raised == [.stuckSensor("up")])
        #expect(pole.state == .degraded)
        #expect(pole.level == 50)
        // The other sensor still works.
        pole.pulse("down")
        #expect(pole.level == 100)
        pole.advance(by: 200)
        #expect(pole.level == 50)
        // Released: the fault clears.
        pole.send(.presenceEdge(sensor: "up", active: false))
        #expect(pole.cleared == [.stuckSensor("up")])
        pole.advance(by: 100)
        #expect(pole.level == 10)
        #expect(pole.state == .base)
    }

    @Test("a sensor the hardware cannot read is a fault with the sensor-fault floor")
    func sensorFailure() {
        var pole = PoleHarness(profile: profile, start: lateNight)
        pole.advance(by: 181)  // past the start hold
        pole.send(.sensorFailure(sensor: "up", reason: "line request failed"))
        #expect(pole.raised == [.sensorFailure("up")])
        #expect(pole.level == 50)
        pole.send(.sensorFailure(sensor: "up", reason: nil))
        #expect(pole.cleared == [.sensorFailure("up")])
        #expect(pole.level == 10)
    }

    // MARK: - Overrides, clock, profile

    @Test("an override sets the level until it expires, by day too, never below the class minimum at night")
    func override() {
        var pole = PoleHarness(profile: profile, start: noon)
        pole.send(.override(ManualOverride(level: 80, until: noon + 600, reason: "maintenance")))
        #expect(pole.level == 80)
        #expect(pole.state == .overridden)
        pole.advance(by: 601)
        #expect(pole.level == .off)
        #expect(pole.state == .day)

        var night = PoleHarness(profile: profile, start: evening)
        night.send(.override(ManualOverride(level: 0, until: nil, reason: "roadworks lighting")))
        #expect(night.level == 30)  // P4 minimum
        night.send(.override(nil))
        #expect(night.state != .overridden)
    }

    @Test("an untrusted or unset clock means failsafe light, also by day")
    func clock() {
        var pole = PoleHarness(profile: profile, start: noon)
        #expect(pole.level == .off)
        pole.send(.clockTrusted(false))
        #expect(pole.level == 100)
        #expect(pole.state == .failsafe(.clockUntrusted))
        #expect(pole.raised == [.clockUntrusted])
        pole.send(.clockTrusted(true))
        #expect(pole.level == .off)
        #expect(pole.cleared == [.clockUntrusted])

        let boot1970 = PoleHarness(profile: profile, start: Instant(secondsSinceEpoch: 30))
        #expect(boot1970.state == .failsafe(.clockUntrusted))
        #expect(boot1970.level == 100)
    }

    @Test("a clock step keeps holds as long as they should be")
    func clockJump() {
        var safety = SafetySettings()
        safety.presenceOnStart = false
        var pole = PoleHarness(profile: Fixtures.profile(safety: safety), start: lateNight)
        pole.pulse("up")
        // NTP steps the clock 30 s forward; the machine is told and shifts its deadlines.
        var machine = pole.machine
        _ = machine.handle(.clockJump(seconds: 30), at: pole.now + 30)
        var shifted = PoleHarness(machine: machine, now: pole.now + 30, timer: nil)
        shifted.send(.timer)
        shifted.advance(by: 85)
        #expect(shifted.level == 100)
        shifted.advance(by: 10)
        #expect(shifted.level == 10)
    }

    @Test("no profile: failsafe level; a profile without this pole: failsafe and a fault")
    func noProfile() {
        let none = PoleHarness(profile: nil, start: noon)
        #expect(none.level == 100)
        #expect(none.state == .failsafe(.noProfile))
        var pole = PoleHarness(pole: "elsewhere", profile: profile, start: noon)
        #expect(pole.state == .failsafe(.poleNotInProfile))
        #expect(pole.raised.contains(.poleNotInProfile))
        pole.send(.profileChanged(nil))
        #expect(pole.state == .failsafe(.noProfile))
    }

    @Test("a new profile takes effect at once")
    func profileChange() {
        var pole = PoleHarness(profile: profile, start: evening)
        pole.advance(by: 181)  // past the start hold
        #expect(pole.level == 30)
        var brighter = Fixtures.weeknight
        brighter.steps[0].level = 50
        pole.send(.profileChanged(Fixtures.profile(programs: ["weeknight": brighter], version: 2)))
        #expect(pole.level == 50)
        #expect(pole.machine.status().profileVersion == 2)
    }

    @Test("state reports carry state, level, version and program")
    func reports() {
        let pole = PoleHarness(profile: profile, start: evening)
        let reports = pole.actions.compactMap { if case let .reportState(s) = $0.action { s } else { nil } }
        #expect(reports.last?.state == .boosted)
        #expect(reports.last?.level == 100)
        #expect(reports.last?.profileVersion == 1)
        #expect(reports.last?.program == "weeknight")
    }

    // MARK: - Energy

    @Test("energy integrates power over level and time")
    func energy() {
        var safety = SafetySettings()
        safety.presenceOnStart = false
        let start = Fixtures.local("2026-11-23", "23:00")
        let pole = PoleHarness(profile: Fixtures.profile(safety: safety), start: start)
        // One hour at 10 % of 24 W plus 0.5 W standby = 2.9 Wh (switching on from dark is instant).
        let wh = pole.machine.energyWattHours(at: start + 3600)
        #expect(abs(wh - 2.9) < 1e-9)
        // A ramp is integrated exactly: 10 % → 100 % over 1 s averages 55 % of 24 W.
        var boosted = pole
        boosted.send(.presenceEdge(sensor: "up", active: true), at: start + 3600)
        let ramp = boosted.machine.energyWattHours(at: start + 3601) - boosted.machine.energyWattHours(at: start + 3600)
        #expect(abs(ramp - (24 * 0.55 + 0.5) / 3600) < 1e-12)
    }
}
