import Crypto
import Foundation
import LichtwegTestSupport
import LightCore
import PoleLink
import PoleProtocol
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `lichtweg-pole` as a process against a real mosquitto broker on a loopback port. Only the
/// physical side is simulated (`backend: sim`).
@Suite("lichtweg-pole against a real broker", .serialized)
struct PoleDaemonIntegrationTests {
    let topics = Topics(route: Fixture.route)

    /// Broker, observer and a started pole that has announced itself. One object, so that the
    /// broker lives as long as the test uses any of them.
    final class Harness: @unchecked Sendable {
        let broker: Broker
        let observer: Observer
        let pole: PoleProcess

        init(pole: String = "A2", location: Bool = false, persistentBroker: Bool = false) async throws {
            broker = try Broker(persistent: persistentBroker)
            observer = try Observer(broker: broker)
            try await observer.start()
            self.pole = try PoleProcess(pole: pole, brokerPort: broker.port, location: location)
            try self.pole.start()
            _ = try await observer.waitFor(OnlinePayload.self, on: Topics.online(pole)) { $0.online }
        }
    }

    func push(_ document: String, _ observer: Observer, key: Curve25519.Signing.PrivateKey) async throws {
        try await observer.publish(topics.profile, try Fixture.signed(document, key: key), retain: true)
    }

    func ack(_ observer: Observer, pole: String = "A2", version: Int, result: String) async throws -> ProfileAckPayload {
        try await observer.waitFor(ProfileAckPayload.self, on: Topics.profileAck(pole)) { $0.version == version && $0.result == result }
    }

    // MARK: - Profiles

    @Test("a signed profile is verified, stored, applied at once and acknowledged")
    func profilePush() async throws {
        let h = try await Harness()
        let (observer, pole) = (h.observer, h.pole)
        try await push(Fixture.profile(version: 1, baseLevel: 10), observer, key: pole.key)
        let ack = try await ack(observer, version: 1, result: "applied")
        #expect(ack.versionInForce == 1 && ack.route == Fixture.route)
        #expect(try pole.storedProfileVersion() == 1)
        let state = try await observer.waitFor(StatePayload.self, on: Topics.state("A2")) { $0.profileVersion == 1 }
        #expect(state.state == "base" && state.level == 10 && state.program == "night")
        #expect(await eventually { pole.lampPercent() == 10 })
        #expect(pole.relayOn() == true)

        // A presence edge raises the lamp and tells the neighbours (direction and speed only).
        await observer.clear()
        try pole.simulate("a 1")
        #expect(await eventually(5) { pole.lampPercent() == 100 }, "lamp at \(String(describing: pole.lampPercent()))")
        let notice = try await observer.waitFor(DetectionPayload.self, on: topics.detection(from: "A2"))
        #expect(notice.pole == "A2")
        let boosted = try await observer.waitFor(StatePayload.self, on: Topics.state("A2")) { $0.state == "boosted" }
        #expect(boosted.level == 100)
        try pole.simulate("a 0")

        // Telemetry (every 5 s in this configuration): the detection counted, energy counted.
        let telemetry = try await observer.waitFor(TelemetryPayload.self, on: Topics.telemetry("A2"), seconds: 15) { $0.detections >= 1 }
        #expect(telemetry.detections == 1 && telemetry.energyWh > 0 && telemetry.intervalEnergyWh > 0)
        #expect(telemetry.to.instant > telemetry.from.instant)
    }

