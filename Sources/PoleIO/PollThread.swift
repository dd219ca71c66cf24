import Dispatch
import PoleSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One owned thread that sleeps in `poll(2)` on a set of descriptors and hands each ready one to
/// a handler: no timeout, no busy loop. `stop()` wakes it through a pipe and joins it. The GPIO
/// inputs and the simulation's FIFO are both read this way.
final class PollThread: @unchecked Sendable {
    private let wake: WakePipe
    private let finished = DispatchSemaphore(value: 0)
    /// nil until the thread runs, true while it runs, false once it was asked to stop: `stop()`
    /// joins it only once, and never a thread that was not started.
    private let running = Mutex<Bool?>(nil)

    init() throws {
        wake = try WakePipe()
    }

    /// Starts the thread on `fds`. `handle(index, revents)` is called for each ready descriptor
    /// and returns false to stop watching that one (a descriptor that failed would otherwise be
    /// reported ready on every poll). `onExit` runs on the thread as it ends.
    func start(name: String, fds descriptors: [Int32], events: Int16,
               handle: @escaping @Sendable (Int, Int16) -> Bool, onExit: @escaping @Sendable () -> Void) throws {
        running.withLock { $0 = true }
        do {
            try OwnedThread.start(name: name) { [wake, finished] in
                defer {
                    onExit()
                    finished.signal()
                }
                var fds = descriptors.map { pollfd(fd: $0, events: events, revents: 0) }
                fds.append(pollfd(fd: wake.readFD, events: Int16(POLLIN), revents: 0))
                while true {
                    if poll(&fds, nfds_t(fds.count), -1) < 0 {
                        if errno == EINTR { continue }
                        return
                    }
                    if fds[fds.count - 1].revents != 0 { return }
                    for i in descriptors.indices where fds[i].revents != 0 {
                        let revents = fds[i].revents
                        fds[i].revents = 0
                        if !handle(i, revents) { fds[i].fd = -1 }  // poll ignores negative descriptors
                    }
                }
            }
        } catch {
            running.withLock { $0 = nil }
            throw error
        }
    }

    /// Wakes the thread and waits until it has ended; does nothing if it is not running.
    func stop() {
        let join = running.withLock { state in
            defer { if state == true { state = false } }
            return state == true
        }
        guard join else { return }
        wake.signal()
        finished.wait()
    }
}
