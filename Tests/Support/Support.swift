import Crypto
import Foundation
import LightCore
import Logging
import PoleLink
import PoleProtocol
import Testing
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Paths

public enum Paths {
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `LICHTWEG_POLE_BIN`, else beside the test bundle, else `.build/debug`.
    public static func poleBinary() throws -> String { try binary("lichtweg-pole", environment: "LICHTWEG_POLE_BIN") }

    /// A product of this package: `$environment` if set, else beside the test bundle, else `.build/debug`.
    public static func binary(_ name: String, environment: String? = nil) throws -> String {
        if let environment, let env = ProcessInfo.processInfo.environment[environment], !env.isEmpty { return env }
        var candidates: [URL] = []
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent(name))
        }
        candidates.append(Bundle.main.bundleURL.appendingPathComponent(name))
        candidates.append(packageRoot.appendingPathComponent(".build/debug/\(name)"))
        let found = candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
        return try #require(found, "\(name) not built (swift build --build-tests)").path
    }

    public static func mosquitto() throws -> String {
        for path in ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"] where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        Issue.record("mosquitto is not installed (apt-get install mosquitto; scripts/test does it)")
        throw CancellationError()
    }
}

public final class Scratch: @unchecked Sendable {
    public let path: String

    public init(_ name: String) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("lichtweg-pole-it-\(name)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        let file = "\(path)/\(name)"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}

/// A free TCP port on the loopback interface (the kernel picks it).
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> Bool in
            bind(fd, sa, length) == 0 && getsockname(fd, sa, &length) == 0
        }
    }
    try #require(bound, "cannot bind a loopback port")
    return Int(UInt16(bigEndian: address.sin_port))
}

public func portAcceptsConnections(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

/// Polls `condition` until it holds or `seconds` pass. The time only keeps a broken test from
/// hanging: while other tests of this process run simulations on every core, tasks of this
/// process can wait for the shared executor for over 10 s (CI saw it), so waits on in-process
/// work are 30 s.
public func eventually(_ seconds: Double = 30, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try condition()
}

/// `eventually` for a condition that must await (an actor's state, the storage).
public func eventually(_ seconds: Double = 30, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

// MARK: - A real broker

/// A mosquitto broker on a free loopback port, started and stopped by the test.
public final class Broker: @unchecked Sendable {
    public let port: Int
    public let scratch: Scratch
    private var process: Process?

    /// `persistent`: the broker saves its sessions every second, so a subscriber's session (and
    /// the QoS 1 messages for it) survive the broker being killed and restarted.
    public init(extraConfig: String = "", persistent: Bool = false) throws {
        scratch = try Scratch("broker")
        port = try freePort()
        try scratch.write("mosquitto.conf", """
            # Run as the test's user: started by root, mosquitto would switch to user "mosquitto"
            # and could not read the test's key files.
            user \(NSUserName())
            listener \(port) 127.0.0.1
            \(persistent ? "persistence true\npersistence_location \(scratch.path)/\nautosave_interval 1" : "persistence false")
            \(extraConfig.isEmpty ? "allow_anonymous true" : extraConfig)
            """)
        try start()
    }

    deinit { stop() }

    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Paths.mosquitto())
        process.arguments = ["-c", "\(scratch.path)/mosquitto.conf"]
        process.standardOutput = FileHandle.nullDevice
        let log = "\(scratch.path)/mosquitto.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(10)
        while !portAcceptsConnections(port) {
            try #require(Date() < deadline && process.isRunning,
                         "mosquitto did not start on port \(port): \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            usleep(20_000)
        }
    }

    /// Kills the broker (SIGKILL: no goodbye to anyone).
    public func stop() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }
}

// MARK: - A client that watches and speaks

