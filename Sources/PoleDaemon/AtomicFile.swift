import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Files the pole writes: always whole or not at all. A power cut or a SIGKILL at any moment
/// leaves either the old or the new content, never a mixture or a truncated file.
public enum AtomicFile {
    public struct WriteError: Error, CustomStringConvertible {
        public var op: String
        public var path: String
        public var errno: Int32
        public var description: String { "\(op) \(path): \(String(cString: strerror(errno)))" }
    }

    /// Writes `bytes` to a temporary file beside `path`, fsyncs it, renames it over `path` and
    /// fsyncs the directory so that the rename itself survives a power cut.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let temp = "\(path).tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw WriteError(op: "open", path: temp, errno: errno) }
        var ok = false
        defer { if !ok { unlink(temp) } }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                close(fd)
                throw WriteError(op: "write", path: temp, errno: e)
            }
            written += n
        }
        if fsync(fd) != 0 {
            let e = errno
            close(fd)
            throw WriteError(op: "fsync", path: temp, errno: e)
        }
        close(fd)
        guard rename(temp, path) == 0 else { throw WriteError(op: "rename", path: path, errno: errno) }
        ok = true
        try syncDirectory(of: path)
    }

    /// Removes `path` (and makes the removal durable); no error if it is not there.
    public static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT { throw WriteError(op: "unlink", path: path, errno: errno) }
        try? syncDirectory(of: path)  // the file is gone either way; durability is best effort here
    }

    /// fsync of the directory holding `path`, so that a rename or unlink in it survives a power cut.
    private static func syncDirectory(of path: String) throws {
        // The part before the last "/": "" (this directory) for a bare name, "/" for a file in the root.
        let directory = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? ""
        let dir = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { return }
        defer { close(dir) }
        guard fsync(dir) == 0 else { throw WriteError(op: "fsync", path: directory, errno: errno) }
    }

    /// The file's bytes, nil if it does not exist.
    public static func read(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { Array($0) }
    }

    /// Leftovers of writes that were cut short (the rename never happened): they are never read,
    /// only cleaned up at start.
    public static func removeLeftovers(in directory: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.contains(".tmp-") { unlink("\(directory)/\(name)") }
    }
}
