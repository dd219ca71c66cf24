import CentralCore
import CentralStore
import Foundation
import Hummingbird
import LightCore
import PoleLink
import PoleProtocol

/// Manual overrides for roadworks or an accident: a level for one pole or a whole route, until a
/// given time, with the reason. Sent retained to each pole's override topic, so that a pole that
/// was offline gets it when it comes back; the pole itself lets it expire.
struct OverrideRoutes {
    let storage: any CentralStorage
    let publisher: any RolloutCoordinator.Publisher
    let clock: @Sendable () -> Instant

    struct Override: Decodable {
        /// Percent 0…100.
        var level: Double
        /// ISO 8601; at most 7 days ahead.
        var until: String
        var reason: String
    }

    struct Sent: ResponseEncodable {
        var poles: [String]
        var level: Double?
        var until: String?
        var reason: String?
    }

    func add(to api: RouterGroup<CentralContext>) {
        api.post("poles/:pole/override") { request, context -> Sent in
            let user = try context.require(.engineer)
            let pole = try await knownPole(context)
            return try await send(try await request.json(Override.self), to: [pole], subject: "pole \(pole)", user: user.name)
        }
        api.delete("poles/:pole/override") { _, context -> Sent in
            let user = try context.require(.engineer)
            let pole = try await knownPole(context)
            return try await clear([pole], subject: "pole \(pole)", user: user.name)
        }
        api.post("routes/:route/override") { request, context -> Sent in
            let user = try context.require(.engineer)
            let route = try context.parameters.require("route")
            guard let record = try await storage.route(route) else { throw APIError.notFound("route \(route)") }
            return try await send(try await request.json(Override.self), to: record.poles, subject: "route \(route)", user: user.name)
        }
        api.delete("routes/:route/override") { _, context -> Sent in
            let user = try context.require(.engineer)
            let route = try context.parameters.require("route")
            guard let record = try await storage.route(route) else { throw APIError.notFound("route \(route)") }
            return try await clear(record.poles, subject: "route \(route)", user: user.name)
        }
    }

    /// The pole of the path, if a route lists it or it has reported; otherwise 404. (Only such
    /// ids are ever made into topics: an id with MQTT's wildcards could not be published to.)
    private func knownPole(_ context: CentralContext) async throws -> String {
        let pole = try context.parameters.require("pole")
        guard Topics.isValidLevel(pole) else { throw APIError.notFound("pole \(pole)") }
        let known = try await storage.poleSnapshot(pole) != nil
        let listed = try await storage.routes().contains { $0.poles.contains(pole) }
        guard known || listed else { throw APIError.notFound("pole \(pole)") }
        return pole
    }

    private func send(_ o: Override, to poles: [String], subject: String, user: String) async throws -> Sent {
        guard o.level.isFinite, (0...100).contains(o.level) else {
            throw APIError(.badRequest, "bad-request", "level must be 0 to 100 percent")
        }
        guard let until = Timestamp.parse(o.until), until > clock(), until - clock() <= 7 * 86_400 else {
            throw APIError(.badRequest, "bad-request", "until must be an ISO 8601 instant in the next 7 days")
        }
        let reason = o.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.count <= 200 else { throw APIError(.badRequest, "bad-request", "give a reason (1 to 200 characters)") }
        let payload = PayloadCodec.encode(OverridePayload(level: o.level, until: Timestamp(until), reason: reason))
        try publish(payload, to: poles)
        try await storage.appendAudit(AuditEntry(at: clock(), actor: user, action: "override.set", subject: subject,
                                                 detail: "\(o.level) % until \(Timestamp(until)): \(reason)"))
        return Sent(poles: poles, level: o.level, until: Timestamp(until).description, reason: reason)
    }

    private func clear(_ poles: [String], subject: String, user: String) async throws -> Sent {
        try publish([], to: poles)  // an empty retained message clears it at the broker and the pole
        try await storage.appendAudit(AuditEntry(at: clock(), actor: user, action: "override.clear", subject: subject))
        return Sent(poles: poles, level: nil, until: nil, reason: nil)
    }

    private func publish(_ payload: [UInt8], to poles: [String]) throws {
        do {
            for pole in poles {
                try publisher.publish(MQTTMessage(topic: Topics.override(pole), payload: payload, qos: 1, retain: true))
            }
        } catch {
            throw APIError(.serviceUnavailable, "broker-unavailable", "the broker cannot be reached: \(error)")
        }
    }
}
