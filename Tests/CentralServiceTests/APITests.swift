import CentralCore
import CentralService
import CentralStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import HummingbirdTesting
import LightCore
import PoleProtocol
import Testing

/// The HTTP API in process (router) and over a real socket (live), on a real SQLite file.
@Suite("Control-plane API")
struct APITests {
    static let key = Curve25519.Signing.PrivateKey()
    static let profileV1 = try! String(contentsOfFile: "\(repoRoot)/Profiles/brandis-beucha.yaml", encoding: .utf8)
    static var repoRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// An application on a fresh SQLite file with three users (password "correct horse"), linked
    /// to a real mosquitto on a free loopback port.
    static func withApp(_ setup: TestingSetup = .router,
                        _ body: @Sendable @escaping (any TestClientProtocol, SQLiteStorage) async throws -> Void) async throws {
        try await CentralHarness.with(setup, key: key) { h in try await body(h.client, h.storage) }
    }

    struct Session {
        var cookie: String
        var csrf: String
        var headers: HTTPFields {
            [.cookie: cookie, HTTPField.Name("X-CSRF-Token")!: csrf, .contentType: "application/json"]
        }
    }

    static func login(_ client: any TestClientProtocol, _ name: String, password: String = "correct horse") async throws -> Session {
        try await client.execute(uri: "/api/login", method: .post, headers: [.contentType: "application/json"],
                                 body: json(["name": name, "password": password])) { response in
            #expect(response.status == .ok)
            let setCookie = try #require(response.headers[.setCookie])
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"))
            let me = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
            return Session(cookie: String(setCookie.split(separator: ";")[0]), csrf: try #require(me?["csrf"] as? String))
        }
    }

    static func json(_ object: Any) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
    }

    static func body(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
    }

    static func error(_ response: TestResponse) -> (code: String?, details: [[String: Any]]) {
        let e = body(response)["error"] as? [String: Any]
        return (e?["code"] as? String, e?["details"] as? [[String: Any]] ?? [])
    }

    // MARK: - Tests

    @Test("an engineer uploads a profile: validated, stored, signed with the server's key, audited")
    func upload() async throws {
        try await Self.withApp { client, storage in
            let erik = try await Self.login(client, "erik")
            try await client.execute(uri: "/api/routes/brandis-beucha/profiles", method: .post, headers: erik.headers,
                                     body: Self.json(["document": Self.profileV1, "comment": "first"])) { response in
                #expect(response.status == .created)
                #expect(Self.body(response)["version"] as? Int == 1)
                #expect(Self.body(response)["author"] as? String == "erik")
            }
            let stored = try #require(try await storage.profileVersion(route: "brandis-beucha", version: 1))
            #expect(stored.document == Self.profileV1)
            let signed = try PayloadCodec.decode(SignedProfile.self, from: Data(stored.signedBundle.utf8))
            let accepted = ProfileAcceptance(publicKey: Self.key.publicKey, route: "brandis-beucha", pole: "BB-001")
                .check(signed, versionInForce: nil)
            #expect((try? accepted.get()) != nil, "the pole's own checks accept the bundle")
            try await client.execute(uri: "/api/routes/brandis-beucha/profiles", method: .get, headers: erik.headers) { response in
                let items = Self.body(response)["items"] as? [[String: Any]]
                #expect(items?.map { $0["version"] as? Int } == [1])
            }
            try await client.execute(uri: "/api/audit", method: .get, headers: erik.headers) { response in
                let actions = (Self.body(response)["items"] as? [[String: Any]])?.compactMap { $0["action"] as? String }
                #expect(actions == ["profile.upload", "login"])
            }
        }
    }

