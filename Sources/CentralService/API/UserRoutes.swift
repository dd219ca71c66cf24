import CentralCore
import CentralStore
import Hummingbird
import HummingbirdBcrypt
import LightCore

/// Users (admin): list, add, change role or password, remove. And every user's own password.
///
/// A changed role or password ends the user's sessions (their own current one excepted when they
/// change their own password), so that a demotion or a reset takes effect at once. The last admin
/// cannot be removed or demoted: nobody could manage users through the API any more.
struct UserRoutes {
    let storage: any CentralStorage
    let clock: @Sendable () -> Instant

    struct User: ResponseEncodable, Decodable {
        var name: String
        var role: Role
    }

    struct Users: ResponseEncodable {
        var items: [User]
    }

    struct Create: Decodable {
        var name: String
        var role: Role
        var password: String
    }

    struct Change: Decodable {
        var role: Role?
        var password: String?
    }

    struct OwnPassword: Decodable {
        var current: String
        var new: String
    }

    static func checkPassword(_ password: String) throws {
        guard password.count >= UserRecord.minimumPasswordLength, password.count <= 1024 else {
            throw APIError(.badRequest, "bad-request", "a password has \(UserRecord.minimumPasswordLength) to 1024 characters")
        }
    }

    func add(to api: RouterGroup<CentralContext>) {
        api.get("users") { _, context -> Users in
            _ = try context.require(.admin)
            return Users(items: try await storage.users().map { User(name: $0.name, role: $0.role) })
        }
        api.post("users") { request, context -> Response in
            let admin = try context.require(.admin)
            let create = try await request.json(Create.self)
            guard UserRecord.isValidName(create.name) else { throw APIError(.badRequest, "bad-request", UserRecord.nameRule) }
            try Self.checkPassword(create.password)
            do {
                try await storage.addUser(UserRecord(name: create.name, passwordHash: Bcrypt.hash(create.password, cost: 12),
                                                     role: create.role))
            } catch let error as StorageError {
                throw APIError(.conflict, "conflict", "\(error)")
            }
            try await storage.appendAudit(AuditEntry(at: clock(), actor: admin.name, action: "user.add",
                                                     subject: "user \(create.name)", detail: create.role.rawValue))
            var response = try User(name: create.name, role: create.role).response(from: request, context: context)
            response.status = .created
            return response
        }
        api.patch("users/:name") { request, context -> User in
            let admin = try context.require(.admin)
            let name = try context.parameters.require("name")
            let change = try await request.json(Change.self)
            guard change.role != nil || change.password != nil else {
                throw APIError(.badRequest, "bad-request", "give a role, a password or both")
            }
            if let password = change.password { try Self.checkPassword(password) }
            guard let user = try await storage.user(named: name) else { throw APIError.notFound("user \(name)") }
            if let role = change.role, role != .admin, user.role == .admin { try await requireAnotherAdmin(than: name) }
            let hash = change.password.map { Bcrypt.hash($0, cost: 12) }
            guard try await storage.updateUser(named: name, role: change.role, passwordHash: hash, keepSession: nil) else {
                throw APIError.notFound("user \(name)")
            }
            let what = [change.role.map { "role \($0.rawValue)" }, change.password.map { _ in "password" }].compactMap { $0 }
            try await storage.appendAudit(AuditEntry(at: clock(), actor: admin.name, action: "user.change",
                                                     subject: "user \(name)", detail: what.joined(separator: ", ")))
            return User(name: name, role: change.role ?? user.role)
        }
        api.delete("users/:name") { _, context -> HTTPResponse.Status in
            let admin = try context.require(.admin)
            let name = try context.parameters.require("name")
            guard let user = try await storage.user(named: name) else { throw APIError.notFound("user \(name)") }
            if user.role == .admin { try await requireAnotherAdmin(than: name) }
            guard try await storage.deleteUser(named: name) else { throw APIError.notFound("user \(name)") }
            try await storage.appendAudit(AuditEntry(at: clock(), actor: admin.name, action: "user.remove", subject: "user \(name)"))
            return .noContent
        }
        api.post("me/password") { request, context -> HTTPResponse.Status in
            let me = try context.require(.viewer)
            let change = try await request.json(OwnPassword.self)
            // API tokens have no password; a session user must know the current one.
            guard let user = try await storage.user(named: me.name),
                  Bcrypt.verify(change.current, hash: user.passwordHash)
            else { throw APIError(.forbidden, "bad-credentials", "the current password is wrong") }
            try Self.checkPassword(change.new)
            let session = request.cookies[SessionAuthenticator.cookie].map { SessionAuthenticator.hash($0.value) }
            _ = try await storage.updateUser(named: me.name, role: nil, passwordHash: Bcrypt.hash(change.new, cost: 12),
                                             keepSession: session)
            try await storage.appendAudit(AuditEntry(at: clock(), actor: me.name, action: "user.password", subject: "user \(me.name)"))
            return .noContent
        }
    }

    private func requireAnotherAdmin(than name: String) async throws {
        guard try await storage.users().contains(where: { $0.role == .admin && $0.name != name }) else {
            throw APIError(.conflict, "last-admin", "\(name) is the last admin")
        }
    }
}
