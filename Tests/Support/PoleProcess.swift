import Crypto
import Foundation
import PoleProtocol
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A `lichtweg-pole` daemon run by the test with the `sim` backend (the physical side simulated:
/// sensor lines through the FIFO, lamp through the stand-in sysfs directory).
public final class PoleProcess: @unchecked Sendable {
    public let pole: String
    public let scratch: Scratch
    public let key: Curve25519.Signing.PrivateKey
    public let configPath: String
    public var dataDirectory: String { "\(scratch.path)/data" }
    public var logPath: String { "\(scratch.path)/pole.log" }
    private(set) var process: Process?

    public init(pole: String = "A2", brokerPort: Int, key: Curve25519.Signing.PrivateKey = .init(),
         location: Bool = false, url: String? = nil, extraMQTT: String = "", extra: String = "") throws {
        self.pole = pole
        self.key = key
        scratch = try Scratch("pole")
        try scratch.write("profile.pub", SigningKeys.encode(key.publicKey))
        configPath = try scratch.write("pole.yaml", """
            format: lichtweg-pole/1
            pole: \(pole)
            route: \(Fixture.route)
            backend: sim
            dataDirectory: \(scratch.path)/data
            profileKey: \(scratch.path)/profile.pub
            \(location ? "location: {lat: 0.0, lon: \(Fixture.longitude(night: true))}" : "")
            telemetrySeconds: 5
            mqtt:
              url: \(url ?? "mqtt://127.0.0.1:\(brokerPort)")
              keepAliveSeconds: 5
            \(extraMQTT)
            gpio:
              chip: gpiochip0
              sensors:
                - {id: a, line: 17, bias: pull-down}
                - {id: b, line: 27, bias: pull-down}
              relay: {line: 22}
              lampFeedback: {line: 23, bias: pull-up, activeLow: true}
            pwm: {chip: 0, channel: 0, frequencyHz: 1000, rampStepHz: 100}
            \(extra)
            """)
    }

    deinit {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    public func start(environment: [String: String] = [:]) throws {
        let process = Process()
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.executableURL = URL(fileURLWithPath: try Paths.poleBinary())
        process.arguments = ["--config", configPath, "--log-level", "debug"]
        if !FileManager.default.fileExists(atPath: logPath) { FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardError = log
        process.standardOutput = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
    }

    public var isRunning: Bool { process?.isRunning ?? false }

    public func signal(_ sig: Int32) {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, sig)
    }

    /// Waits for the process to end; its exit status, or nil if it did not end in time.
    public func waitExit(seconds: Double = 10) async -> Int32? {
        guard let process else { return nil }
        let ended = await eventually(seconds) { !process.isRunning }
        return ended ? process.terminationStatus : nil
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    // MARK: - The simulated physical side

    /// Moves a simulated sensor line (or `lamp broken` / `lamp ok`).
    public func simulate(_ line: String) throws {
        let fd = open("\(dataDirectory)/sim/inputs", O_WRONLY | O_NONBLOCK)
        try #require(fd >= 0, "the sim input FIFO is not there (errno \(errno))")
        defer { close(fd) }
        let bytes = Array((line + "\n").utf8)
        #expect(write(fd, bytes, bytes.count) == bytes.count)
    }

    /// The lamp's present output in percent, from the simulated PWM's duty cycle.
    public func lampPercent() -> Double? {
        let base = "\(dataDirectory)/sim/pwm/pwmchip0/pwm0"
        guard let duty = (try? String(contentsOfFile: "\(base)/duty_cycle", encoding: .utf8)).flatMap({ Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
              let period = (try? String(contentsOfFile: "\(base)/period", encoding: .utf8)).flatMap({ Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
              period > 0
        else { return nil }
        return (duty / period * 1000).rounded() / 10
    }

    public func relayOn() -> Bool? {
        (try? String(contentsOfFile: "\(dataDirectory)/sim/relay", encoding: .utf8)).map { $0.hasPrefix("1") }
    }

    /// The stored signed profile's version, nil if none (and a failure if the file is broken).
    public func storedProfileVersion() throws -> Int? {
        guard let data = FileManager.default.contents(atPath: "\(dataDirectory)/profile.json") else { return nil }
        return try PayloadCodec.decode(SignedProfile.self, from: Array(data)).version
    }
}
