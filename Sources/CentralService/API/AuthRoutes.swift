import CentralCore
import CentralStore
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import LightCore

/// Login, logout, who am I.
struct AuthRoutes {
    let storage: any CentralStorage
    let clock: @Sendable () -> Instant
    /// Served over HTTPS: the session cookie is `Secure` (a browser never sends it in clear text).
    let secureCookie: Bool
    /// How long a session lasts without logging in again.
    let sessionSeconds: Double = 12 * 3600

    struct Login: Decodable {
        var name: String
        var password: String
    }

    struct Me: ResponseEncodable {
        var name: String
        var role: Role
        /// Send this back in `X-CSRF-Token` with every change.
        var csrf: String?
    }

    func add(to api: RouterGroup<CentralContext>) {
        api.post("login") { request, context -> Response in
            let login = try await request.json(Login.self)
            // Same answer and about the same time for an unknown user as for a wrong password.
            let user = try await storage.user(named: login.name)
            let ok = Bcrypt.verify(login.password, hash: user?.passwordHash ?? Self.dummyHash) && user != nil
            guard ok, let user else { throw APIError(.unauthorized, "bad-credentials", "wrong name or password") }
            // Sessions that ran out are of no use to anyone: gone with the next login.
            _ = try await storage.deleteExpiredSessions(at: clock())
            let token = SessionAuthenticator.newToken()
            let session = SessionRecord(tokenHash: SessionAuthenticator.hash(token), user: user.name,
                                        csrf: SessionAuthenticator.newToken(), expiresAt: clock() + sessionSeconds)
            try await storage.createSession(session)
            try await storage.appendAudit(AuditEntry(at: clock(), actor: user.name, action: "login", subject: "user \(user.name)"))
            var response = try Me(name: user.name, role: user.role, csrf: session.csrf).response(from: request, context: context)
            response.setCookie(Cookie(name: SessionAuthenticator.cookie, value: token, maxAge: Int(sessionSeconds),
                                      path: "/", secure: secureCookie, httpOnly: true, sameSite: .strict))
            return response
        }
        api.post("logout") { request, context -> HTTPResponse.Status in
            let user = try context.require(.viewer)
            if let token = request.cookies[SessionAuthenticator.cookie]?.value {
                try await storage.deleteSession(tokenHash: SessionAuthenticator.hash(token))
            }
            try await storage.appendAudit(AuditEntry(at: clock(), actor: user.name, action: "logout", subject: "user \(user.name)"))
            return .noContent
        }
        api.get("me") { _, context -> Me in
            let user = try context.require(.viewer)
            return Me(name: user.name, role: user.role, csrf: context.csrf)
        }
    }

    /// A valid bcrypt hash of nothing anyone knows, verified against when the user does not exist.
    static let dummyHash = Bcrypt.hash("lichtweg-no-such-user", cost: 12)
}
