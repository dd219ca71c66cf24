import CentralCore
import CentralService
import Crypto
import Foundation
import HummingbirdTesting
import LichtwegTestSupport
import LightCore
import PoleLink
import PoleProtocol
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What the poles report, as the control plane keeps it: alarms with their lifecycle and energy
/// per quarter hour, from a real `lichtweg-pole` through a real mosquitto.
@Suite("Telemetry and alarms end to end", .serialized)
struct IngestTests {
    static func get(_ client: any TestClientProtocol, _ session: APITests.Session, _ uri: String) async throws -> [String: Any] {
        try await client.execute(uri: uri, method: .get, headers: session.headers) { APITests.body($0) }
    }

    /// Polls `uri` until `done` holds for its body (or 30 s pass).
    static func poll(_ client: any TestClientProtocol, _ session: APITests.Session, _ uri: String,
                     until done: ([String: Any]) -> Bool) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        for _ in 0..<300 {
            last = try await get(client, session, uri)
            if done(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        return last
    }

    static func items(_ body: [String: Any]) -> [[String: Any]] { body["items"] as? [[String: Any]] ?? [] }

    /// Pole A2 running, the route's version 1 uploaded and rolled out to A2 as the canary (soaking):
    /// the pole reports, and its faults are the rollout's business too. Erik is logged in.
    static func canaryPole(_ h: CentralHarness, key: Curve25519.Signing.PrivateKey) async throws
        -> (pole: PoleProcess, erik: APITests.Session) {
        let pole = try PoleProcess(pole: "A2", brokerPort: h.broker.port, key: key)
        try pole.start()
        let erik = try await APITests.login(h.client, "erik")
        _ = try await RolloutEndToEndTests.post(h.client, erik, "/api/routes/\(Fixture.route)/profiles",
                                                ["document": Fixture.profile(version: 1)])
        _ = try await RolloutEndToEndTests.post(h.client, erik, "/api/routes/\(Fixture.route)/rollouts",
                                                ["version": 1, "canaries": ["A2"], "soakSeconds": 600])
        _ = try await RolloutEndToEndTests.waitForRollout(h.client, erik) { $0["state"] as? String == "soaking" }
        return (pole, erik)
    }

    @Test("a broken lamp is an alarm until it is repaired; acknowledged by an engineer; energy adds up per quarter hour")
    func alarmsAndEnergy() async throws {
        let key = Curve25519.Signing.PrivateKey()
        try await CentralHarness.with(key: key) { h in
            let (pole, erik) = try await Self.canaryPole(h, key: key)

            try pole.simulate("lamp broken")
            let raised = try await Self.poll(h.client, erik, "/api/alarms?open=true") { !Self.items($0).isEmpty }
            let alarm = try #require(Self.items(raised).first)
            #expect(alarm["code"] as? String == "lamp-failure" && alarm["pole"] as? String == "A2")
            #expect(alarm["route"] as? String == Fixture.route)
            let id = try #require(alarm["id"] as? Int)

            let acked = try await h.client.execute(uri: "/api/alarms/\(id)/acknowledge", method: .post, headers: erik.headers) {
                APITests.body($0)
            }
            #expect(acked["acknowledgedBy"] as? String == "erik" && acked["open"] as? Bool == true)

            try pole.simulate("lamp ok")
            let cleared = try await Self.poll(h.client, erik, "/api/alarms") { body in
                Self.items(body).contains { $0["id"] as? Int == id && $0["open"] as? Bool == false }
            }
            let same = Self.items(cleared).first { $0["id"] as? Int == id }
            #expect(same?["open"] as? Bool == false && same?["clearedAt"] as? String != nil, "\(Self.items(cleared))")
            #expect(same?["acknowledgedBy"] as? String == "erik")

            // The lamp failed after the canary applied the version: that halts the rollout too.
            let rollout = try await Self.get(h.client, erik, "/api/routes/\(Fixture.route)/rollout")
            #expect(rollout["state"] as? String == "halted")
            #expect((rollout["reason"] as? String)?.contains("lamp-failure") == true)

            // Telemetry every 5 s (the test pole's setting): energy shows up per quarter hour.
            let energy = try await Self.poll(h.client, erik, "/api/routes/\(Fixture.route)/energy") {
                ($0["totalWh"] as? Double ?? 0) > 0
            }
            #expect((energy["totalWh"] as? Double ?? 0) > 0, "\(energy)")
            let buckets = energy["buckets"] as? [[String: Any]] ?? []
            #expect(!buckets.isEmpty && buckets.allSatisfy { ($0["start"] as? String)?.hasSuffix("Z") == true })
            // Level time: the lamps were lit at night, at a level between off and full.
            #expect(buckets.contains { ($0["litSeconds"] as? Double ?? 0) > 0 }, "\(buckets)")
            #expect(buckets.allSatisfy { b in (b["meanLitLevelPercent"] as? Double).map { $0 > 0 && $0 <= 100 } ?? true }, "\(buckets)")
            let byPole = try await Self.get(h.client, erik, "/api/poles/A2/energy")
            #expect(abs((byPole["totalWh"] as? Double ?? 0) - (energy["totalWh"] as? Double ?? -1)) < 1e-9)
        }
    }

    @Test("malformed reports are dropped; the control plane goes on")
    func malformedReports() async throws {
        try await CentralHarness.with { h in
            let observer = try Observer(broker: h.broker, name: "garbage")
            try await observer.start()
            let erik = try await APITests.login(h.client, "erik")
            for (i, what) in ["telemetry", "fault", "state", "online", "profile-ack"].enumerated() {
                for payload in ["", "{", "null", "[1,2]", "{\"schema\":\"lichtweg.telemetry/1\",\"pole\":\"Z\"}",
                                String(repeating: "x", count: 10_000)] {
                    try await observer.publish("lichtweg/v1/pole/P\(i)/\(what)", Array(payload.utf8))
                }
            }
            // A report of a pole on a topic that is not its own is refused, not stored.
            let lie = FaultPayload(pole: "B9", code: "lamp-failure", sensor: nil, active: true, detail: nil,
                                   at: Timestamp(Instant(secondsSinceEpoch: Date().timeIntervalSince1970)))
            try await observer.publish("lichtweg/v1/pole/A1/fault", PayloadCodec.encode(lie))
            try await Task.sleep(for: .seconds(1))
            let alarms = try await Self.get(h.client, erik, "/api/alarms")
            #expect(Self.items(alarms).isEmpty)
            let me = try await Self.get(h.client, erik, "/api/me")
            #expect(me["name"] as? String == "erik")
        }
    }
}

extension IngestTests {
    @Test("a browser watching a route gets its present poles and rollout, then their changes, as Server-Sent Events; the UI's files are served with a strict CSP")
    func liveEvents() async throws {
        let key = Curve25519.Signing.PrivateKey()
        try await CentralHarness.with(.live, key: key) { h in
            let erik = try await APITests.login(h.client, "erik")
            _ = try await RolloutEndToEndTests.post(h.client, erik, "/api/routes/\(Fixture.route)/profiles",
                                                    ["document": Fixture.profile(version: 1)])
            let port = try #require(h.client.port)
            // A real HTTP connection that stays open, as a browser's EventSource keeps it.
            let seen = try EventLines(port: port, path: "/api/routes/\(Fixture.route)/events", cookie: erik.cookie)
            defer { seen.close() }
            #expect(await seen.waitFor(": watching \(Fixture.route)"), "\(seen.lines)")
            let pole = try PoleProcess(pole: "A2", brokerPort: h.broker.port, key: key)
            try pole.start()
            #expect(await seen.waitFor("event: pole"), "no pole event: \(seen.lines)")
            #expect(seen.lines.contains { $0.hasPrefix("data: {") && $0.contains("\"pole\":\"A2\"") })

            // A browser that subscribes later gets the route as it is first: its poles and the
            // rollout. The canary A1 never runs, so this rollout sends nothing more for 300 s: a
            // rollout event on the new stream is the present state, not a change.
            let started = try await RolloutEndToEndTests.post(h.client, erik, "/api/routes/\(Fixture.route)/rollouts",
                                                              ["version": 1, "canaries": ["A1"], "ackTimeoutSeconds": 300])
            #expect(started.status == .created)
            let late = try EventLines(port: port, path: "/api/routes/\(Fixture.route)/events", cookie: erik.cookie)
            defer { late.close() }
            #expect(await late.waitFor("event: rollout"), "no present rollout: \(late.lines)")
            let data = late.lines.filter { $0.hasPrefix("data: {") }
            #expect(data.contains { $0.contains("\"pole\":\"A2\"") }, "\(late.lines)")
            #expect(data.contains { $0.contains("\"state\":\"canary\"") && $0.contains("\"canaries\":[\"A1\"]") }, "\(late.lines)")
            let watching = try #require(late.lines.firstIndex(of: ": watching \(Fixture.route)"))
            let firstEvent = try #require(late.lines.firstIndex { $0.hasPrefix("event: ") })
            #expect(watching < firstEvent)

            let page = try await h.client.execute(uri: "/", method: .get) { $0 }
            #expect(page.status == .ok)
            #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
            #expect(String(buffer: page.body).contains("<html"))
        }
    }
}

/// The lines of a streaming HTTP response, as they arrive, over a plain TCP connection.
final class EventLines: @unchecked Sendable {
    private let fd: Int32
    private let state = NSLock()
    private var received: [String] = []
    private var partial = ""

