import Crypto
import Foundation
import LightCore
import Logging
import PoleDaemon
import PoleIO
import PoleProtocol
import Synchronization
import Testing

/// The controller in-process with the named simulation of the hardware and a clock the test
/// sets: what a pole does when its clock cannot be right, and when it is set.
@Suite("PoleController and the clock")
struct PoleControllerClockTests {
    /// A wall clock the test moves; the monotonic clock is the real one.
    final class TestClock: Sendable {
        let wall: Mutex<Double>
        init(_ seconds: Double) { wall = Mutex(seconds) }
        func set(_ seconds: Double) { wall.withLock { $0 = seconds } }
        var clock: PoleController.Clock {
            PoleController.Clock(now: { Instant(secondsSinceEpoch: self.wall.withLock { $0 }) }, monotonic: Clocks.monotonic)
        }
    }

    static let profile = """
        format: lichtweg-profile/1
        version: 3
        route:
          id: it-road
          name: Integrationsweg
          timezone: UTC
          location: {lat: 0.0, lon: 0.0}
          luminaires:
            led40: {power: 40, standby: 0.5}
          poles:
            - {id: A1, chainage: 0, lat: 0.0, lon: 0.0, luminaire: led40, sensors: [{id: a, kind: pir, facing: increasing, range: 20}]}
            - {id: A2, chainage: 35, lat: 0.0003, lon: 0.0, luminaire: led40}
        lightingClasses: {P4: 10}
        calendar: {default: night}
        programs:
          night:
            switchOn: {event: sunset}
            switchOff: {event: sunrise}
            class: P4
            stepRampSeconds: 0
            steps:
              - {at: switchOn, level: 10}
            presence: {level: 100, holdSeconds: 30}

        """

    @Test("a clock before the firmware's release: failsafe level and clock-invalid, until the clock is set")
    func invalidClock() async throws {
        let dir = try TempDirectory()
        let key = Curve25519.Signing.PrivateKey()
        try dir.write("data/profile.json", String(decoding: PayloadCodec.encode(
            try SignedProfile.sign(document: Self.profile, file: "test", with: key)), as: UTF8.self))
        let config = try PoleConfigLoader.load("""
            format: lichtweg-pole/1
            pole: A1
            route: it-road
            backend: sim
            dataDirectory: \(dir.file("data"))
            profileKey: \(dir.file("key.pub"))
            mqtt: {url: "mqtt://127.0.0.1:1"}
            gpio:
              chip: gpiochip0
              sensors: [{id: a, line: 17}]
            pwm: {chip: 0, channel: 0}
            """, file: "pole.yaml").get()
        let sim = try SimulatedPole(directory: dir.file("data/sim"), sensors: ["a"], lampFeedback: false)
        defer { sim.close() }
        let pwm = try SysfsPWM(root: sim.pwmRoot, chip: 0, channel: 0, frequencyHz: 1000, polarity: .normal)
        // A board without RTC after a power cut: 1970 plus the boot time. Midnight at longitude 0
        // on 2026-11-23 is what the clock will be set to.
        let clock = TestClock(120)
        let lamp = try LampDriver(dimming: pwm, relay: sim, stepHz: 100, clock: clock.clock.now, onError: { _ in })
        let controller = PoleController(config: config, publicKey: key.publicKey, inputs: sim, lamp: lamp, link: nil,
                                        clock: clock.clock, logger: Logger(label: "test"))
        await controller.start()
        #expect(await controller.state == .failsafe(.clockUntrusted))
        #expect(await controller.level == .full)
        #expect(await controller.profileVersion == 3, "the stored profile is loaded, but not trusted to schedule")
        #expect(lamp.target == .full && lamp.relayOn)

        // NTP sets the clock: the pole follows the schedule (night at 00:00 UTC on the equator).
        clock.set(1_795_392_000)  // 2026-11-23T00:00:00Z
        await controller.tick()
        #expect(await controller.state == .base)
        #expect(await controller.level == 10)
        #expect(try await eventually { lamp.target == 10 })
    }
}
