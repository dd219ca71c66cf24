import CentralStore
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

/// `lichtweg-central serve` as a process: its configuration file, its refusals, its broker login.
@Suite("lichtweg-central serve", .serialized)
struct ServeCommandTests {
    /// Runs the binary to its end. Waits by sleeping the task, not the thread: a blocked thread of
    /// the cooperative pool (two on this machine) would starve every other test running meanwhile.
    static func run(_ args: [String], seconds: Double = 20) async throws -> (status: Int32, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try Paths.binary("lichtweg-central"))
        p.arguments = args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    @Test("a bad configuration is refused with the file, the line and the setting; exit 2")
    func refusals() async throws {
        let scratch = try Scratch("serve")
        let key = try scratch.write("k.key", SigningKeys.encode(Curve25519.Signing.PrivateKey()))
        let cases: [(String, String)] = [
            ("db: sqlite:x.sqlite\nlisten: 127.0.0.1:1\nbrokr: mqtt://x\n", "central.yaml:3: 'brokr' is not a setting"),
            ("signingKey: \(key)\nlisten: [1, 2]\n", "listen: expected a single value"),
            ("signingKey: \(key)\nlisten: nowhere\n", "listen must be HOST:PORT"),
            ("signingKey: \(key)\nbroker: mqtts://localhost\n", "mqtts:// needs the broker's CA"),
            ("signingKey: \(scratch.path)/missing.key\n", "cannot read the signing key"),
            ("db: sqlite:x\n", "give the profile-signing key"),
            ("signingKey: \(key)\nbrokerCredentials: \(scratch.path)/nope\n", "expected one line username:password"),
            ("signingKey: \(key)\nhttpsCert: \(key)\n", "HTTPS needs both a certificate and its key"),
            ("signingKey: \(key)\nhttpsCert: \(key)\nhttpsKey: \(key)\n", "does not load"),
            ("signingKey: \(key)\nhttpsCert: \(scratch.path)/none.crt\nhttpsKey: \(key)\n", "cannot read \(scratch.path)/none.crt"),
        ]
        for (text, expected) in cases {
            let file = try scratch.write("central.yaml", text)
            let (status, stderr) = try await Self.run(["serve", "--config", file, "--db", "sqlite:\(scratch.path)/c.sqlite"])
            #expect(status == 2, "\(text) → exit \(status)")
            #expect(stderr.contains(expected), "\(text) → \(stderr)")
        }
    }