    @Test("bad signature, wrong route, older version, invalid or malformed profile: rejected with a reason, old profile kept")
    func profileRejections() async throws {
        let h = try await Harness()
        let (observer, pole) = (h.observer, h.pole)
        try await push(Fixture.profile(version: 2), observer, key: pole.key)
        _ = try await ack(observer, version: 2, result: "applied")

        // Signed with a key the pole does not know.
        try await push(Fixture.profile(version: 3), observer, key: Curve25519.Signing.PrivateKey())
        var ack = try await self.ack(observer, version: 3, result: "rejected")
        #expect(ack.reason == "bad-signature" && ack.versionInForce == 2)

        // For another route.
        let otherRoute = Fixture.profile(version: 4).replacingOccurrences(of: "id: \(Fixture.route)", with: "id: other-road")
        try await push(otherRoute, observer, key: pole.key)
        ack = try await self.ack(observer, version: 4, result: "rejected")
        #expect(ack.reason == "wrong-route")

        // Older than the one in force.
        try await push(Fixture.profile(version: 1), observer, key: pole.key)
        ack = try await self.ack(observer, version: 1, result: "rejected")
        #expect(ack.reason == "not-newer")

        // Correctly signed, but not a valid profile (presence below the base level's class).
        let invalid = Fixture.profile(version: 5).replacingOccurrences(of: "holdSeconds: 30", with: "holdSeconds: -3")
        let signature = try pole.key.signature(for: Data(invalid.utf8)).base64EncodedString()
        let signed = SignedProfile(route: Fixture.route, version: 5, document: invalid, signature: signature,
                                   keyID: SigningKeys.keyID(pole.key.publicKey))
        try await observer.publish(topics.profile, PayloadCodec.encode(signed), retain: true)
        ack = try await self.ack(observer, version: 5, result: "rejected")
        #expect(ack.reason == "invalid-profile")
        #expect(ack.detail?.contains("holdSeconds") == true, "detail: \(ack.detail ?? "-")")

        // Not even JSON.
        try await observer.publish(topics.profile, Array("{\"schema\":\"lichtweg.signed-profile/1\",".utf8))
        ack = try await observer.waitFor(ProfileAckPayload.self, on: Topics.profileAck("A2")) { $0.reason == "malformed" }
        #expect(ack.versionInForce == 2)

        #expect(try pole.storedProfileVersion() == 2)
        let state = try await observer.waitFor(StatePayload.self, on: Topics.state("A2")) { $0.faults.contains("profile-rejected") }
        #expect(state.profileVersion == 2)
        #expect(pole.isRunning)
    }

    @Test("a profile on the pole's own topic (a canary) is applied; the route's older one is answered, not a fault")
    func canaryTopic() async throws {
        let h = try await Harness()
        let (observer, pole) = (h.observer, h.pole)
        try await push(Fixture.profile(version: 1), observer, key: pole.key)
        _ = try await ack(observer, version: 1, result: "applied")
        try await observer.publish(Topics.poleProfile("A2"), try Fixture.signed(Fixture.profile(version: 2), key: pole.key), retain: true)
        _ = try await ack(observer, version: 2, result: "applied")
        #expect(try pole.storedProfileVersion() == 2)
        // After a restart the broker hands it both retained versions again.
        pole.signal(SIGTERM)
        #expect(await pole.waitExit() == 0)
        await observer.clear()
        try pole.start()
        let old = try await ack(observer, version: 1, result: "rejected")
        #expect(old.reason == "not-newer" && old.versionInForce == 2)
        let state = try await observer.waitFor(StatePayload.self, on: Topics.state("A2")) { $0.profileVersion == 2 }
        #expect(!state.faults.contains("profile-rejected"))
        // The control plane clears the pole's topic once the route carries the version: ignored.
        try await observer.publish(Topics.poleProfile("A2"), [], retain: true)
        try await push(Fixture.profile(version: 2), observer, key: pole.key)
        #expect(try pole.storedProfileVersion() == 2)
        #expect(pole.isRunning)
    }

    // MARK: - Autonomy

    @Test("broker killed and restarted: the pole keeps lighting, reconnects and delivers what it queued")
    func brokerOutage() async throws {
        // A broker that keeps sessions: the observer's subscription survives the outage, so it
        // gets the pole's queued messages whichever of the two reconnects first.
        let h = try await Harness(persistentBroker: true)
        let (broker, observer, pole) = (h.broker, h.observer, h.pole)
        try await push(Fixture.profile(version: 1), observer, key: pole.key)
        _ = try await ack(observer, version: 1, result: "applied")
        #expect(await eventually { pole.lampPercent() == 10 })
        try await Task.sleep(for: .seconds(1.5))  // one autosave of the broker's sessions

        broker.stop()
        #expect(await eventually { pole.log.contains("broker connection lost") })
        // Offline: presence still raises the light, and a failed lamp is noticed and queued.
        try pole.simulate("a 1")
        #expect(await eventually(5) { pole.lampPercent() == 100 })
        try pole.simulate("lamp broken")
        try await Task.sleep(for: .seconds(4))  // the lamp check runs 3 s after a change; a feedback edge at once
        try pole.simulate("a 0")

        try broker.start()
        let fault = try await observer.waitFor(FaultPayload.self, on: Topics.fault("A2"), seconds: 30) { $0.code == "lamp-failure" && $0.active }
        #expect(fault.pole == "A2")
        _ = try await observer.waitFor(OnlinePayload.self, on: Topics.online("A2"), seconds: 30) { $0.online }
        let state = try await observer.waitFor(StatePayload.self, on: Topics.state("A2")) { $0.faults.contains("lamp-failure") }
        #expect(state.profileVersion == 1)
        #expect(pole.isRunning)
    }

