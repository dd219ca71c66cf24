import CentralCore
import CentralService
import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import LichtwegTestSupport
import LightCore
import PoleProtocol
import Testing

/// Upload → staged rollout → every pole applied → rollback, against a real mosquitto and real
/// `lichtweg-pole` processes (the `sim` backend: the lamp is a stand-in sysfs directory).
@Suite("Rollout end to end", .serialized)
struct RolloutEndToEndTests {
    static let poles = ["A1", "A2", "A3"]

    /// Polls the route's rollout until `done` holds for it (or 40 s pass); returns the last view.
    static func waitForRollout(_ client: any TestClientProtocol, _ session: APITests.Session,
                               until done: ([String: Any]) -> Bool) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        for _ in 0..<400 {
            last = try await client.execute(uri: "/api/routes/\(Fixture.route)/rollout", method: .get,
                                            headers: session.headers) { APITests.body($0) }
            if done(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        return last
    }

    static func post(_ client: any TestClientProtocol, _ session: APITests.Session, _ uri: String,
                     _ body: [String: Any]) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .post, headers: session.headers, body: APITests.json(body)) { $0 }
    }

    @Test("canary first, then the route; a rollback is a new version every pole applies")
    func stagedRolloutAndRollback() async throws {
        let key = Curve25519.Signing.PrivateKey()
        try await CentralHarness.with(key: key) { h in
            let processes = try Self.poles.map { try PoleProcess(pole: $0, brokerPort: h.broker.port, key: key) }
            for p in processes { try p.start() }
            let erik = try await APITests.login(h.client, "erik")

            // Version 1, canary A2, then the rest.
            var response = try await Self.post(h.client, erik, "/api/routes/\(Fixture.route)/profiles",
                                               ["document": Fixture.profile(version: 1, baseLevel: 10), "comment": "first"])
            #expect(response.status == .created)
            response = try await Self.post(h.client, erik, "/api/routes/\(Fixture.route)/rollouts",
                                           ["version": 1, "canaries": ["A2"], "soakSeconds": 1, "ackTimeoutSeconds": 30])
            #expect(response.status == .created)
            #expect(APITests.body(response)["state"] as? String == "canary")
            var view = try await Self.waitForRollout(h.client, erik) { $0["state"] as? String != "canary" }
            // Between the canary's ack and the end of the soak only the canary has it.
            if view["state"] as? String == "soaking" {
                #expect(try processes[0].storedProfileVersion() == nil && processes[2].storedProfileVersion() == nil)
            }
            view = try await Self.waitForRollout(h.client, erik) { $0["state"] as? String == "completed" }
            #expect(view["state"] as? String == "completed", "\(view)")
            #expect(view["applied"] as? Int == 3)
            for p in processes { #expect(try p.storedProfileVersion() == 1) }
            // Finished: there is nothing to halt.
            response = try await Self.post(h.client, erik, "/api/routes/\(Fixture.route)/rollout/halt", ["reason": "late"])
            #expect(response.status == .notFound)

            // The same version again: the poles run it already (and say nothing to the same bytes);
            // their reported state answers for them, and the rollout completes.
            response = try await Self.post(h.client, erik, "/api/routes/\(Fixture.route)/rollouts",
                                           ["version": 1, "canaries": ["A1"], "soakSeconds": 1])
            #expect(response.status == .created)
            view = try await Self.waitForRollout(h.client, erik) { $0["state"] as? String == "completed" }
            #expect(view["state"] as? String == "completed", "\(view)")

            // Version 2 (brighter base), straight to the route.
            _ = try await Self.post(h.client, erik, "/api/routes/\(Fixture.route)/profiles",
                                    ["document": Fixture.profile(version: 2, baseLevel: 30)])
            _ = try await Self.post(h.client, erik, "/api/routes/\(Fixture.route)/rollouts", ["version": 2])
            view = try await Self.waitForRollout(h.client, erik) { $0["version"] as? Int == 2 && $0["state"] as? String == "completed" }
            #expect(view["state"] as? String == "completed", "\(view)")
            #expect(await eventually(30) { processes.allSatisfy { $0.lampPercent() == 30 } })

            // Roll back to version 1's content: version 3, applied everywhere, base 10 again.
            response = try await Self.post(h.client, erik, "/api/routes/\(Fixture.route)/rollback", ["toVersion": 1])
            #expect(response.status == .created, "\(APITests.body(response))")
            #expect(APITests.body(response)["version"] as? Int == 3)
            view = try await Self.waitForRollout(h.client, erik) { $0["version"] as? Int == 3 && $0["state"] as? String == "completed" }
            #expect(view["state"] as? String == "completed", "\(view)")
            for p in processes { #expect(try p.storedProfileVersion() == 3) }
            #expect(await eventually(30) { processes.allSatisfy { $0.lampPercent() == 10 } })

            // What the control plane saw of the poles, and what it wrote down.
            let poles = try await h.client.execute(uri: "/api/routes/\(Fixture.route)/poles", method: .get, headers: erik.headers) {
                (APITests.body($0)["items"] as? [[String: Any]]) ?? []
            }
            #expect(poles.map { $0["pole"] as? String } == Self.poles)
            #expect(poles.allSatisfy { $0["online"] as? Bool == true })
            let actions = try await h.client.execute(uri: "/api/audit", method: .get, headers: erik.headers) {
                ((APITests.body($0)["items"] as? [[String: Any]]) ?? []).compactMap { $0["action"] as? String }
            }
            #expect(actions.filter { $0 == "rollout.start" }.count == 4)
            #expect(actions.filter { $0 == "profile.upload" }.count == 3)
        }
    }

    @Test("a canary that rejects the version halts the rollout with its reason; the others never get it")
    func rejectionHalts() async throws {
        let key = Curve25519.Signing.PrivateKey()
        try await CentralHarness.with(key: key) { h in
            // A3 was installed with another profile key: it refuses the control plane's signature.
            let processes = try Self.poles.map {
                try PoleProcess(pole: $0, brokerPort: h.broker.port, key: $0 == "A3" ? Curve25519.Signing.PrivateKey() : key)
            }
            for p in processes { try p.start() }
            let erik = try await APITests.login(h.client, "erik")
            _ = try await Self.post(h.client, erik, "/api/routes/\(Fixture.route)/profiles", ["document": Fixture.profile(version: 1)])
            let response = try await Self.post(h.client, erik, "/api/routes/\(Fixture.route)/rollouts",
                                               ["version": 1, "canaries": ["A3"], "soakSeconds": 1, "ackTimeoutSeconds": 30])
            #expect(response.status == .created)
            let view = try await Self.waitForRollout(h.client, erik) { $0["state"] as? String == "halted" }
            #expect(view["state"] as? String == "halted")
            #expect((view["reason"] as? String)?.contains("pole A3 rejected version 1: bad-signature") == true, "\(view)")
            let a3 = (view["poles"] as? [[String: Any]])?.first { $0["pole"] as? String == "A3" }
            #expect(a3?["progress"] as? String == "rejected")
            try await Task.sleep(for: .seconds(2))  // longer than the soak: nothing follows a halt
            #expect(try processes[0].storedProfileVersion() == nil && processes[1].storedProfileVersion() == nil)
            // A halted rollout is finished: the engineer may start again (after fixing the pole).
            // A running one blocks another of the same route.
            let again = try await Self.post(h.client, erik, "/api/routes/\(Fixture.route)/rollouts",
                                            ["version": 1, "canaries": ["A1"], "soakSeconds": 600])
            #expect(again.status == .created)
            let huge = try await Self.post(h.client, erik, "/api/routes/\(Fixture.route)/rollouts",
                                           ["version": 1, "canaries": ["A1"], "ackTimeoutSeconds": 1e300])
            #expect(huge.status == .conflict || huge.status == .unprocessableContent, "\(huge.status)")
            let busy = try await Self.post(h.client, erik, "/api/routes/\(Fixture.route)/rollouts", ["version": 1])
            #expect(busy.status == .conflict && APITests.error(busy).code == "rollout-running")
            // A rollback is refused too, before it stores anything.
            let rollback = try await Self.post(h.client, erik, "/api/routes/\(Fixture.route)/rollback", ["toVersion": 1])
            #expect(rollback.status == .conflict)
            #expect(try await h.storage.profileVersions(route: Fixture.route).map(\.version) == [1])
            // Halted by the engineer, with the reason kept.
            let halted = try await Self.post(h.client, erik, "/api/routes/\(Fixture.route)/rollout/halt", ["reason": "A3 is being replaced"])
            #expect(halted.status == .ok)
            #expect((APITests.body(halted)["reason"] as? String)?.contains("A3 is being replaced") == true)
        }
    }
}

extension RolloutEndToEndTests {
    @Test("a route override reaches every pole's lamp and is cleared again; bad overrides are refused")
    func overrides() async throws {
        let key = Curve25519.Signing.PrivateKey()
        try await CentralHarness.with(key: key) { h in
            let processes = try Self.poles.map { try PoleProcess(pole: $0, brokerPort: h.broker.port, key: key) }
            for p in processes { try p.start() }
            let erik = try await APITests.login(h.client, "erik")
            _ = try await Self.post(h.client, erik, "/api/routes/\(Fixture.route)/profiles",
                                    ["document": Fixture.profile(version: 1, baseLevel: 10)])
            _ = try await Self.post(h.client, erik, "/api/routes/\(Fixture.route)/rollouts", ["version": 1])
            _ = try await Self.waitForRollout(h.client, erik) { $0["state"] as? String == "completed" }
            #expect(await eventually(30) { processes.allSatisfy { $0.lampPercent() == 10 } })

            let until = Timestamp(Instant(secondsSinceEpoch: Date().timeIntervalSince1970 + 3600)).description
            let set = try await Self.post(h.client, erik, "/api/routes/\(Fixture.route)/override",
                                          ["level": 55, "until": until, "reason": "roadworks at A2"])
            #expect(set.status == .ok)
            #expect(await eventually(30) { processes.allSatisfy { $0.lampPercent() == 55 } },
                    "\(processes.map { $0.lampPercent() ?? -1 })")
            let cleared = try await h.client.execute(uri: "/api/routes/\(Fixture.route)/override", method: .delete,
                                                     headers: erik.headers) { $0 }
            #expect(cleared.status == .ok)
            #expect(await eventually(30) { processes.allSatisfy { $0.lampPercent() == 10 } })

            let past = Timestamp(Instant(secondsSinceEpoch: Date().timeIntervalSince1970 - 60)).description
            for (body, status) in [(["level": 150, "until": until, "reason": "x"], 400), (["level": 50, "until": past, "reason": "x"], 400),
                                   (["level": 50, "until": until, "reason": "  "], 400), (["level": 50, "until": "soon", "reason": "x"], 400)]
                as [([String: Any], Int)] {
                let response = try await Self.post(h.client, erik, "/api/poles/A2/override", body)
                #expect(Int(response.status.code) == status, "\(body) → \(response.status.code)")
            }
            #expect(try await Self.post(h.client, erik, "/api/poles/Z9/override",
                                        ["level": 50, "until": until, "reason": "x"]).status == .notFound)
            let vera = try await APITests.login(h.client, "vera")
            #expect(try await Self.post(h.client, vera, "/api/poles/A2/override",
                                        ["level": 50, "until": until, "reason": "x"]).status == .forbidden)
            #expect(processes.allSatisfy { $0.lampPercent() == 10 })
        }
    }
}