    @Test("from its configuration file it logs in to a broker that requires credentials, serves HTTP, and stops on SIGTERM")
    func serves() async throws {
        let scratch = try Scratch("serve")
        let passwords = "\(scratch.path)/passwords"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/mosquitto_passwd")
        p.arguments = ["-b", "-c", passwords, "central", "s3cret-pass"]
        try p.run()
        while p.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        let broker = try Broker(extraConfig: "allow_anonymous false\npassword_file \(passwords)")
        let key = try scratch.write("k.key", SigningKeys.encode(Curve25519.Signing.PrivateKey()))
        let credentials = try scratch.write("central.credentials", "central:s3cret-pass\n")
        let port = try freePort()
        let config = try scratch.write("central.yaml", """
            db: sqlite:\(scratch.path)/central.sqlite
            listen: 127.0.0.1:\(port)
            broker: mqtt://127.0.0.1:\(broker.port)
            brokerCredentials: \(credentials)
            signingKey: \(key)
            clientID: central-under-test
            """)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: try Paths.binary("lichtweg-central"))
        server.arguments = ["serve", "--config", config]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        #expect(await eventually(20) { portAcceptsConnections(port) })
        let log = "\(broker.scratch.path)/mosquitto.log"
        #expect(await eventually(10) {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("as central-under-test")
        }, "the broker saw no login of the control plane")
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(text.contains("u'central'"), "logged in without its user name: \(text)")
        kill(server.processIdentifier, SIGTERM)
        #expect(await eventually(15) { !server.isRunning })
        #expect(server.terminationStatus == 0)
    }

    /// curl, waited for by sleeping the task: (exit status, standard output).
    static func curl(_ args: [String]) async throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = ["--silent", "--show-error", "--max-time", "10"] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = Task.detached { out.fileHandleForReading.readDataToEndOfFile() }
        while p.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        return (p.terminationStatus, String(decoding: await data.value, as: UTF8.self))
    }

    @Test("with a certificate and key it serves HTTPS only, and the session cookie is Secure")
    func servesHTTPS() async throws {
        let pki = try await TestPKI.make(["web"])
        let broker = try Broker()
        let scratch = try Scratch("serve-https")
        let key = try scratch.write("k.key", SigningKeys.encode(Curve25519.Signing.PrivateKey()))
        let db = "\(scratch.path)/central.sqlite"
        let add = Process()
        add.executableURL = URL(fileURLWithPath: try Paths.binary("lichtweg-central"))
        add.arguments = ["user", "add", "ada", "--role", "engineer", "--db", "sqlite:\(db)"]
        let input = Pipe()
        add.standardInput = input
        add.standardOutput = FileHandle.nullDevice
        try add.run()
        input.fileHandleForWriting.write(Data("correct horse battery\n".utf8))
        try input.fileHandleForWriting.close()
        while add.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        #expect(add.terminationStatus == 0)
        let port = try freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: try Paths.binary("lichtweg-central"))
        server.arguments = ["serve", "--db", "sqlite:\(db)", "--listen", "127.0.0.1:\(port)",
                            "--broker", "mqtt://127.0.0.1:\(broker.port)", "--signing-key", key,
                            "--https-cert", pki.certificate("web"), "--https-key", pki.key("web")]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        #expect(await eventually(20) { portAcceptsConnections(port) })

        // Verified against the test CA: a client that checks the certificate gets through.
        let health = try await Self.curl(["--cacert", pki.ca, "https://127.0.0.1:\(port)/api/health"])
        #expect(health.status == 0 && health.output == "ok", "\(health)")
        // Without the CA the certificate is not trusted; in clear text nothing is served.
        #expect(try await Self.curl(["https://127.0.0.1:\(port)/api/health"]).status != 0)
        let plain = try await Self.curl(["http://127.0.0.1:\(port)/api/health"])
        #expect(plain.output != "ok", "served in clear text: \(plain)")
        // The session cookie may travel over HTTPS only.
        let login = try await Self.curl(["--cacert", pki.ca, "--include", "-H", "Content-Type: application/json",
                                         "--data", #"{"name":"ada","password":"correct horse battery"}"#,
                                         "https://127.0.0.1:\(port)/api/login"])
        let cookie = login.output.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie:") }.map(String.init) ?? ""
        #expect(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "\(login.output)")
        #expect(login.output.lowercased().contains("strict-transport-security: max-age=31536000"), "\(login.output)")
        kill(server.processIdentifier, SIGTERM)
        #expect(await eventually(15) { !server.isRunning })
        #expect(server.terminationStatus == 0)
    }

    @Test("over mqtts with a client certificate it receives the poles' state and stores it")
    func servesOverTLS() async throws {
        let pki = try await TestPKI.make(["server", "central", "pole"])
        let broker = try Broker(extraConfig: "\(pki.brokerConfig())\nallow_anonymous true")
        let scratch = try Scratch("serve-tls")
        let key = try scratch.write("k.key", SigningKeys.encode(Curve25519.Signing.PrivateKey()))
        let db = "\(scratch.path)/central.sqlite"
        let port = try freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: try Paths.binary("lichtweg-central"))
        server.arguments = ["serve", "--db", "sqlite:\(db)", "--listen", "127.0.0.1:\(port)",
                            "--broker", "mqtts://127.0.0.1:\(broker.port)", "--broker-ca", pki.ca,
                            "--broker-cert", pki.certificate("central"), "--broker-key", pki.key("central"),
                            "--signing-key", key, "--client-id", "central-tls"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        #expect(await eventually(20) { portAcceptsConnections(port) })

        // A pole (its own certificate) reports its state, retained, as a real one does.
        var options = MQTTOptions(host: "127.0.0.1", port: broker.port, clientID: "pole-tls")
        options.caFile = pki.ca
        options.certFile = pki.certificate("pole")
        options.keyFile = pki.key("pole")
        let pole = try Observer(broker: broker, options: options)
        try await pole.start()
        let state = StatePayload(pole: "T1", route: "tls-road", state: "base", failsafeReason: nil, level: 30, program: "night",
                                 profileVersion: 4, faults: [], uptimeSeconds: 10, firmware: "test", at: Timestamp(Instant(secondsSinceEpoch: Date().timeIntervalSince1970)))
        try await pole.publish(Topics.state("T1"), PayloadCodec.encode(state), retain: true)

        // The broker's listener speaks TLS only: the control plane got it over TLS, or not at all.
        var stored: Int?
        let deadline = Date().addingTimeInterval(20)
        while stored == nil && Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
            stored = try await SQLiteStorage(path: db).poleSnapshot("T1")?.profileVersion
        }
        #expect(stored == 4, "the control plane did not store the pole's state received over TLS")
        kill(server.processIdentifier, SIGTERM)
        #expect(await eventually(15) { !server.isRunning })
        #expect(server.terminationStatus == 0)
    }
}