    @Test("an invalid profile is refused with every problem's line and field; nothing is stored")
    func invalidProfile() async throws {
        try await Self.withApp { client, storage in
            let erik = try await Self.login(client, "erik")
            let broken = Self.profileV1.replacingOccurrences(of: "version: 1", with: "version: -3")
                .replacingOccurrences(of: "stepRampSeconds:", with: "stepRampSecond:")
            for uri in ["/api/profiles/check", "/api/routes/brandis-beucha/profiles"] {
                try await client.execute(uri: uri, method: .post, headers: erik.headers,
                                         body: Self.json(["document": broken])) { response in
                    #expect(response.status == .unprocessableContent)
                    let (code, details) = Self.error(response)
                    #expect(code == "invalid-profile")
                    #expect(!details.isEmpty)
                    #expect(details.allSatisfy { ($0["line"] as? Int ?? 0) > 0 && !(($0["field"] as? String) ?? "").isEmpty })
                }
            }
            #expect(try await storage.profileVersions(route: "brandis-beucha").isEmpty)
        }
    }

    @Test("versions only go up; the route in the document must be the route uploaded to")
    func versionsAndRoutes() async throws {
        try await Self.withApp { client, _ in
            let erik = try await Self.login(client, "erik")
            let upload = { (route: String, doc: String) in
                try await client.execute(uri: "/api/routes/\(route)/profiles", method: .post, headers: erik.headers,
                                         body: Self.json(["document": doc])) { $0 }
            }
            #expect(try await upload("brandis-beucha", Self.profileV1).status == .created)
            let again = try await upload("brandis-beucha", Self.profileV1)
            #expect(again.status == .conflict && Self.error(again).code == "not-newer")
            let wrong = try await upload("naunhof-ammelshain", Self.profileV1)
            #expect(wrong.status == .unprocessableContent && Self.error(wrong).code == "wrong-route")
        }
    }

    @Test("roles: a viewer reads but cannot upload; nobody logged in gets 401")
    func roles() async throws {
        try await Self.withApp { client, _ in
            try await client.execute(uri: "/api/routes", method: .get) { #expect($0.status == .unauthorized) }
            let vera = try await Self.login(client, "vera")
            try await client.execute(uri: "/api/routes", method: .get, headers: vera.headers) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/routes/brandis-beucha/profiles", method: .post, headers: vera.headers,
                                     body: Self.json(["document": Self.profileV1])) { response in
                #expect(response.status == .forbidden)
                #expect(Self.error(response).code == "forbidden")
            }
        }
    }

    @Test("a change without the session's CSRF token is refused")
    func csrf() async throws {
        try await Self.withApp { client, storage in
            let erik = try await Self.login(client, "erik")
            for token in [nil, "forged"] {
                var headers: HTTPFields = [.cookie: erik.cookie, .contentType: "application/json"]
                if let token { headers[HTTPField.Name("X-CSRF-Token")!] = token }
                try await client.execute(uri: "/api/routes/brandis-beucha/profiles", method: .post, headers: headers,
                                         body: Self.json(["document": Self.profileV1])) { response in
                    #expect(response.status == .forbidden)
                    #expect(Self.error(response).code == "csrf")
                }
            }
            #expect(try await storage.profileVersions(route: "brandis-beucha").isEmpty)
        }
    }

