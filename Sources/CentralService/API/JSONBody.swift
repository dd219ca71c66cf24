import Foundation
import Hummingbird

extension Request {
    /// The body decoded as JSON `T`, or a 400 (413 when over `limit` bytes) that says what is wrong.
    func json<T: Decodable>(_ type: T.Type, limit: Int = 1 << 20) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, "too-large", "the body is larger than \(limit) bytes")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
        } catch let DecodingError.keyNotFound(key, _) {
            throw APIError(.badRequest, "bad-request", "missing field '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context) {
            throw APIError(.badRequest, "bad-request",
                           "wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'")
        } catch {
            throw APIError(.badRequest, "bad-request", "the body is not the JSON this endpoint expects")
        }
    }
}