    init(port: Int, path: String, cookie: String) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw CancellationError() }
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: \(cookie)\r\nAccept: text/event-stream\r\n\r\n"
        _ = request.withCString { write(fd, $0, strlen($0)) }
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(fd, &buffer, buffer.count)
                if n <= 0 { return }
                append(String(decoding: buffer[0..<n], as: UTF8.self))
            }
        }
        thread.start()
    }

    private func append(_ text: String) {
        state.lock()
        defer { state.unlock() }
        // "\r\n" is one Character in Swift: lines are split on bytes.
        partial += text
        var bytes = Array(partial.utf8)
        while let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) {
            var line = Array(bytes[..<newline])
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            received.append(String(decoding: line, as: UTF8.self))
            bytes.removeFirst(newline + 1)
        }
        partial = String(decoding: bytes, as: UTF8.self)
    }

    var lines: [String] {
        state.lock()
        defer { state.unlock() }
        return received
    }

    func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }

    func waitFor(_ prefix: String, seconds: Double = 20) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if lines.contains(where: { $0.hasPrefix(prefix) }) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}

extension IngestTests {
    @Test("/metrics: ingest counts and the state of poles, rollouts and alarms in Prometheus text")
    func metrics() async throws {
        let key = Curve25519.Signing.PrivateKey()
        try await CentralHarness.with(key: key) { h in
            let (pole, _) = try await Self.canaryPole(h, key: key)
            var text = ""
            for _ in 0..<100 {
                text = try await h.client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
                if text.contains("lichtweg_central_telemetry_reports_total 1") || text.contains("lichtweg_central_telemetry_reports_total 2") { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            func value(_ line: String) -> Double? {
                text.split(separator: "\n").first { $0.hasPrefix(line + " ") }.flatMap { Double($0.split(separator: " ").last!) }
            }
            #expect((value("lichtweg_central_mqtt_messages_total") ?? 0) > 0, "\(text)")
            #expect((value("lichtweg_central_telemetry_reports_total") ?? 0) >= 1, "\(text)")
            #expect(value("lichtweg_central_poles_online") == 1, "\(text)")
            #expect(value("lichtweg_central_rollout_poles_applied{route=\"\(Fixture.route)\"}") == 1, "\(text)")
            #expect(value("lichtweg_central_rollout_poles{route=\"\(Fixture.route)\"}") == 3, "\(text)")
            #expect(value("lichtweg_central_rollout_running{route=\"\(Fixture.route)\"}") == 1, "\(text)")
            #expect(value("lichtweg_central_alarms_open") != nil, "\(text)")
            withExtendedLifetime(pole) {}  // the process runs as long as its object lives
        }
    }
}
