import Crypto
import FoundationEssentials
import LightCore
import ProfileFormat

/// A route profile as the control plane publishes it: the profile document exactly as written
/// (YAML or JSON), and an Ed25519 signature over its UTF-8 bytes.
///
/// Signing the document's bytes, not a re-encoding of the model, means there is no canonical
/// form to agree on: the pole verifies the very text it then parses, and an engineer can read
/// the signed document as it was reviewed.
public struct SignedProfile: Payload, Hashable {
    public static let schema = "lichtweg.signed-profile/1"
    public var schema: String = Self.schema
    /// Route id and version as the document says (repeated here so that a receiver can tell what
    /// it got before parsing; the pole checks that they agree with the document).
    public var route: String
    public var version: Int
    /// The profile document.
    public var document: String
    /// Base64 of the 64-byte Ed25519 signature over `document`'s UTF-8 bytes.
    public var signature: String
    /// Base64 of the SHA-256 of the signer's public key: which key to verify with.
    public var keyID: String

    public init(route: String, version: Int, document: String, signature: String, keyID: String) {
        self.route = route
        self.version = version
        self.document = document
        self.signature = signature
        self.keyID = keyID
    }

    /// Signs a profile document after checking that it loads and validates.
    public static func sign(document: String, file: String,
                            with key: Curve25519.Signing.PrivateKey) throws -> SignedProfile {
        let profile = try ProfileLoader.load(document, file: file).get()
        let signature = try key.signature(for: Data(document.utf8))
        return SignedProfile(route: profile.route.id, version: profile.version, document: document,
                             signature: signature.base64EncodedString(), keyID: SigningKeys.keyID(key.publicKey))
    }
}

/// Why a pole did not take a profile. The old profile stays in force.
public enum ProfileRejection: Error, Hashable, Sendable, CustomStringConvertible {
    case malformed(String)
    case badSignature
    case wrongRoute(expected: String, found: String)
    case notNewer(inForce: Int, received: Int)
    case invalid(String)
    case poleNotInProfile(String)
    case storageFailed(String)

    /// A stable code for `ProfileAckPayload.reason`.
    public var code: String {
        switch self {
        case .malformed: "malformed"
        case .badSignature: "bad-signature"
        case .wrongRoute: "wrong-route"
        case .notNewer: "not-newer"
        case .invalid: "invalid-profile"
        case .poleNotInProfile: "pole-not-in-profile"
        case .storageFailed: "storage-failed"
        }
    }

    public var description: String {
        switch self {
        case let .malformed(detail): "malformed signed profile: \(detail)"
        case .badSignature: "signature does not verify with the pole's profile key"
        case let .wrongRoute(expected, found): "profile is for route '\(found)', this pole is on '\(expected)'"
        case let .notNewer(inForce, received): "version \(received) is not newer than version \(inForce) in force"
        case let .invalid(detail): "profile does not validate: \(detail)"
        case let .poleNotInProfile(pole): "profile does not list pole '\(pole)'"
        case let .storageFailed(detail): "could not store the profile: \(detail)"
        }
    }
}

/// The checks a pole makes before it takes a profile, in the order that tells the sender the most.
public struct ProfileAcceptance: Sendable {
    public let publicKey: Curve25519.Signing.PublicKey
    public let route: String
    public let pole: String

    public init(publicKey: Curve25519.Signing.PublicKey, route: String, pole: String) {
        self.publicKey = publicKey
        self.route = route
        self.pole = pole
    }

    /// The profile if `signed` may replace the version in force (nil: none), else why not.
    public func check(_ signed: SignedProfile, versionInForce: Int?) -> Result<Profile, ProfileRejection> {
        guard let signature = Data(base64Encoded: signed.signature), signature.count == 64 else {
            return .failure(.malformed("signature is not base64 of 64 bytes"))
        }
        guard publicKey.isValidSignature(signature, for: Data(signed.document.utf8)) else {
            return .failure(.badSignature)
        }
        // Signed, so what follows is the control plane's mistake, not an attacker's: say exactly what.
        if signed.route != route { return .failure(.wrongRoute(expected: route, found: signed.route)) }
        let profile: Profile
        switch ProfileLoader.load(signed.document, file: "profile v\(signed.version)") {
        case let .success(p): profile = p
        case let .failure(diagnostics):
            return .failure(.invalid(diagnostics.diagnostics.prefix(5).map(\.description).joined(separator: "; ")))
        }
        if profile.route.id != route { return .failure(.wrongRoute(expected: route, found: profile.route.id)) }
        if profile.version != signed.version {
            return .failure(.malformed("envelope says version \(signed.version), document says \(profile.version)"))
        }
        if let versionInForce, profile.version <= versionInForce {
            return .failure(.notNewer(inForce: versionInForce, received: profile.version))
        }
        guard profile.route.poles.contains(where: { $0.id == pole }) else { return .failure(.poleNotInProfile(pole)) }
        return .success(profile)
    }
}

/// Ed25519 key files: one line, base64 of the 32 raw key bytes.
public enum SigningKeys {
    public static func keyID(_ key: Curve25519.Signing.PublicKey) -> String {
        Data(SHA256.hash(data: key.rawRepresentation)).base64EncodedString()
    }

    public static func encode(_ key: Curve25519.Signing.PublicKey) -> String {
        key.rawRepresentation.base64EncodedString() + "\n"
    }

    public static func encode(_ key: Curve25519.Signing.PrivateKey) -> String {
        key.rawRepresentation.base64EncodedString() + "\n"
    }

    public static func publicKey(fromFileText text: String) throws(PayloadError) -> Curve25519.Signing.PublicKey {
        guard let raw = Data(base64Encoded: trimmed(text)), raw.count == 32,
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
        else { throw .invalid("not an Ed25519 public key (one line: base64 of 32 bytes)") }
        return key
    }

    public static func privateKey(fromFileText text: String) throws(PayloadError) -> Curve25519.Signing.PrivateKey {
        guard let raw = Data(base64Encoded: trimmed(text)), raw.count == 32,
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else { throw .invalid("not an Ed25519 private key (one line: base64 of 32 bytes)") }
        return key
    }

    /// The key file's text without the line break and spaces around it.
    private static func trimmed(_ text: String) -> String {
        String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
