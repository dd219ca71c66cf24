import CentralCore
import Hummingbird

/// The request context of the control plane: who is asking (set by `SessionAuthenticator`).
public struct CentralContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var user: UserRecord?
    /// The session's CSRF token, when the request came with a session cookie.
    public var csrf: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// The user, if they have at least `role`; otherwise 401 (nobody) or 403 (too little).
    public func require(_ role: Role) throws -> UserRecord {
        guard let user else { throw APIError(.unauthorized, "unauthenticated", "log in first") }
        guard user.role >= role else {
            throw APIError(.forbidden, "forbidden", "this needs the \(role.rawValue) role; \(user.name) is \(user.role.rawValue)")
        }
        return user
    }
}
