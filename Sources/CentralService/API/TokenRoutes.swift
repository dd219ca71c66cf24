import CentralCore
import CentralStore
import Hummingbird
import LightCore

/// API tokens for machines (admin): made with a role, shown once, revoked by name.
struct TokenRoutes {
    let storage: any CentralStorage
    let clock: @Sendable () -> Instant

    struct Create: Decodable {
        var name: String
        var role: Role
    }

    struct Created: ResponseEncodable {
        var name: String
        var role: Role
        /// Shown this once; the server keeps only its hash.
        var token: String
    }

    func add(to api: RouterGroup<CentralContext>) {
        api.post("tokens") { request, context -> Response in
            let admin = try context.require(.admin)
            let create = try await request.json(Create.self)
            guard !create.name.isEmpty, create.name.count <= 64,
                  create.name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
            else { throw APIError(.badRequest, "bad-request", "a token name is 1 to 64 letters, digits, '-', '_' or '.'") }
            let token = SessionAuthenticator.newToken()
            do {
                try await storage.addToken(APITokenRecord(tokenHash: SessionAuthenticator.hash(token), name: create.name,
                                                          role: create.role, createdBy: admin.name, createdAt: clock()))
            } catch let error as StorageError {
                throw APIError(.conflict, "conflict", "\(error)")
            }
            try await storage.appendAudit(AuditEntry(at: clock(), actor: admin.name, action: "token.add",
                                                     subject: "token \(create.name)", detail: create.role.rawValue))
            var response = try Created(name: create.name, role: create.role, token: token).response(from: request, context: context)
            response.status = .created
            return response
        }
        api.delete("tokens/:name") { _, context -> HTTPResponse.Status in
            let admin = try context.require(.admin)
            let name = try context.parameters.require("name")
            guard try await storage.deleteToken(named: name) else { throw APIError.notFound("token \(name)") }
            try await storage.appendAudit(AuditEntry(at: clock(), actor: admin.name, action: "token.revoke", subject: "token \(name)"))
            return .noContent
        }
    }
}
