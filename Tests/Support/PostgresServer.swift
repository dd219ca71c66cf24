import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL server from Debian's packages, started once per test process on a free
/// loopback port in a temporary data directory, and stopped when the process exits. It accepts
/// plain and TLS connections; its certificate (for 127.0.0.1) is signed by a throw-away CA, `ca`.
public actor PostgresServer {
    public static let shared = PostgresServer()

    private var started: String?
    private var caFile: String?

    /// The CA that signed the server's certificate (for `sslrootcert`).
    public func ca() async throws -> String {
        _ = try await startIfNeeded()
        return caFile!
    }

    /// `postgres://lichtweg@127.0.0.1:PORT/DB` for a fresh database of its own.
    public func freshDatabaseURL() async throws -> String {
        let base = try await startIfNeeded()
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        try await Self.run(Self.binary("psql"), ["-h", "127.0.0.1", "-p", base, "-U", "lichtweg", "-d", "postgres", "-q",
                                          "-c", "CREATE DATABASE \(name)"])
        return "postgres://lichtweg@127.0.0.1:\(base)/\(name)"
    }

    /// The one start-up, shared by every test that asks while it runs (the actor lets others in
    /// while it awaits, and two `initdb` in one folder would collide).
    private var starting: Task<String, Error>?

    private func startIfNeeded() async throws -> String {
        if let starting { return try await starting.value }
        let task = Task { try await self.start() }
        starting = task
        return try await task.value
    }

    private func start() async throws -> String {
        if let started { return started }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lichtweg-pg-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let asRoot = getuid() == 0
        if asRoot {
            // PostgreSQL refuses to run as root: the data directory belongs to its own user.
            try await Self.run("/bin/chown", ["postgres:postgres", dir])
        }
        try await Self.run(Self.binary("initdb"), ["-D", "\(dir)/data", "-U", "lichtweg", "-A", "trust", "--no-sync",
                                             "-E", "UTF8", "--locale=C.UTF-8"], asPostgres: asRoot)
        // TLS beside plain connections: the server's key must belong to the server's user, 0600.
        let pki = try await TestPKI.make(["postgres"])
        for (from, to) in [(pki.ca, "ca.crt"), (pki.certificate("postgres"), "server.crt"), (pki.key("postgres"), "server.key")] {
            try FileManager.default.copyItem(atPath: from, toPath: "\(dir)/\(to)")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: "\(dir)/server.key")
        if asRoot { try await Self.run("/bin/chown", ["postgres:postgres", "\(dir)/server.key", "\(dir)/server.crt"]) }
        caFile = "\(dir)/ca.crt"
        let port = Self.freePort()
        let server = try Self.spawn(Self.binary("postgres"),
                                    ["-D", "\(dir)/data", "-p", "\(port)", "-k", dir, "-h", "127.0.0.1",
                                     "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "ssl=on",
                                     "-c", "ssl_cert_file=\(dir)/server.crt", "-c", "ssl_key_file=\(dir)/server.key"],
                                    asPostgres: asRoot, log: "\(dir)/server.log")
        serverPID = server
        serverDirectory = strdup(dir)
        atexit {
            guard serverPID > 0 else { return }
            kill(serverPID, SIGTERM)  // "smart" shutdown of a test server: quick, nothing to keep
            var status: Int32 = 0
            waitpid(serverPID, &status, 0)
            if let dir = serverDirectory { _ = try? FileManager.default.removeItem(atPath: String(cString: dir)) }
        }
        for _ in 0..<300 {
            if (try? await Self.run(Self.binary("pg_isready"), ["-h", "127.0.0.1", "-p", "\(port)", "-q"])) != nil {
                started = "\(port)"
                return "\(port)"
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ServerError("PostgreSQL did not start on port \(port); see \(dir)/server.log")
    }

    // MARK: - Processes

    public struct ServerError: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Debian's versioned server binaries (`/usr/lib/postgresql/N/bin`), newest first.
    public static func binary(_ name: String) throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted { Int($0) ?? 0 > Int($1) ?? 0 }
        for v in versions where FileManager.default.isExecutableFile(atPath: "\(root)/\(v)/bin/\(name)") {
            return "\(root)/\(v)/bin/\(name)"
        }
        throw ServerError("\(name) not found under \(root): install Debian's postgresql (scripts/setup does)")
    }

    /// Runs a command to its end, waiting by sleeping the task (never blocking a pool thread).
    public static func run(_ path: String, _ args: [String], asPostgres: Bool = false) async throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: asPostgres ? "/usr/sbin/runuser" : path)
        p.arguments = asPostgres ? ["-u", "postgres", "--", path] + args : args
        p.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        p.standardError = err
        try p.run()
        while p.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        if p.terminationStatus != 0 {
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw ServerError("\(path) \(args.joined(separator: " ")) failed: \(text)")
        }
    }

    public static func spawn(_ path: String, _ args: [String], asPostgres: Bool, log: String) throws -> pid_t {
        FileManager.default.createFile(atPath: log, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: asPostgres ? "/usr/sbin/runuser" : path)
        p.arguments = asPostgres ? ["-u", "postgres", "--", path] + args : args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try p.run()
        return p.processIdentifier
    }

    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

/// The server's pid for the exit handler (a C function pointer cannot capture).
public nonisolated(unsafe) var serverPID: pid_t = 0
public nonisolated(unsafe) var serverDirectory: UnsafeMutablePointer<CChar>?
