import FoundationEssentials
import LightCore
#if canImport(Glibc)
import Glibc
#endif

/// A hardware PWM channel through Linux sysfs (`/sys/class/pwm/pwmchipN/pwmM`), e.g. the
/// Raspberry Pi's PWM0 on GPIO 12 or 18 with the `pwm-2chan` overlay. The duty cycle is the
/// lamp driver's dimming signal.
public final class SysfsPWM: DimmingOutput, @unchecked Sendable {
    public enum Polarity: String, Sendable, CaseIterable {
        case normal, inversed
    }

    public let channelPath: String
    public let periodNanoseconds: Int
    // Writes are serialised by the caller (the lamp driver's lock).
    private var lastDuty: Int?
    private var lastLength = 0
    /// `duty_cycle`, kept open: a ramp writes it up to `rampStepHz` times a second.
    private let dutyFD: Int32
    /// sysfs (a real PWM) or a plain file (the simulation's stand-in directory).
    private let isSysfs: Bool

    /// Exports the channel if needed and configures period and polarity, leaving the output at 0 %.
    public init(root: String = "/sys/class/pwm", chip: Int, channel: Int, frequencyHz: Double,
                polarity: Polarity) throws {
        let chipPath = "\(root)/pwmchip\(chip)"
        channelPath = "\(chipPath)/pwm\(channel)"
        periodNanoseconds = Int((1e9 / frequencyHz).rounded())
        if !FileManager.default.fileExists(atPath: channelPath) {
            try Self.write("\(channel)", to: "\(chipPath)/export", op: "export")
            // udev gives the new attributes to group gpio a moment after the export.
            var waited = 0
            while !FileManager.default.isWritableFile(atPath: "\(channelPath)/enable") && waited < 200 {
                usleep(5_000)
                waited += 1
            }
        }
        // Order matters to the kernel: polarity only while disabled, duty never above the period.
        try? Self.write("0", to: "\(channelPath)/enable", op: "disable")
        try Self.write("0", to: "\(channelPath)/duty_cycle", op: "duty_cycle")
        try Self.write("\(periodNanoseconds)", to: "\(channelPath)/period", op: "period")
        try Self.write(polarity.rawValue, to: "\(channelPath)/polarity", op: "polarity")
        try Self.write("1", to: "\(channelPath)/enable", op: "enable")
        lastDuty = 0
        lastLength = 2
        dutyFD = open("\(channelPath)/duty_cycle", O_WRONLY | O_CLOEXEC)
        guard dutyFD >= 0 else { throw OutputError.operationFailed("open", path: "\(channelPath)/duty_cycle", errno) }
        isSysfs = channelPath.hasPrefix("/sys/")
    }

    deinit {
        close(dutyFD)
    }

    public func write(_ level: DimLevel) throws {
        let duty = Int((Double(periodNanoseconds) * level.percent / 100).rounded())
        guard duty != lastDuty else { return }
        // One pwrite on the open attribute: every write to a sysfs attribute is a whole store.
        // A plain file (the simulation) is cut to the new length when it got shorter.
        let bytes = Array("\(duty)\n".utf8)
        let n = bytes.withUnsafeBytes { pwrite(dutyFD, $0.baseAddress, $0.count, 0) }
        if n != bytes.count {
            throw OutputError.operationFailed("duty_cycle", path: "\(channelPath)/duty_cycle", n < 0 ? errno : EIO)
        }
        if !isSysfs && bytes.count < lastLength { _ = ftruncate(dutyFD, off_t(bytes.count)) }
        lastDuty = duty
        lastLength = bytes.count
    }

    /// One sysfs attribute write. O_TRUNC is ignored by sysfs and keeps a plain file (the
    /// simulation's stand-in directory) from keeping the tail of a longer earlier value.
    static func write(_ value: String, to path: String, op: String) throws {
        let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { throw OutputError.operationFailed("open for \(op)", path: path, errno) }
        defer { close(fd) }
        let bytes = Array((value + "\n").utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if n != bytes.count { throw OutputError.operationFailed(op, path: path, n < 0 ? errno : EIO) }
    }
}
