import FoundationEssentials

/// A versioned JSON message. Every payload carries `schema` (e.g. `lichtweg.state/1`): a reader
/// takes any payload of the same schema name and major version and ignores fields it does not
/// know, so a newer writer can add fields without breaking older poles.
public protocol Payload: Codable, Sendable {
    /// `lichtweg.<name>/<major>`.
    static var schema: String { get }
    /// The schema this payload says it has.
    var schema: String { get }
}

/// Why a payload was not taken.
public enum PayloadError: Error, Hashable, Sendable, CustomStringConvertible {
    case notJSON(String)
    case wrongSchema(expected: String, found: String?)
    case invalid(String)

    public var description: String {
        switch self {
        case let .notJSON(detail): "not a JSON object: \(detail)"
        case let .wrongSchema(expected, found): "schema \(found.map { "'\($0)'" } ?? "missing"), expected '\(expected)'"
        case let .invalid(detail): detail
        }
    }
}

/// Encodes and decodes payloads (sorted keys, so the same message is always the same bytes).
public enum PayloadCodec {
    private struct SchemaProbe: Decodable { var schema: String? }

    public static func encode<P: Payload>(_ payload: P) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Our payload types have no failure paths in encoding (no non-finite doubles: levels and
        // speeds are clamped where they are made).
        return Array((try? encoder.encode(payload)) ?? Data())
    }

    public static func decode<P: Payload>(_ type: P.Type, from bytes: some Collection<UInt8>) throws(PayloadError) -> P {
        let data = Data(bytes)
        // A good payload is parsed once; only a failure is parsed again, to say why.
        if let payload = try? JSONDecoder().decode(P.self, from: data) {
            guard Self.sameMajor(payload.schema, P.schema) else {
                throw .wrongSchema(expected: P.schema, found: payload.schema)
            }
            return payload
        }
        let probe: SchemaProbe
        do {
            probe = try JSONDecoder().decode(SchemaProbe.self, from: data)
        } catch {
            throw .notJSON(Self.describe(error))
        }
        guard let schema = probe.schema, Self.sameMajor(schema, P.schema) else {
            throw .wrongSchema(expected: P.schema, found: probe.schema)
        }
        do {
            return try JSONDecoder().decode(P.self, from: data)
        } catch {
            throw .invalid(Self.describe(error))
        }
    }

    /// `lichtweg.state/1` matches `lichtweg.state/1` and `lichtweg.state/1.2`.
    static func sameMajor(_ found: String, _ expected: String) -> Bool {
        found == expected || found.hasPrefix(expected + ".")
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ p: [any CodingKey]) -> String {
            p.isEmpty ? "payload" : p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case let .typeMismatch(_, c), let .valueNotFound(_, c): return "\(path(c.codingPath)): \(c.debugDescription)"
        case let .keyNotFound(key, c): return "\(path(c.codingPath + [key])): missing"
        case let .dataCorrupted(c): return "\(path(c.codingPath)): \(c.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