    @Test("a sensor line that fails: sensor-failure raised, the pole keeps the sensor-fault level")
    func sensorLineFailure() async throws {
        let h = try await Harness()
        let (observer, pole) = (h.observer, h.pole)
        try await push(Fixture.profile(version: 1), observer, key: pole.key)
        _ = try await ack(observer, version: 1, result: "applied")
        _ = try await observer.waitFor(StatePayload.self, on: Topics.state("A2")) { $0.state == "base" }
        try pole.simulate("fail b")
        let fault = try await observer.waitFor(FaultPayload.self, on: Topics.fault("A2")) { $0.code == "sensor-failure" }
        #expect(fault.active && fault.sensor == "b")
        let state = try await observer.waitFor(StatePayload.self, on: Topics.state("A2")) { $0.state == "degraded" }
        #expect(state.level == 50 && state.faults.contains("sensor-failure"))
        #expect(await eventually { pole.lampPercent() == 50 })
    }

    @Test("without any profile: the built-in failsafe program lights the road and says so")
    func failsafeWithoutProfile() async throws {
        let h = try await Harness(location: true)
        let (observer, pole) = (h.observer, h.pole)
        let state = try await observer.waitFor(StatePayload.self, on: Topics.state("A2"))
        #expect(state.state == "failsafe" && state.failsafeReason == "noProfile")
        #expect(state.profileVersion == nil && state.faults.contains("no-profile"))
        #expect(await eventually { pole.lampPercent() == 100 })
        // A real profile replaces it and clears the fault.
        try await push(Fixture.profile(version: 1), observer, key: pole.key)
        _ = try await ack(observer, version: 1, result: "applied")
        let cleared = try await observer.waitFor(FaultPayload.self, on: Topics.fault("A2")) { $0.code == "no-profile" && !$0.active }
        #expect(cleared.pole == "A2")
    }

    // MARK: - Restarts

    @Test("restart: the stored profile and override are back before anything else arrives")
    func restartKeepsProfileAndOverride() async throws {
        let h = try await Harness()
        let (broker, observer, pole) = (h.broker, h.observer, h.pole)
        try await push(Fixture.profile(version: 1), observer, key: pole.key)
        _ = try await ack(observer, version: 1, result: "applied")
        let until = Timestamp(Instant(secondsSinceEpoch: Date().timeIntervalSince1970 + 3600))
        try await observer.publish(Topics.override("A2"), PayloadCodec.encode(OverridePayload(level: 55, until: until, reason: "roadworks")))
        _ = try await observer.waitFor(StatePayload.self, on: Topics.state("A2")) { $0.state == "overridden" && $0.level == 55 }

        pole.signal(SIGKILL)
        _ = await pole.waitExit()
        // The broker forgets the retained profile: the pole must come back from its own storage.
        broker.stop()
        try broker.start()
        await observer.clear()
        try pole.start()
        #expect(await eventually { pole.lampPercent() == 55 })
        let state = try await observer.waitFor(StatePayload.self, on: Topics.state("A2"), seconds: 20) { $0.profileVersion == 1 }
        #expect(state.state == "overridden" && state.level == 55)

        // An empty retained override clears it (the pole is then boosted: after a restart it holds
        // presence light for whoever may have been near when it went down).
        try await observer.publish(Topics.override("A2"), [], retain: true)
        let after = try await observer.waitFor(StatePayload.self, on: Topics.state("A2")) { $0.state != "overridden" }
        #expect(after.state == "boosted" && after.level == 100)
        #expect(!FileManager.default.fileExists(atPath: "\(pole.dataDirectory)/override.json"))
    }

