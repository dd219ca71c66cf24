#if canImport(Glibc)
import Glibc
#endif

/// A failed libgpiod (or kernel GPIO) call: which operation and the `errno` it left.
public enum GPIOError: Error, Hashable, Sendable, CustomStringConvertible {
    case operationFailed(String, Int32)
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case let .operationFailed(op, code): "\(op) failed: \(String(cString: strerror(code))) (errno \(code))"
        case let .invalidConfiguration(detail): detail
        }
    }
}

/// A failed write to the dimming output.
public enum OutputError: Error, Hashable, Sendable, CustomStringConvertible {
    case operationFailed(String, path: String, Int32)

    public var description: String {
        switch self {
        case let .operationFailed(op, path, code):
            "\(op) \(path) failed: \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}
