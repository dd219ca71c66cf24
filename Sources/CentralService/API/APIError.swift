import Foundation
import HTTPTypes
import Hummingbird

/// A refused request: a 4xx status and a JSON body `{"error": {"code", "message", "details"}}`.
/// Handlers throw these; nothing the client sends produces a 500.
public struct APIError: HTTPResponseError, Sendable {
    public struct Detail: Codable, Hashable, Sendable {
        public var line: Int?
        public var field: String
        public var message: String

        public init(line: Int?, field: String, message: String) {
            self.line = line
            self.field = field
            self.message = message
        }
    }

    struct Body: Codable {
        struct Inner: Codable {
            var code: String
            var message: String
            var details: [Detail]?
        }
        var error: Inner
    }

    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    public let details: [Detail]?

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, details: [Detail]? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Body(error: .init(code: code, message: message, details: details))
        let data = try JSONEncoder().encode(body)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func notFound(_ what: String) -> APIError { APIError(.notFound, "not-found", "\(what) not found") }
}