    @Test("wrong passwords and unknown users get the same 401; logout ends the session")
    func loginLogout() async throws {
        try await Self.withApp { client, _ in
            for (name, password) in [("erik", "wrong"), ("nobody", "correct horse")] {
                try await client.execute(uri: "/api/login", method: .post, headers: [.contentType: "application/json"],
                                         body: Self.json(["name": name, "password": password])) { response in
                    #expect(response.status == .unauthorized)
                    #expect(Self.error(response).code == "bad-credentials")
                    #expect(response.headers[.setCookie] == nil)
                }
            }
            let erik = try await Self.login(client, "erik")
            try await client.execute(uri: "/api/me", method: .get, headers: erik.headers) { response in
                #expect(Self.body(response)["role"] as? String == "engineer")
            }
            try await client.execute(uri: "/api/logout", method: .post, headers: erik.headers) { #expect($0.status == .noContent) }
            try await client.execute(uri: "/api/me", method: .get, headers: erik.headers) { #expect($0.status == .unauthorized) }
        }
    }

    @Test("body limits: a profile document may be 4 MiB (a route of 10,000 poles is 1.4 MiB), other bodies 1 MiB")
    func bodyLimits() async throws {
        try await Self.withApp { client, storage in
            let erik = try await Self.login(client, "erik")
            // The valid profile with a 2 MiB comment line: over the general limit, under the document's.
            let padded = Self.profileV1 + "\n# " + String(repeating: "x", count: 2 << 20) + "\n"
            try await client.execute(uri: "/api/profiles/check", method: .post, headers: erik.headers,
                                     body: Self.json(["document": padded])) { response in
                #expect(response.status == .ok, "\(response.status)")
            }
            let huge = String(repeating: "x", count: (4 << 20) + 1)
            for uri in ["/api/profiles/check", "/api/routes/brandis-beucha/profiles"] {
                try await client.execute(uri: uri, method: .post, headers: erik.headers, body: Self.json(["document": huge])) { response in
                    #expect(response.status == .contentTooLarge && Self.error(response).code == "too-large", "\(uri) → \(response.status)")
                }
            }
            try await client.execute(uri: "/api/login", method: .post, headers: erik.headers,
                                     body: Self.json(["name": String(repeating: "x", count: 2 << 20), "password": "x"])) { response in
                #expect(response.status == .contentTooLarge)
            }
            #expect(try await storage.profileVersions(route: "brandis-beucha").isEmpty)
        }
    }

    @Test("bad input on every endpoint: a 4xx with a JSON error body, never a 500", arguments: [TestingSetup.router, .live])
    func badInput(_ setup: TestingSetup) async throws {
        try await Self.withApp(setup) { client, _ in
            let erik = try await Self.login(client, "erik")
            let bodies: [ByteBuffer?] = [nil, ByteBuffer(string: ""), ByteBuffer(string: "{"), ByteBuffer(string: "[]"),
                                         ByteBuffer(string: "{\"document\": 5}"), ByteBuffer(string: "{\"name\": null}"),
                                         ByteBuffer(string: "\u{0}\u{1}garbage"), ByteBuffer(string: "{\"document\": \"a: [\"}")]
            let posts = ["/api/login", "/api/profiles/check", "/api/routes/brandis-beucha/profiles", "/api/logout"]
            for uri in posts {
                for body in bodies {
                    try await client.execute(uri: uri, method: .post, headers: erik.headers, body: body) { response in
                        let code = response.status.code
                        #expect((400..<500).contains(code) || (uri == "/api/logout" && code == 204), "\(uri) → \(code)")
                        if code >= 400 { #expect(Self.error(response).code != nil, "\(uri): no JSON error body") }
                    }
                }
            }
            for uri in ["/api/nowhere", "/api/routes/nowhere/profiles", "/api/routes/brandis-beucha/profiles/x",
                        "/api/routes/brandis-beucha/profiles/99", "/api/audit?limit=0", "/api/audit?limit=abc"] {
                try await client.execute(uri: uri, method: .get, headers: erik.headers) { response in
                    #expect((400..<500).contains(response.status.code), "\(uri) → \(response.status.code)")
                    #expect(Self.error(response).code != nil, "\(uri): no JSON error body")
                    #expect(response.headers[.contentSecurityPolicy] != nil, "\(uri): a refusal without the security headers")
                }
            }
        }
    }
}

extension APITests {
    @Test("preview: the night's plan and the simulator's figures; layout of the stored route")
    func previewAndLayout() async throws {
        try await Self.withApp { client, _ in
            let vera = try await Self.login(client, "vera")
            let body = Self.json(["document": Self.profileV1, "date": "2026-12-01", "nights": 2])
            let preview = try await client.execute(uri: "/api/profiles/preview", method: .post, headers: vera.headers, body: body) { $0 }
            #expect(preview.status == .ok)
            let result = Self.body(preview)
            let night = try #require(result["night"] as? [String: Any])
            #expect(night["date"] as? String == "2026-12-01")
            #expect((night["switchOn"] as? String)?.hasPrefix("2026-12-01T") == true)
            #expect(!((night["steps"] as? [[String: Any]]) ?? []).isEmpty)
            let sim = try #require(result["simulation"] as? [String: Any])
            #expect(sim["nights"] as? Int == 2)
            let savings = try #require(sim["savingsVsFull"] as? Double)
            #expect(savings > 0 && savings < 1)
            #expect((sim["energyKWh"] as? Double ?? 0) > 0 && (sim["lightAheadRatio"] as? Double ?? 2) <= 1)

            for (payload, status) in [(["document": "version: x"], 422), (["document": Self.profileV1, "nights": 0], 400),
                                      (["document": Self.profileV1, "traffic": "autobahn"], 400),
                                      (["document": Self.profileV1, "date": "1.12.2026"], 400)] as [([String: Any], Int)] {
                try await client.execute(uri: "/api/profiles/preview", method: .post, headers: vera.headers,
                                         body: Self.json(payload)) { response in
                    #expect(Int(response.status.code) == status, "\(payload.keys.sorted()) → \(response.status.code)")
                    #expect(Self.error(response).code != nil)
                }
            }
            let models = try await client.execute(uri: "/api/traffic-models", method: .get, headers: vera.headers) {
                Self.body($0)["items"] as? [String]
            }
            #expect(models?.contains("rural-night") == true)

            let erik = try await Self.login(client, "erik")
            _ = try await client.execute(uri: "/api/routes/brandis-beucha/profiles", method: .post, headers: erik.headers,
                                         body: Self.json(["document": Self.profileV1])) { $0 }
            let layout = try await client.execute(uri: "/api/routes/brandis-beucha/layout", method: .get, headers: vera.headers) {
                Self.body($0)
            }
            let poles = (layout["poles"] as? [[String: Any]]) ?? []
            #expect(poles.count == 50 && poles.first?["id"] as? String == "BB-001")
            let chainages = poles.compactMap { $0["chainage"] as? Double }
            #expect(chainages == chainages.sorted())
            // No reports yet: no baseline and no savings (not 100 %).
            let energy = try await client.execute(uri: "/api/routes/brandis-beucha/energy", method: .get, headers: vera.headers) {
                Self.body($0)
            }
            #expect(energy["totalWh"] as? Double == 0 && energy["savingsVsFull"] == nil && energy["fullLightWh"] == nil)
        }
    }
}

extension APITests {
    @Test("NGSI-LD export: one FIWARE Streetlight per pole, GeoJSON coordinates, status from the pole's faults")
    func ngsiLD() async throws {
        try await Self.withApp { client, storage in
            let erik = try await Self.login(client, "erik")
            _ = try await client.execute(uri: "/api/routes/brandis-beucha/profiles", method: .post, headers: erik.headers,
                                         body: Self.json(["document": Self.profileV1])) { $0 }
            try await storage.savePoleSnapshot(PoleSnapshot(pole: "BB-002", route: "brandis-beucha", online: true, level: 20,
                                                            faults: ["lamp-failure"], updatedAt: Instant(secondsSinceEpoch: 1_795_000_000)))
            let response = try await client.execute(uri: "/api/routes/brandis-beucha/ngsi-ld", method: .get, headers: erik.headers) { $0 }
            #expect(response.headers[.contentType] == "application/ld+json")
            let entities = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [[String: Any]])
            #expect(entities.count == 50)
            let first = entities[0]
            #expect(first["id"] as? String == "urn:ngsi-ld:Streetlight:brandis-beucha:BB-001" && first["type"] as? String == "Streetlight")
            let point = (first["location"] as? [String: Any])?["value"] as? [String: Any]
            let coordinates = point?["coordinates"] as? [Double]
            #expect(point?["type"] as? String == "Point" && coordinates?.count == 2)
            #expect(abs((coordinates?[0] ?? 0) - 12.59620) < 1e-6 && abs((coordinates?[1] ?? 0) - 51.32985) < 1e-6, "lon, lat")
            #expect((first["status"] as? [String: Any])?["value"] as? String == "ok" && first["powerState"] == nil)
            let second = entities[1]
            #expect((second["status"] as? [String: Any])?["value"] as? String == "defectiveLamp")
            #expect((second["powerState"] as? [String: Any])?["value"] as? String == "low")
            #expect((second["illuminanceLevel"] as? [String: Any])?["value"] as? Double == 0.2)
            #expect((first["@context"] as? [String])?.count == 2)
            #expect((first["refStreetlightGroup"] as? [String: Any])?["object"] as? String == "urn:ngsi-ld:StreetlightGroup:brandis-beucha")
        }
    }
}

extension APITests {
    @Test("API tokens: made by an admin, shown once, act with their role without cookie or CSRF, revoked")
    func tokens() async throws {
        try await Self.withApp { client, _ in
            let ada = try await Self.login(client, "ada")
            let erik = try await Self.login(client, "erik")
            let refused = try await client.execute(uri: "/api/tokens", method: .post, headers: erik.headers,
                                                   body: Self.json(["name": "ci", "role": "engineer"])) { $0 }
            #expect(refused.status == .forbidden)
            let made = try await client.execute(uri: "/api/tokens", method: .post, headers: ada.headers,
                                                body: Self.json(["name": "ci", "role": "engineer"])) { Self.body($0) }
            let token = try #require(made["token"] as? String)
            let bearer: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
            let upload = try await client.execute(uri: "/api/routes/brandis-beucha/profiles", method: .post, headers: bearer,
                                                  body: Self.json(["document": Self.profileV1])) { $0 }
            #expect(upload.status == .created)
            #expect(Self.body(upload)["author"] as? String == "token:ci")
            let viewerToken = try await client.execute(uri: "/api/tokens", method: .post, headers: ada.headers,
                                                       body: Self.json(["name": "grafana", "role": "viewer"])) { Self.body($0)["token"] as? String }
            let reader: HTTPFields = [.authorization: "Bearer \(viewerToken ?? "")"]
            #expect(try await client.execute(uri: "/api/routes", method: .get, headers: reader) { $0.status } == .ok)
            #expect(try await client.execute(uri: "/api/routes/brandis-beucha/rollouts", method: .post, headers: reader,
                                             body: Self.json(["version": 1])) { $0.status } == .forbidden)
            #expect(try await client.execute(uri: "/api/tokens/ci", method: .delete, headers: ada.headers) { $0.status } == .noContent)
            let revoked = try await client.execute(uri: "/api/routes", method: .get, headers: bearer) { $0 }
            #expect(revoked.status == .unauthorized && Self.error(revoked).code == "bad-token")
            #expect(try await client.execute(uri: "/api/routes", method: .get, headers: [.authorization: "Bearer nonsense"]) { $0.status }
                    == .unauthorized)
        }
    }

    @Test("users: an admin adds, lists, changes and removes them; a change ends their sessions; the last admin stays; everyone changes their own password")
    func users() async throws {
        try await Self.withApp { client, storage in
            let ada = try await Self.login(client, "ada")
            let erik = try await Self.login(client, "erik")
            #expect(try await client.execute(uri: "/api/users", method: .get, headers: erik.headers) { $0.status } == .forbidden)
            let list = try await client.execute(uri: "/api/users", method: .get, headers: ada.headers) { Self.body($0) }
            let names = (list["items"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            #expect(names == ["ada", "erik", "vera"])

            // Added, and able to log in with the role given.
            let added = try await client.execute(uri: "/api/users", method: .post, headers: ada.headers,
                                                 body: Self.json(["name": "nora", "role": "engineer", "password": "long enough pw"])) { $0 }
            #expect(added.status == .created && Self.body(added)["role"] as? String == "engineer")
            var nora = try await Self.login(client, "nora", password: "long enough pw")
            for bad: [String: Any] in [["name": "nora", "role": "viewer", "password": "long enough pw"],
                                       ["name": "x y", "role": "viewer", "password": "long enough pw"],
                                       ["name": "short", "role": "viewer", "password": "2short"],
                                       ["name": "nobody", "role": "superuser", "password": "long enough pw"]] {
                let refused = try await client.execute(uri: "/api/users", method: .post, headers: ada.headers, body: Self.json(bad)) { $0 }
                #expect(refused.status == .conflict || refused.status == .badRequest, "\(bad) → \(refused.status)")
            }

            // A demotion takes effect at once: nora's session is gone.
            let demoted = try await client.execute(uri: "/api/users/nora", method: .patch, headers: ada.headers,
                                                   body: Self.json(["role": "viewer"])) { Self.body($0) }
            #expect(demoted["role"] as? String == "viewer")
            #expect(try await client.execute(uri: "/api/me", method: .get, headers: nora.headers) { $0.status } == .unauthorized)
            nora = try await Self.login(client, "nora", password: "long enough pw")
            #expect(try await client.execute(uri: "/api/tokens", method: .post, headers: nora.headers,
                                             body: Self.json(["name": "n", "role": "viewer"])) { $0.status } == .forbidden)

            // Her own password: the current one is needed; her session stays, others end.
            let other = try await Self.login(client, "nora", password: "long enough pw")
            #expect(try await client.execute(uri: "/api/me/password", method: .post, headers: nora.headers,
                                             body: Self.json(["current": "wrong password", "new": "a new password"])) { $0.status } == .forbidden)
            #expect(try await client.execute(uri: "/api/me/password", method: .post, headers: nora.headers,
                                             body: Self.json(["current": "long enough pw", "new": "a new password"])) { $0.status } == .noContent)
            #expect(try await client.execute(uri: "/api/me", method: .get, headers: nora.headers) { $0.status } == .ok)
            #expect(try await client.execute(uri: "/api/me", method: .get, headers: other.headers) { $0.status } == .unauthorized)
            let old = try await client.execute(uri: "/api/login", method: .post, headers: [.contentType: "application/json"],
                                               body: Self.json(["name": "nora", "password": "long enough pw"])) { $0.status }
            #expect(old == .unauthorized)
            _ = try await Self.login(client, "nora", password: "a new password")

            // The last admin can be neither demoted nor removed; another admin makes it possible.
            for (method, body) in [(HTTPRequest.Method.patch, Self.json(["role": "engineer"])), (.delete, ByteBuffer())] {
                let refused = try await client.execute(uri: "/api/users/ada", method: method, headers: ada.headers, body: body) { $0 }
                #expect(refused.status == .conflict && Self.error(refused).code == "last-admin")
            }
            #expect(try await client.execute(uri: "/api/users/erik", method: .patch, headers: ada.headers,
                                             body: Self.json(["role": "admin"])) { $0.status } == .ok)
            #expect(try await client.execute(uri: "/api/users/nora", method: .delete, headers: ada.headers) { $0.status } == .noContent)
            #expect(try await client.execute(uri: "/api/users/nora", method: .delete, headers: ada.headers) { $0.status } == .notFound)
            #expect(try await storage.user(named: "nora") == nil)
            let actions = try await storage.audit(limit: 50).map(\.action)
            for action in ["user.add", "user.change", "user.password", "user.remove"] { #expect(actions.contains(action), "\(action)") }
        }
    }
}
