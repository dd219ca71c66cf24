#if canImport(Glibc)
import Glibc
#endif

/// A thread the pole owns for one blocking loop (a C library's event loop, `poll(2)` on GPIO
/// events, the lamp's ramp), named so that `top -H` and the tests can tell them apart.
///
/// A plain pthread rather than Foundation's `Thread`: the pole does not link the full Foundation
/// (its memory budget, docs/benchmarks.md). The thread is detached; whoever starts it learns of
/// its end the way the loop itself reports it (the callers signal a semaphore as they leave).
public enum OwnedThread {
    /// Errors from `pthread_create`, with the error number it returned.
    public struct StartError: Error, CustomStringConvertible {
        public var name: String
        public var errno: Int32
        public var description: String { "cannot start thread '\(name)': \(String(cString: strerror(errno)))" }
    }

    /// Starts `body` on a new detached thread called `name` (at most 15 bytes reach the kernel).
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(StartError) {
        let box = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let result = pthread_create(&thread, &attributes, { context in
            let start = Unmanaged<Start>.fromOpaque(context!).takeRetainedValue()
            start.nameCurrentThread()
            start.body()
            return nil
        }, box)
        if result != 0 {
            Unmanaged<Start>.fromOpaque(box).release()
            throw StartError(name: name, errno: result)
        }
    }

    private final class Start: @unchecked Sendable {
        let name: String
        let body: @Sendable () -> Void

        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }

        /// pthread_setname_np is a GNU extension Swift's Glibc module does not show, so the name is
        /// written where the kernel documents it.
        func nameCurrentThread() {
            let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { return }
            defer { close(fd) }
            let bytes = Array(name.utf8.prefix(15))
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        }
    }
}
