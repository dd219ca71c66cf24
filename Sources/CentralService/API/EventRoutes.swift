import CentralStore
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// `GET /api/routes/:route/events`: Server-Sent Events of a route (`pole`, `rollout`, `alarm`),
/// for the UI's live schematic.
struct EventRoutes {
    let storage: any CentralStorage
    let events: RouteEvents

    func add(to api: RouterGroup<CentralContext>) {
        api.get("routes/:route/events") { _, context -> Response in
            _ = try context.require(.viewer)
            let route = try context.parameters.require("route")
            guard try await storage.route(route) != nil else { throw APIError.notFound("route \(route)") }
            let stream = events.watch(route: route)
            // A comment first, so that the browser sees the stream open at once; a comment every
            // 15 s after, so that a browser that went away is noticed (the write fails) and its
            // watch ends. On shutdown the stream ends, so that the server can stop.
            let body = AsyncStream<ByteBuffer> { continuation in
                continuation.yield(ByteBuffer(string: ": watching \(route)\n\n"))
                let pump = Task {
                    await withGracefulShutdownHandler {
                        for await event in stream { continuation.yield(ByteBuffer(string: event)) }
                    } onGracefulShutdown: {
                        continuation.finish()
                    }
                    continuation.finish()
                }
                let heartbeat = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(15))
                        continuation.yield(ByteBuffer(string: ": keep-alive\n\n"))
                    }
                }
                continuation.onTermination = { _ in
                    pump.cancel()
                    heartbeat.cancel()
                }
            }
            return Response(status: .ok,
                            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                            body: ResponseBody(asyncSequence: body))
        }
    }
}
