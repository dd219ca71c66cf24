import HTTPTypes
import Hummingbird

/// Headers on every response that keep the UI from being framed, sniffed or fed foreign scripts:
/// everything it loads comes from this server.
struct SecurityHeaders: RouterMiddleware {
    typealias Context = CentralContext
    /// Served over HTTPS: browsers are told to use nothing else for this host for a year.
    var https = false

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPResponseError {
            // Refusals get the same headers as answers.
            response = try error.response(from: request, context: context)
        }
        response.headers[.contentSecurityPolicy] = "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        if https { response.headers[HTTPField.Name("Strict-Transport-Security")!] = "max-age=31536000" }
        return response
    }
}
