import CGPIOD
import FoundationEssentials
import LightCore
#if canImport(Glibc)
import Glibc
#endif

/// The pole's input lines on a GPIO chip, read by one owned thread that sleeps in `poll(2)` on
/// the lines' event file descriptors: no polling of values, no busy loop, and each edge carries
/// the kernel's timestamp.
public final class GPIOInputs: InputSource, @unchecked Sendable {
    // Set up in init, then touched only by the reader thread, except `close()`, which stops and
    // joins it.
    private let chip: GPIOChip
    private let lines: [(config: InputLineConfig, line: OpaquePointer, fd: Int32)]
    private let reader: PollThread
    private let continuation: AsyncStream<InputEdge>.Continuation
    public let edges: AsyncStream<InputEdge>

    public init(chip: GPIOChip, lines configs: [InputLineConfig], consumer: String = "lichtweg-pole") throws {
        self.chip = chip
        var requested: [(InputLineConfig, OpaquePointer, Int32)] = []
        do {
            for config in configs {
                let line = try chip.requestEvents(config, consumer: consumer)
                requested.append((config, line, try gpiodLineEventGetFD(line)))
            }
        } catch {
            for (_, line, _) in requested { gpiod_line_release(line) }
            throw error
        }
        lines = requested
        do {
            reader = try PollThread()
        } catch {
            for (_, line, _) in requested { gpiod_line_release(line) }
            throw error
        }
        (edges, continuation) = AsyncStream.makeStream(of: InputEdge.self, bufferingPolicy: .bufferingNewest(1024))
        try reader.start(name: "gpio-inputs", fds: requested.map(\.2), events: Int16(POLLIN | POLLPRI),
                     handle: { [self] i, revents in readEvent(line: i, revents: revents) },
                     onExit: { [continuation] in continuation.finish() })
    }

    deinit {
        close()
        for (_, line, _) in lines { gpiod_line_release(line) }
    }

    public func currentValues() throws -> [InputRole: Bool] {
        var values: [InputRole: Bool] = [:]
        for (config, line, _) in lines { values[config.role] = try gpiodLineGetValue(line) == 1 }
        return values
    }

    public func close() {
        reader.stop()
    }

    // MARK: - Reader thread

    /// Reads the event of line `i`; false when the line failed and is not to be watched any more.
    private func readEvent(line i: Int, revents: Int16) -> Bool {
        do {
            if revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 {
                throw GPIOError.operationFailed("poll(line \(lines[i].config.offset))", EIO)
            }
            let event = try gpiodLineEventReadFD(lines[i].fd)
            // The event type already has active-low applied by the kernel.
            let active = event.event_type == Int32(GPIOD_LINE_EVENT_RISING_EDGE)
            continuation.yield(InputEdge(role: lines[i].config.role, active: active,
                                         at: Clocks.instant(ofKernelTimestamp: event.ts)))
            return true
        } catch {
            // A line that fails once would fail on every poll: it is reported and no longer watched.
            continuation.yield(InputEdge(role: lines[i].config.role, active: false, at: Clocks.now(), failure: "\(error)"))
            return false
        }
    }
}
