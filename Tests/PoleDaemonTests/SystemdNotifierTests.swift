import Foundation
import PoleDaemon
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A Unix datagram socket bound to `path` (`@name`: the abstract namespace), standing in for systemd.
final class NotifySocket {
    let fd: Int32
    let path: String

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0, "socket: errno \(errno)")
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        try #require(bytes.count < MemoryLayout.size(ofValue: address.sun_path))
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        try #require(result == 0, "bind \(path): errno \(errno)")
    }

    deinit {
        close(fd)
        if !path.hasPrefix("@") { unlink(path) }
    }

    /// The next datagram, nil after 5 s without one.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }
}

@Suite("SystemdNotifier")
struct SystemdNotifierTests {
    @Test("sends the state as one datagram to $NOTIFY_SOCKET")
    func notifies() throws {
        let dir = try TempDirectory()
        let socket = try NotifySocket(path: dir.file("notify"))
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path])
        #expect(notifier.socketPath == socket.path)
        #expect(notifier.notify("READY=1"))
        #expect(socket.receive() == "READY=1")
        #expect(notifier.notify("STATUS=lamp at 40 %\nWATCHDOG=1"))
        #expect(socket.receive() == "STATUS=lamp at 40 %\nWATCHDOG=1")
    }

    @Test("an abstract socket name (@…)")
    func abstractSocket() throws {
        let name = "@lichtweg-test-\(UUID().uuidString)"
        let socket = try NotifySocket(path: name)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": name])
        #expect(notifier.notify("READY=1"))
        #expect(socket.receive() == "READY=1")
    }

    @Test("without $NOTIFY_SOCKET (or with it empty) nothing is sent")
    func notUnderSystemd() {
        let none = SystemdNotifier(environment: [:])
        #expect(none.socketPath == nil)
        #expect(!none.notify("READY=1"))
        let empty = SystemdNotifier(environment: ["NOTIFY_SOCKET": ""])
        #expect(empty.socketPath == nil)
        #expect(!empty.notify("READY=1"))
    }

    @Test("a socket that is not there, or a path too long for a socket: false")
    func unreachable() throws {
        let dir = try TempDirectory()
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": dir.file("nobody-listens")]).notify("READY=1"))
        let long = "/tmp/" + String(repeating: "x", count: 200)
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": long]).notify("READY=1"))
    }

    @Test("watchdog interval from WATCHDOG_USEC, in seconds")
    func watchdog() {
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "30000000"]) == 30)
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "500000"]) == 0.5)
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid())"]) == 30)
    }

    @Test("no watchdog: unset, zero, not a number, or meant for another process")
    func noWatchdog() {
        #expect(SystemdNotifier.watchdogInterval(environment: [:]) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "0"]) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "thirty"]) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid() + 1)"]) == nil)
    }
}
