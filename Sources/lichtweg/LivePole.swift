import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A running `lichtweg-pole` with the `sim` backend, seen from outside: its sensor FIFO
/// (`<dataDirectory>/sim/inputs`) and its stand-in PWM (`<dataDirectory>/sim/pwm/pwmchip0/pwm0`).
final class LivePole: @unchecked Sendable {
    let id: String
    let dataDirectory: String
    private let fifo: Int32
    private let dutyPath: String
    private let periodNanoseconds: Double

    struct SetupError: Error { var message: String }

    /// Opens the pole's FIFO for writing; fails if a file is missing or no process reads the FIFO.
    init(id: String, dataDirectory: String) throws {
        self.id = id
        self.dataDirectory = dataDirectory
        let sim = (dataDirectory as NSString).appendingPathComponent("sim")
        let inputs = (sim as NSString).appendingPathComponent("inputs")
        let channel = (sim as NSString).appendingPathComponent("pwm/pwmchip0/pwm0")
        dutyPath = (channel as NSString).appendingPathComponent("duty_cycle")
        var info = stat()
        guard stat(inputs, &info) == 0, info.st_mode & S_IFMT == S_IFIFO else {
            throw SetupError(message: "pole \(id): \(inputs) is not a FIFO (is \(dataDirectory) the data directory of a pole with backend: sim?)")
        }
        guard let text = try? String(contentsOfFile: (channel as NSString).appendingPathComponent("period"), encoding: .utf8),
              let period = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), period > 0 else {
            throw SetupError(message: "pole \(id): no PWM period in \(channel)/period (has the pole started?)")
        }
        periodNanoseconds = period
        fifo = open(inputs, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        guard fifo >= 0 else {
            let reason = errno == ENXIO ? "no process reads it (is the pole running?)" : String(cString: strerror(errno))
            throw SetupError(message: "pole \(id): cannot open \(inputs): \(reason)")
        }
    }

    deinit { close(fifo) }

    /// Moves a sensor line: writes `SENSOR 1` or `SENSOR 0` to the FIFO.
    @discardableResult
    func setLine(_ sensor: String, active: Bool) -> Bool {
        let bytes = Array("\(sensor) \(active ? 1 : 0)\n".utf8)
        return bytes.withUnsafeBytes { write(fifo, $0.baseAddress, $0.count) } == bytes.count
    }

    /// The lamp level (percent) the PWM shows now, or nil if the file could not be read whole.
    func level() -> Double? {
        let fd = open(dutyPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0, let newline = buffer[0..<n].firstIndex(of: UInt8(ascii: "\n")),
              let duty = Double(String(decoding: buffer[0..<newline], as: UTF8.self)) else { return nil }
        return duty / periodNanoseconds * 100
    }
}

/// Wall-clock time as POSIX seconds, and sleeping until an instant of it.
enum WallClock {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    static func sleep(until t: Double) {
        while true {
            let left = t - now()
            guard left > 0 else { return }
            var ts = timespec(tv_sec: Int(left), tv_nsec: Int((left - Double(Int(left))) * 1e9))
            nanosleep(&ts, nil)
        }
    }
}
