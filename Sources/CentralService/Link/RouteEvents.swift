import Foundation
import Synchronization

/// Live changes of the routes for the browsers watching them (Server-Sent Events): a pole's new
/// state, a rollout step, an alarm. Each watcher has its own bounded buffer; a slow browser loses
/// the oldest events, never slows the ingest.
public final class RouteEvents: Sendable {
    private struct Watcher {
        var route: String
        var continuation: AsyncStream<String>.Continuation
    }

    private let watchers = Mutex<[UInt64: Watcher]>([:])
    private let nextID = Atomic<UInt64>(0)

    public init() {}

    /// The events of `route` from now on, as SSE `data:` lines of JSON.
    public func watch(route: String) -> AsyncStream<String> {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(256))
        continuation.onTermination = { [weak self] _ in
            _ = self?.watchers.withLock { $0.removeValue(forKey: id) }
        }
        watchers.withLock { $0[id] = Watcher(route: route, continuation: continuation) }
        return stream
    }

    /// Tells every watcher of `route` that `kind` happened (`pole`, `rollout`, `alarm`), with `body`.
    public func publish<Body: Encodable>(route: String, kind: String, _ body: Body) {
        guard let event = Self.event(kind, body) else { return }
        let targets = watchers.withLock { $0.values.filter { $0.route == route }.map(\.continuation) }
        for continuation in targets { continuation.yield(event) }
    }

    /// One Server-Sent Event: `event: KIND` and one `data:` line of JSON.
    public static func event<Body: Encodable>(_ kind: String, _ body: Body) -> String? {
        guard let json = try? JSONEncoder().encode(body) else { return nil }
        return "event: \(kind)\ndata: \(String(decoding: json, as: UTF8.self))\n\n"
    }

    /// Ends every stream (shutdown).
    public func finishAll() {
        let all = watchers.withLock { w -> [AsyncStream<String>.Continuation] in
            defer { w.removeAll() }
            return w.values.map(\.continuation)
        }
        for continuation in all { continuation.finish() }
    }

    public var count: Int { watchers.withLock { $0.count } }
}
