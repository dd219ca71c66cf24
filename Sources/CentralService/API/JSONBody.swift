import Foundation
import Hummingbird

/// Largest request bodies: profile documents (a route of 10,000 poles is about 1.4 MiB of YAML)
/// and everything else.
enum BodyLimit {
    static let document = 4 << 20
    static let other = 1 << 20
}

extension Request {
    /// The body decoded as JSON `T`, or a 400 (413 when over `limit` bytes) that says what is wrong.
    func json<T: Decodable>(_ type: T.Type, limit: Int = BodyLimit.other) async throws -> T {
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