    @Test("SIGKILL at random moments while profiles are written: always the old or the new profile, never a broken one")
    func killDuringProfileWrites() async throws {
        let broker = try Broker()
        let observer = try Observer(broker: broker)
        try await observer.start()
        let pole = try PoleProcess(pole: "A2", brokerPort: broker.port)
        var random = SystemRandomNumberGenerator()
        var stored: Int? = nil
        for version in 1...15 {
            try pole.start()
            try await push(Fixture.profile(version: version), observer, key: pole.key)
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...400, using: &random)))
            pole.signal(SIGKILL)
            _ = await pole.waitExit()
            let now = try pole.storedProfileVersion()  // throws if the file were broken
            // A whole version that was pushed, never older than before. (It may be one pushed
            // before this round: the broker hands an unacknowledged QoS 1 message out again.)
            #expect(now == stored || (now.map { $0 > (stored ?? 0) && $0 <= version } ?? false),
                    "after killing at version \(version): stored \(String(describing: now)), before \(String(describing: stored))")
            stored = now
            let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: pole.dataDirectory)) ?? []
            #expect(leftovers.allSatisfy { $0 == "profile.json" || $0 == "sim" || $0.contains(".tmp-") })
        }
        // And the pole starts from what it stored (and may then take the retained newer one).
        await observer.clear()
        try pole.start()
        if let stored {
            let state = try await observer.waitFor(StatePayload.self, on: Topics.state("A2"), seconds: 20) { $0.profileVersion != nil }
            #expect(state.profileVersion! >= stored)
        }
        withExtendedLifetime(broker) {}
        let leftovers = await eventually { ((try? FileManager.default.contentsOfDirectory(atPath: pole.dataDirectory)) ?? []).allSatisfy { !$0.contains(".tmp-") } }
        #expect(leftovers, "temp files of cut-short writes are cleaned up at start")
    }

    // MARK: - Bad input

    @Test("10,000 random and truncated payloads on every subscribed topic: the daemon stays up and correct")
    func garbagePayloads() async throws {
        let h = try await Harness()
        let (observer, pole) = (h.observer, h.pole)
        try await push(Fixture.profile(version: 1), observer, key: pole.key)
        _ = try await ack(observer, version: 1, result: "applied")

        let valid: [(String, [UInt8])] = [
            (topics.profile, try Fixture.signed(Fixture.profile(version: 9), key: Curve25519.Signing.PrivateKey())),
            (Topics.poleProfile("A2"), try Fixture.signed(Fixture.profile(version: 8), key: Curve25519.Signing.PrivateKey())),
            (Topics.override("A2"), PayloadCodec.encode(OverridePayload(level: 40, until: nil, reason: "x"))),
            (topics.detection(from: "A1"), PayloadCodec.encode(DetectionPayload(DetectionNotice(pole: "A1", direction: .increasing, speed: 1.4,
                                                                                                 at: Instant(secondsSinceEpoch: Date().timeIntervalSince1970))))),
            (topics.detection(from: "A3"), Array(#"{"schema":"lichtweg.detection/1","pole":"A3","speed":-1,"at":"2026-01-01T00:00:00Z"}"#.utf8)),
        ]
        var rng = SystemRandomNumberGenerator()
        for i in 0..<10_000 {
            let (topic, template) = valid[i % valid.count]
            var payload: [UInt8]
            switch i % 4 {
            case 0: payload = (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            case 1: payload = Array(template.prefix(Int.random(in: 0..<template.count, using: &rng)))
            case 2:
                payload = template
                for _ in 0..<3 { payload[Int.random(in: 0..<payload.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            default: payload = Array(#"{"schema":"lichtweg.override/1","level":"#.utf8) + Array("\(Double.random(in: -1e9...1e9, using: &rng))}".utf8)
            }
            try await observer.publish(topic, payload, qos: 0)
            if i % 500 == 0 { try await Task.sleep(for: .milliseconds(10)) }
        }
        try await Task.sleep(for: .seconds(2))
        #expect(pole.isRunning)
        // Still correct: clears, overrides and presence work, the profile is the one applied.
        try await observer.publish(Topics.override("A2"), [], qos: 1)
        _ = try await observer.waitFor(StatePayload.self, on: Topics.state("A2"), seconds: 20) { $0.state == "base" && $0.level == 10 }
        try await observer.publish(Topics.override("A2"), PayloadCodec.encode(OverridePayload(level: 77, until: nil, reason: "check")))
        _ = try await observer.waitFor(StatePayload.self, on: Topics.state("A2")) { $0.state == "overridden" && $0.level == 77 }
        #expect(await eventually { pole.lampPercent() == 77 })
        #expect(try pole.storedProfileVersion() == 1)
        #expect(pole.isRunning)
    }

    // MARK: - Process

    @Test("SIGTERM: graceful stop, lamp left at the scheduled level, offline said, exit 0")
    func gracefulStop() async throws {
        let h = try await Harness()
        let (observer, pole) = (h.observer, h.pole)
        try await push(Fixture.profile(version: 1, baseLevel: 10), observer, key: pole.key)
        _ = try await ack(observer, version: 1, result: "applied")
        #expect(await eventually { pole.lampPercent() == 10 })
        await observer.clear()
        pole.signal(SIGTERM)
        #expect(await pole.waitExit() == 0)
        let offline = try await observer.waitFor(OnlinePayload.self, on: Topics.online("A2")) { !$0.online }
        #expect(offline.at != nil, "said by the pole itself, not the broker's last will")
        #expect(pole.lampPercent() == 10 && pole.relayOn() == true)
    }

    @Test("last will: a pole that dies is reported offline by the broker")
    func lastWill() async throws {
        let h = try await Harness()
        let (observer, pole) = (h.observer, h.pole)
        await observer.clear()
        pole.signal(SIGKILL)
        _ = await pole.waitExit()
        let will = try await observer.waitFor(OnlinePayload.self, on: Topics.online("A2"), seconds: 20) { !$0.online }
        #expect(will.at == nil)
    }

    @Test("systemd: READY=1 on the notify socket once the pole is up, and watchdog pings")
    func systemdReady() async throws {
        let broker = try Broker()
        let scratch = try Scratch("notify")
        let path = "\(scratch.path)/notify.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let pole = try PoleProcess(brokerPort: broker.port)
        try pole.start(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"])
        var received: [String] = []
        while !received.contains("WATCHDOG=1") {
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = recv(fd, &buffer, buffer.count, 0)
            try #require(n > 0, "no notification after \(received): \(pole.log)")
            received.append(String(decoding: buffer[0..<n], as: UTF8.self))
        }
        #expect(received.contains { $0.hasPrefix("READY=1") }, "\(received)")
    }

    @Test("--check-config: 0 for a usable file, 2 with file, line and field for a broken one")
    func checkConfig() async throws {
        let broker = try Broker()
        let pole = try PoleProcess(brokerPort: broker.port)
        let binary = try Paths.poleBinary()
        func run(_ path: String) throws -> (Int32, String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["--check-config", path]
            let pipe = Pipe()
            process.standardError = pipe
            process.standardOutput = pipe
            try process.run()
            let out = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: out, as: UTF8.self))
        }
        let (ok, okOut) = try run(pole.configPath)
        #expect(ok == 0, "\(okOut)")
        let broken = try String(contentsOfFile: pole.configPath, encoding: .utf8)
            .replacingOccurrences(of: "bias: pull-down}", with: "bias: pulldown}")
        let brokenPath = try pole.scratch.write("broken.yaml", broken)
        let (status, output) = try run(brokenPath)
        #expect(status == 2)
        #expect(output.contains("broken.yaml:") && output.contains("gpio.sensors[0].bias") && output.contains("pull-down"), "\(output)")
    }
}

/// Two and more poles on one broker, and the broker's security.
@Suite("lichtweg-pole: neighbours and a secured broker", .serialized)
struct PoleNetworkTests {
    @Test("a detection at one pole raises the light at its neighbour through the broker")
    func neighbourNotice() async throws {
        let broker = try Broker()
        let observer = try Observer(broker: broker)
        try await observer.start()
        let key = Curve25519.Signing.PrivateKey()
        let a1 = try PoleProcess(pole: "A1", brokerPort: broker.port, key: key)
        let a2 = try PoleProcess(pole: "A2", brokerPort: broker.port, key: key)
        try a1.start()
        try a2.start()
        try await observer.publish(Topics(route: Fixture.route).profile, try Fixture.signed(Fixture.profile(version: 1), key: key), retain: true)
        for pole in ["A1", "A2"] {
            _ = try await observer.waitFor(ProfileAckPayload.self, on: Topics.profileAck(pole)) { $0.result == "applied" }
        }
        #expect(await eventually { a2.lampPercent() == 10 })
        try a1.simulate("a 1")
        #expect(await eventually(5) { a2.lampPercent() == 100 }, "A2 at \(String(describing: a2.lampPercent()))")
        let state = try await observer.waitFor(StatePayload.self, on: Topics.state("A2")) { $0.state == "boosted" }
        #expect(state.level == 100)
        try a1.simulate("a 0")
    }

    @Test("the link speaks MQTT 3.1.1 too (what it falls back to when a broker refuses MQTT 5)")
    func mqtt311() async throws {
        let broker = try Broker()
        var options = MQTTOptions(host: "127.0.0.1", port: broker.port, clientID: "observer-311")
        options.protocolVersion = .v311
        let observer = try Observer(broker: broker, options: options)
        try await observer.start()
        let pole = try PoleProcess(brokerPort: broker.port)
        try pole.start()
        _ = try await observer.waitFor(OnlinePayload.self, on: Topics.online("A2")) { $0.online }
        try await observer.publish(Topics(route: Fixture.route).profile, try Fixture.signed(Fixture.profile(version: 1), key: pole.key), retain: true)
        let ack = try await observer.waitFor(ProfileAckPayload.self, on: Topics.profileAck("A2")) { $0.result == "applied" }
        #expect(ack.version == 1)
        // The broker logs each client's protocol: p2 is MQTT 3.1.1, p5 is MQTT 5.
        let log = try String(contentsOfFile: "\(broker.scratch.path)/mosquitto.log", encoding: .utf8)
        #expect(log.contains("as observer-311 (p2"), "\(log)")
        #expect(log.contains("as lichtweg-pole-A2 (p5"), "\(log)")
    }

    @Test("TLS with a CA, a client certificate and key, and a username/password from the credentials file")
    func tlsAndCredentials() async throws {
        let pki = try await TestPKI.make(["server", "pole", "observer"])
        // mosquitto_passwd hashes the password; the broker reads the file as its own user.
        let passwd = Process()
        passwd.executableURL = URL(fileURLWithPath: "/usr/bin/mosquitto_passwd")
        _ = FileManager.default.createFile(atPath: "\(pki.scratch.path)/passwd", contents: nil)
        passwd.arguments = ["-b", "\(pki.scratch.path)/passwd", "pole-a2", "s3cret:with:colons"]
        try passwd.run()
        passwd.waitUntilExit()
        try #require(passwd.terminationStatus == 0)
        let broker = try Broker(extraConfig: """
            \(pki.brokerConfig())
            allow_anonymous false
            password_file \(pki.scratch.path)/passwd
            """)

        var options = MQTTOptions(host: "127.0.0.1", port: broker.port, clientID: "observer-tls")
        options.caFile = pki.ca
        options.certFile = pki.certificate("observer")
        options.keyFile = pki.key("observer")
        options.username = "pole-a2"
        options.password = "s3cret:with:colons"
        let observer = try Observer(broker: broker, options: options)
        try await observer.start()

        try pki.scratch.write("credentials", "pole-a2:s3cret:with:colons\n")
        let pole = try PoleProcess(pole: "A2", brokerPort: broker.port, url: "mqtts://127.0.0.1:\(broker.port)", extraMQTT: """
              caFile: \(pki.ca)
              certFile: \(pki.certificate("pole"))
              keyFile: \(pki.key("pole"))
              credentialsFile: \(pki.scratch.path)/credentials
            """)
        try pole.start()
        let online = try await observer.waitFor(OnlinePayload.self, on: Topics.online("A2"), seconds: 20) { $0.online }
        #expect(online.firmware != nil, "\(pole.log)")
        try await observer.publish(Topics(route: Fixture.route).profile, try Fixture.signed(Fixture.profile(version: 1), key: pole.key), retain: true)
        _ = try await observer.waitFor(ProfileAckPayload.self, on: Topics.profileAck("A2")) { $0.result == "applied" }
    }
}
