import Hummingbird
import Logging

/// Every refusal under /api in the same JSON shape, also those Hummingbird produces itself (no
/// such route, a method the route does not take): `{"error": {"code", "message"}}`. Anything
/// else that goes wrong is logged and answered as a 500 with a JSON body that gives nothing away.
struct JSONErrors: RouterMiddleware {
    typealias Context = CentralContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError where request.uri.path.hasPrefix("/api") {
            let code = switch error.status.code {
            case 404: "not-found"
            case 405: "method-not-allowed"
            case 413: "too-large"
            case 400: "bad-request"
            default: "http-\(error.status.code)"
            }
            throw APIError(error.status, code, error.body ?? (error.status.code == 404 ? "no such endpoint: \(request.method) \(request.uri.path)" : error.status.reasonPhrase))
        } catch let error as HTTPResponseError {
            throw error
        } catch {
            context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            throw APIError(.internalServerError, "internal", "the request could not be completed; see the server's log")
        }
    }
}
