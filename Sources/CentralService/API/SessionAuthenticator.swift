import CentralCore
import CentralStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import LightCore

/// Finds the user of a request from its session cookie, and refuses changes that do not carry the
/// session's CSRF token: a cookie alone (which a browser sends along with a forged cross-site
/// request) is never enough to change anything.
struct SessionAuthenticator: RouterMiddleware {
    typealias Context = CentralContext
    static let cookie = "lichtweg_session"
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    let storage: any CentralStorage
    let clock: @Sendable () -> Instant

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer ") {
            // A machine's token: no cookie, so no cross-site forgery to guard against.
            let token = String(authorization.dropFirst("Bearer ".count))
            guard let record = try await storage.token(hash: Self.hash(token)) else {
                throw APIError(.unauthorized, "bad-token", "unknown or revoked API token")
            }
            context.user = UserRecord(name: "token:\(record.name)", passwordHash: "", role: record.role)
            return try await next(request, context)
        }
        if let token = request.cookies[Self.cookie]?.value,
           let session = try await storage.session(tokenHash: Self.hash(token), at: clock()),
           let user = try await storage.user(named: session.user) {
            let changes = request.method != .get && request.method != .head
            if changes && request.headers[Self.csrfHeader] != session.csrf {
                throw APIError(.forbidden, "csrf", "missing or wrong \(Self.csrfHeader) header")
            }
            context.user = user
            context.csrf = session.csrf
        }
        return try await next(request, context)
    }

    /// SHA-256 of a session token, hex: what the database keeps.
    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// A fresh random token (256 bits, URL-safe base64).
    static func newToken() -> String {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// Making and recognising API tokens and session tokens, for the CLI as for the server.
public enum APIToken {
    /// A fresh random token (256 bits, URL-safe base64).
    public static func make() -> String { SessionAuthenticator.newToken() }
    /// What the database keeps of it.
    public static func hash(_ token: String) -> String { SessionAuthenticator.hash(token) }
}
