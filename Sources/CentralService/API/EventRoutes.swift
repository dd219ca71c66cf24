import CentralStore
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// `GET /api/routes/:route/events`: Server-Sent Events of a route (`pole`, `rollout`, `alarm`),
/// for the UI's live schematic: first the route's present poles and rollout, then every change.
struct EventRoutes {
    let storage: any CentralStorage
    let events: RouteEvents
    let rollouts: RolloutCoordinator

    func add(to api: RouterGroup<CentralContext>) {
        api.get("routes/:route/events") { _, context -> Response in
            _ = try context.require(.viewer)
            let route = try context.parameters.require("route")
            guard try await storage.route(route) != nil else { throw APIError.notFound("route \(route)") }
            let stream = events.watch(route: route)
            // The route as it is now, read after the watch began: a browser loads the page, then
            // subscribes, and a change in between (CI saw a canary's 3 s soak come and go) would
            // otherwise never reach it. A change after the watch began comes again as an event.
            var present = try await storage.poleSnapshots(route: route).compactMap { RouteEvents.event("pole", PoleView($0)) }
            if let rollout = try await rollouts.current(route: route), let event = RouteEvents.event("rollout", RolloutView(rollout)) {
                present.append(event)
            }
            // A comment first, so that the browser sees the stream open at once; a comment every
            // 15 s after, so that a browser that went away is noticed (the write fails) and its
            // watch ends. On shutdown the stream ends, so that the server can stop.
            let body = AsyncStream<ByteBuffer> { continuation in
                continuation.yield(ByteBuffer(string: ": watching \(route)\n\n"))
                for event in present { continuation.yield(ByteBuffer(string: event)) }
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
