import CGPIOD
import Foundation
import Synchronization
import LightCore
#if canImport(Glibc)
import Glibc
#endif

/// The pole's input lines on a GPIO chip, read by one owned thread that sleeps in `poll(2)` on
/// the lines' event file descriptors: no polling of values, no busy loop, and each edge carries
/// the kernel's timestamp.
public final class GPIOInputs: InputSource, @unchecked Sendable {
    // Set up in init, then touched only by the reader thread, except `close()`, which only
    // signals the thread through the wake descriptor and joins it.
    private let chip: GPIOChip
    private let lines: [(config: InputLineConfig, line: OpaquePointer, fd: Int32)]
    private let wake: WakePipe
    private let continuation: AsyncStream<InputEdge>.Continuation
    private let finished = DispatchSemaphore(value: 0)
    /// false until the reader thread runs, true once it was asked to stop: `close()` joins it only then.
    private let running = Mutex<Bool?>(nil)
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
            wake = try WakePipe()
        } catch {
            for (_, line, _) in requested { gpiod_line_release(line) }
            throw error
        }
        (edges, continuation) = AsyncStream.makeStream(of: InputEdge.self, bufferingPolicy: .bufferingNewest(1024))
        let thread = Thread { [self] in self.run() }
        thread.name = "gpio-inputs"
        running.withLock { $0 = true }
        thread.start()
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
        let join = running.withLock { state in
            defer { if state == true { state = false } }
            return state == true
        }
        guard join else { return }
        wake.signal()
        finished.wait()
    }

    // MARK: - Reader thread

    private func run() {
        defer {
            continuation.finish()
            finished.signal()
        }
        var fds = lines.map { pollfd(fd: $0.fd, events: Int16(POLLIN | POLLPRI), revents: 0) }
        fds.append(pollfd(fd: wake.readFD, events: Int16(POLLIN), revents: 0))
        while true {
            let n = poll(&fds, nfds_t(fds.count), -1)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds.last!.revents != 0 { return }
            for i in lines.indices where fds[i].revents != 0 {
                let revents = fds[i].revents
                fds[i].revents = 0
                do {
                    if revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 {
                        throw GPIOError.operationFailed("poll(line \(lines[i].config.offset))", EIO)
                    }
                    let event = try gpiodLineEventReadFD(lines[i].fd)
                    // The event type already has active-low applied by the kernel.
                    let active = event.event_type == Int32(GPIOD_LINE_EVENT_RISING_EDGE)
                    continuation.yield(InputEdge(role: lines[i].config.role, active: active,
                                                 at: Clocks.instant(ofKernelTimestamp: event.ts)))
                } catch {
                    // A line that fails once would fail on every poll: it is reported and no longer
                    // watched (a negative fd is ignored by poll), so the thread cannot spin.
                    fds[i].fd = -1
                    continuation.yield(InputEdge(role: lines[i].config.role, active: false, at: Clocks.now(),
                                                 failure: "\(error)"))
                }
            }
        }
    }
}