/// Records every message on `lichtweg/#` through a real libmosquitto connection.
public actor Observer {
    public private(set) var messages: [MQTTMessage] = []
    public let link: MQTTLink
    /// The broker lives at least as long as its observer (tests use the observer to the end).
    public let broker: Broker
    private var pump: Task<Void, Never>?

    public init(broker: Broker, name: String = "observer", options given: MQTTOptions? = nil) throws {
        self.broker = broker
        var options = given ?? MQTTOptions(host: "127.0.0.1", port: broker.port, clientID: "\(name)-\(UUID().uuidString.prefix(8))")
        options.initialBackoffSeconds = 0.1
        options.maximumBackoffSeconds = 0.5
        var logger = Logger(label: "observer")
        logger.logLevel = .critical  // reconnect attempts after a test killed its broker are expected
        link = try MQTTLink(options: options, logger: logger)
        link.subscribe("lichtweg/#", qos: 1)
    }

    deinit {
        link.stop()
    }

    public func start() async throws {
        let link = link
        try link.start()
        pump = Task { [weak self] in
            for await event in link.events {
                if case let .message(m) = event { await self?.record(m) }
            }
        }
        let up = await eventually(30) { link.isConnected }
        try #require(up, "observer did not connect")
        try await Task.sleep(for: .milliseconds(100))  // the SUBACK
    }

    private func record(_ m: MQTTMessage) { messages.append(m) }

    public func stop() {
        link.stop()
        pump?.cancel()
    }

    public func clear() { messages.removeAll() }

    public func publish(_ topic: String, _ payload: [UInt8], retain: Bool = false, qos: Int32 = 1) throws {
        try link.publish(MQTTMessage(topic: topic, payload: payload, qos: qos, retain: retain))
    }

    /// Decoded payloads of `type` on `topic`, in arrival order.
    public func payloads<P: Payload>(_ type: P.Type, on topic: String) -> [P] {
        messages.filter { $0.topic == topic }.compactMap { try? PayloadCodec.decode(P.self, from: $0.payload) }
    }

    /// Waits until a payload on `topic` satisfies `match`.
    public func waitFor<P: Payload>(_ type: P.Type, on topic: String, seconds: Double = 10,
                             _ match: (P) -> Bool = { _ in true }) async throws -> P {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let found = payloads(type, on: topic).last(where: match) { return found }
            try await Task.sleep(for: .milliseconds(20))
        }
        let seen = payloads(type, on: topic).map { String(decoding: PayloadCodec.encode($0), as: UTF8.self) }
        throw Failure("no matching \(P.schema) on \(topic) within \(seconds) s; seen: \(seen.suffix(5))")
    }
}

public struct Failure: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

// MARK: - Profiles and keys

public enum Fixture {
    public static let route = "it-road"

    /// A longitude on the equator where it is the middle of the night now (or the middle of the
    /// day): the daemon runs on the real clock, so the tests move the road instead of the time.
    public static func longitude(night: Bool) -> Double {
        let hours = Date().timeIntervalSince1970.truncatingRemainder(dividingBy: 86_400) / 3600
        var lon = (12 - hours) * 15 + (night ? 180 : 0)  // the sun is overhead at (12 − UTC hours) × 15°
        while lon > 180 { lon -= 360 }
        while lon <= -180 { lon += 360 }
        return (lon * 1000).rounded() / 1000
    }

    /// A valid three-pole profile on the equator; base level `baseLevel`, presence boosts to 100.
    public static func profile(version: Int, baseLevel: Int = 10, holdSeconds: Int = 30, night: Bool = true) -> String {
        let lon = longitude(night: night)
        return """
        format: lichtweg-profile/1
        version: \(version)
        route:
          id: \(route)
          name: Integrationsweg
          timezone: UTC
          location: {lat: 0.0, lon: \(lon)}
          luminaires:
            led40: {power: 40, standby: 0.5}
          poles:
            - {id: A1, chainage: 0, lat: 0.0, lon: \(lon), luminaire: led40,
               sensors: [{id: a, kind: pir, facing: increasing, range: 20}]}
            - {id: A2, chainage: 35, lat: 0.0003, lon: \(lon), luminaire: led40,
               sensors: [{id: a, kind: pir, facing: increasing, range: 20}, {id: b, kind: pir, facing: decreasing, range: 20}]}
            - {id: A3, chainage: 70, lat: 0.0006, lon: \(lon), luminaire: led40,
               sensors: [{id: a, kind: pir, facing: decreasing, range: 20}]}
        lightingClasses: {P4: 10}
        calendar: {default: night}
        programs:
          night:
            switchOn: {event: sunset}
            switchOff: {event: sunrise}
            class: P4
            stepRampSeconds: 0.5
            steps:
              - {at: switchOn, level: \(baseLevel)}
            presence: {level: 100, holdSeconds: \(holdSeconds), rampUpSeconds: 0.2, rampDownSeconds: 1}

        """
    }

    public static func signed(_ document: String, key: Curve25519.Signing.PrivateKey) throws -> [UInt8] {
        PayloadCodec.encode(try SignedProfile.sign(document: document, file: "fixture", with: key))
    }
}
