import CentralCore
import CentralStore
import Hummingbird

/// The audit log, newest first.
struct AuditRoutes {
    let storage: any CentralStorage

    struct Entry: Encodable, Sendable {
        var at: String
        var actor: String
        var action: String
        var subject: String
        var detail: String
    }

    func add(to api: RouterGroup<CentralContext>) {
        api.get("audit") { request, context -> ProfileRoutes.List<Entry> in
            _ = try context.require(.viewer)
            let text = request.uri.queryParameters.get("limit")
            guard let limit = text.map({ Int($0) }) ?? 100 else {
                throw APIError(.badRequest, "bad-request", "limit must be a whole number, 1 to 1000")
            }
            guard (1...1000).contains(limit) else { throw APIError(.badRequest, "bad-request", "limit must be 1 to 1000") }
            return ProfileRoutes.List(items: try await storage.audit(limit: limit).map {
                Entry(at: $0.at.description, actor: $0.actor, action: $0.action, subject: $0.subject, detail: $0.detail)
            })
        }
    }
}
