import FoundationEssentials
import LightCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The `sim` backend: a named simulation of the pole's *physical* side, for the demo, tests on
/// machines without GPIO, and the simulator's live mode. It is never the default.
///
/// Everything lives in one directory (`<dataDirectory>/sim` by default):
/// - `inputs`: a FIFO; write lines `SENSOR 1` / `SENSOR 0` to move a presence sensor's line,
///   `lamp broken` / `lamp ok` to break or mend the simulated lamp, `fail SENSOR` to make a sensor
///   line fail as a broken wire or driver would (its events can no longer be read);
/// - `pwm/pwmchip0/pwm0/{period,duty_cycle,polarity,enable}`: a stand-in for sysfs, written by
///   the same `SysfsPWM` code that drives the real PWM;
/// - `relay`: `1` or `0`, the relay output, written in place like a sysfs value.
/// The lamp feedback input follows the relay unless the lamp is broken.
public final class SimulatedPole: InputSource, SwitchOutput, @unchecked Sendable {
    public let directory: String
    public var inputsPath: String { "\(directory)/inputs" }
    public var relayPath: String { "\(directory)/relay" }
    public var pwmRoot: String { "\(directory)/pwm" }
    public let edges: AsyncStream<InputEdge>

    private struct Lines {
        var sensors: [String: Bool]
        var relay = false
        var lampBroken = false
        var hasFeedback: Bool
        var feedback: Bool { relay && !lampBroken }
    }

    private let lines: Mutex<Lines>
    private let continuation: AsyncStream<InputEdge>.Continuation
    private let fifoFD: Int32
    private let reader: PollThread
    /// Bytes read from the FIFO that do not end a line yet (touched by the reader thread only).
    private var pending: [UInt8] = []

    public init(directory: String, sensors: [String], lampFeedback: Bool) throws {
        self.directory = directory
        let fm = FileManager.default
        let channel = "\(directory)/pwm/pwmchip0/pwm0"
        try fm.createDirectory(atPath: channel, withIntermediateDirectories: true)
        for (name, value) in [("export", ""), ("npwm", "2")] {
            _ = fm.createFile(atPath: "\(directory)/pwm/pwmchip0/\(name)", contents: Data((value + "\n").utf8))
        }
        for name in ["enable", "period", "duty_cycle", "polarity"] where !fm.fileExists(atPath: "\(channel)/\(name)") {
            _ = fm.createFile(atPath: "\(channel)/\(name)", contents: Data("0\n".utf8))
        }
        let fifo = "\(directory)/inputs"
        if !fm.fileExists(atPath: fifo) && mkfifo(fifo, 0o660) != 0 {
            throw GPIOError.operationFailed("mkfifo \(fifo)", errno)
        }
        // Read-write, so that the FIFO never reports end-of-file when a writer goes away.
        fifoFD = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard fifoFD >= 0 else { throw GPIOError.operationFailed("open \(fifo)", errno) }
        reader = try PollThread()
        lines = Mutex(Lines(sensors: Dictionary(uniqueKeysWithValues: sensors.map { ($0, false) }),
                            hasFeedback: lampFeedback))
        (edges, continuation) = AsyncStream.makeStream(of: InputEdge.self, bufferingPolicy: .bufferingNewest(1024))
        _ = fm.createFile(atPath: "\(directory)/relay", contents: Data("0\n".utf8))
        try reader.start(name: "sim-inputs", fds: [fifoFD], events: Int16(POLLIN),
                     handle: { [self] _, _ in readCommands() },
                     onExit: { [continuation] in continuation.finish() })
    }

    deinit {
        close()
        Glibc.close(fifoFD)
    }

    public func currentValues() throws -> [InputRole: Bool] {
        lines.withLock { l in
            var values = Dictionary(uniqueKeysWithValues: l.sensors.map { (InputRole.sensor($0.key), $0.value) })
            if l.hasFeedback { values[.lampFeedback] = l.feedback }
            return values
        }
    }

    public func set(_ on: Bool) throws {
        try SysfsPWM.write(on ? "1" : "0", to: relayPath, op: "relay")
        let edge: InputEdge? = lines.withLock { l in
            let before = l.feedback
            l.relay = on
            return l.hasFeedback && l.feedback != before ? InputEdge(role: .lampFeedback, active: l.feedback, at: Clocks.now()) : nil
        }
        if let edge { continuation.yield(edge) }
    }

    public func close() {
        reader.stop()
    }

    // MARK: - Reader thread

    /// Reads what was written to the FIFO and applies every complete line.
    private func readCommands() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(fifoFD, $0.baseAddress, $0.count) }
        guard count > 0 else { return true }
        pending += buffer[0..<count]
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeSubrange(...newline)
            for edge in command(line) { continuation.yield(edge) }
        }
        if pending.count > 4096 { pending.removeAll() }  // a line that never ends is nobody's command
        return true
    }

    /// Applies one line written to the FIFO; unknown commands are ignored (the simulated world
    /// has no error channel, and the daemon must not care).
    private func command(_ line: String) -> [InputEdge] {
        let words = line.split(separator: " ").map(String.init)
        guard words.count == 2 else { return [] }
        let now = Clocks.now()
        return lines.withLock { l -> [InputEdge] in
            if words[0] == "lamp" {
                let before = l.feedback
                if words[1] == "broken" { l.lampBroken = true } else if words[1] == "ok" { l.lampBroken = false } else { return [] }
                return l.hasFeedback && l.feedback != before ? [InputEdge(role: .lampFeedback, active: l.feedback, at: now)] : []
            }
            if words[0] == "fail", l.sensors[words[1]] != nil {
                return [InputEdge(role: .sensor(words[1]), active: false, at: now, failure: "simulated line failure")]
            }
            guard l.sensors[words[0]] != nil, words[1] == "1" || words[1] == "0" else { return [] }
            let active = words[1] == "1"
            guard l.sensors[words[0]] != active else { return [] }
            l.sensors[words[0]] = active
            return [InputEdge(role: .sensor(words[0]), active: active, at: now)]
        }
    }
}
