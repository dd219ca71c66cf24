import CMosquitto

/// A failed libmosquitto call: the operation and libmosquitto's error code, with its text.
public enum MQTTError: Error, Hashable, Sendable, CustomStringConvertible {
    case operationFailed(String, Int32)
    case invalidOptions(String)

    public var description: String {
        switch self {
        case let .operationFailed(op, rc): "\(op) failed: \(String(cString: mosquitto_strerror(rc))) (\(rc))"
        case let .invalidOptions(detail): detail
        }
    }
}

/// One function per libmosquitto call that can fail: its return code becomes an `MQTTError`.
@inline(__always)
func check(_ op: String, _ rc: Int32) throws {
    if rc != MOSQ_ERR_SUCCESS.rawValue { throw MQTTError.operationFailed(op, rc) }
}
