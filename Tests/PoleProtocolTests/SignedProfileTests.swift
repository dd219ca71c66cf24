import Crypto
import Foundation
import LightCore
import PoleProtocol
import ProfileFormat
import Testing

/// A small valid profile of route `it-road` with poles A1, A2 and A3.
func profileYAML(version: Int = 2, route: String = "it-road", stepLevel: String = "40") -> String {
    """
    format: lichtweg-profile/1
    version: \(version)
    route:
      id: \(route)
      name: Integrationsweg Leipzig–Taucha
      timezone: Europe/Berlin
      location: {lat: 51.3397, lon: 12.3731}
      luminaires:
        led40: {power: 40, standby: 0.5}
      poles:
        - {id: A1, chainage: 0, lat: 51.3397, lon: 12.3731, luminaire: led40,
           sensors: [{id: s1, kind: radar, facing: increasing, range: 30}]}
        - {id: A2, chainage: 40, lat: 51.3400, lon: 12.3735, luminaire: led40}
        - {id: A3, chainage: 80, lat: 51.3403, lon: 12.3739, luminaire: led40}
    lightingClasses: {P4: 30}
    calendar:
      default: weeknight
    programs:
      weeknight:
        switchOn: {event: sunset, offsetMinutes: 10}
        switchOff: {event: sunrise, offsetMinutes: -10}
        class: P4
        steps:
          - {at: switchOn, level: \(stepLevel)}
        presence: {level: 100, holdSeconds: 60}

    """
}

extension Result {
    var failureValue: Failure? { if case let .failure(f) = self { f } else { nil } }
    var successValue: Success? { if case let .success(s) = self { s } else { nil } }
}

@Suite("Signed profiles")
struct SignedProfileTests {
    let key = Curve25519.Signing.PrivateKey()
    var acceptance: ProfileAcceptance { ProfileAcceptance(publicKey: key.publicKey, route: "it-road", pole: "A2") }

    func signed(_ document: String = profileYAML()) throws -> SignedProfile {
        try SignedProfile.sign(document: document, file: "it-road.yaml", with: key)
    }

    @Test("sign fills the envelope from the document")
    func envelope() throws {
        let document = profileYAML(version: 7)
        let s = try signed(document)
        #expect(s.schema == "lichtweg.signed-profile/1")
        #expect(s.route == "it-road")
        #expect(s.version == 7)
        #expect(s.document == document)
        #expect(Data(base64Encoded: s.signature)?.count == 64)
        #expect(key.publicKey.isValidSignature(try #require(Data(base64Encoded: s.signature)), for: Data(document.utf8)))
        #expect(s.keyID == SigningKeys.keyID(key.publicKey))
    }

    @Test("sign refuses a document that does not load, with the loader's diagnostics")
    func signRefusesInvalid() throws {
        let error = #expect(throws: ProfileDiagnostics.self) {
            try SignedProfile.sign(document: profileYAML(stepLevel: "150"), file: "bad.yaml", with: key)
        }
        #expect(error?.description.hasPrefix("bad.yaml:") == true, "\(String(describing: error))")
    }

    @Test("a well-signed newer profile listing the pole is accepted")
    func accepted() throws {
        let s = try signed()
        for inForce in [nil, 0, 1] as [Int?] {
            let profile = try #require(acceptance.check(s, versionInForce: inForce).successValue, "in force: \(String(describing: inForce))")
            #expect(profile.route.id == "it-road")
            #expect(profile.version == 2)
            #expect(profile.route.poles.map(\.id) == ["A1", "A2", "A3"])
        }
    }

    @Test("the signed profile survives the wire (PayloadCodec) and still verifies")
    func overTheWire() throws {
        let s = try signed()
        let received = try PayloadCodec.decode(SignedProfile.self, from: PayloadCodec.encode(s))
        #expect(received == s)
        #expect(acceptance.check(received, versionInForce: 1).successValue?.version == 2)
    }

    @Test("one character changed in the document: bad signature")
    func tampered() throws {
        var s = try signed()
        let tampered = s.document.replacingOccurrences(of: "level: 40", with: "level: 41")
        #expect(tampered != s.document)
        #expect(tampered.count == s.document.count)
        s.document = tampered
        #expect(acceptance.check(s, versionInForce: nil) == .failure(.badSignature))
    }

    @Test("a trailing newline added to the document: bad signature")
    func whitespaceTampered() throws {
        var s = try signed()
        s.document += "\n"
        #expect(acceptance.check(s, versionInForce: nil) == .failure(.badSignature))
    }

    @Test("signed by another key: bad signature")
    func otherKey() throws {
        let other = Curve25519.Signing.PrivateKey()
        let s = try SignedProfile.sign(document: profileYAML(), file: "x.yaml", with: other)
        #expect(s.keyID != SigningKeys.keyID(key.publicKey))
        #expect(acceptance.check(s, versionInForce: nil) == .failure(.badSignature))
    }

    @Test("the signature is checked before anything the document says")
    func signatureFirst() throws {
        // Wrong key *and* wrong route, stale version, pole missing: the signature is what is reported.
        let other = Curve25519.Signing.PrivateKey()
        let s = try SignedProfile.sign(document: profileYAML(version: 1, route: "other-road"), file: "x.yaml", with: other)
        let strict = ProfileAcceptance(publicKey: key.publicKey, route: "it-road", pole: "Z9")
        #expect(strict.check(s, versionInForce: 5) == .failure(.badSignature))
    }

    @Test("a signature that is not base64 of 64 bytes is malformed", arguments: [
        "not base64!!", "", Data(repeating: 7, count: 63).base64EncodedString(),
        Data(repeating: 7, count: 65).base64EncodedString(),
    ])
    func malformedSignature(signature: String) throws {
        var s = try signed()
        s.signature = signature
        let rejection = try #require(acceptance.check(s, versionInForce: nil).failureValue)
        guard case .malformed = rejection else {
            Issue.record("expected .malformed, got \(rejection)")
            return
        }
        #expect(rejection.code == "malformed")
    }

    @Test("64 bytes that are not the signature: bad signature")
    func wrongBytes() throws {
        var s = try signed()
        s.signature = Data(repeating: 0, count: 64).base64EncodedString()
        #expect(acceptance.check(s, versionInForce: nil) == .failure(.badSignature))
    }

    @Test("the envelope names another route: wrong route")
    func envelopeRoute() throws {
        var s = try signed()
        s.route = "other-road"
        #expect(acceptance.check(s, versionInForce: nil) == .failure(.wrongRoute(expected: "it-road", found: "other-road")))
    }

    @Test("the document (and envelope) is for another route: wrong route")
    func documentRoute() throws {
        let s = try signed()
        let elsewhere = ProfileAcceptance(publicKey: key.publicKey, route: "other-road", pole: "A2")
        #expect(elsewhere.check(s, versionInForce: nil) == .failure(.wrongRoute(expected: "other-road", found: "it-road")))
    }

    @Test("the envelope agrees with the pole but the signed document names another route: wrong route")
    func envelopeLiesAboutRoute() throws {
        var s = try SignedProfile.sign(document: profileYAML(route: "other-road"), file: "x.yaml", with: key)
        s.route = "it-road"
        #expect(acceptance.check(s, versionInForce: nil) == .failure(.wrongRoute(expected: "it-road", found: "other-road")))
    }

    @Test("a version not newer than the one in force: not newer", arguments: [2, 3, 100])
    func notNewer(inForce: Int) throws {
        let s = try signed()
        #expect(acceptance.check(s, versionInForce: inForce) == .failure(.notNewer(inForce: inForce, received: 2)))
    }

    @Test("a profile that does not list the pole: pole not in profile")
    func poleNotListed() throws {
        let s = try signed()
        let z9 = ProfileAcceptance(publicKey: key.publicKey, route: "it-road", pole: "Z9")
        #expect(z9.check(s, versionInForce: nil) == .failure(.poleNotInProfile("Z9")))
    }

    /// Signs `document` as version 2 without `SignedProfile.sign`'s own check, and returns why
    /// the pole rejects it.
    func rejectionOfUncheckedSigning(_ document: String) throws -> ProfileRejection {
        let signature = try key.signature(for: Data(document.utf8))
        let s = SignedProfile(route: "it-road", version: 2, document: document,
                              signature: signature.base64EncodedString(), keyID: SigningKeys.keyID(key.publicKey))
        return try #require(acceptance.check(s, versionInForce: nil).failureValue)
    }

    @Test("a signed document that does not validate: invalid, with the loader's FILE:LINE message")
    func invalidDocument() throws {
        let document = profileYAML(stepLevel: "150")
        let rejection = try rejectionOfUncheckedSigning(document)
        guard case let .invalid(detail) = rejection else {
            Issue.record("expected .invalid, got \(rejection)")
            return
        }
        let lines = document.split(separator: "\n", omittingEmptySubsequences: false)
        let line = try #require(lines.firstIndex { $0.contains("level: 150") }) + 1
        #expect(detail.hasPrefix("profile v2:\(line): programs.weeknight.steps[0].level: "), "\(detail)")
        #expect(detail.contains("150"))
        #expect(rejection.code == "invalid-profile")
    }

    @Test("a signed document that is not YAML at all: invalid")
    func notYAML() throws {
        let document = "route: [unclosed\n"
        let rejection = try rejectionOfUncheckedSigning(document)
        guard case let .invalid(detail) = rejection else {
            Issue.record("expected .invalid, got \(rejection)")
            return
        }
        #expect(detail.hasPrefix("profile v2:"), "\(detail)")
    }

    @Test("envelope version differs from the document's: malformed")
    func versionMismatch() throws {
        var s = try signed()
        s.version = 5
        let rejection = try #require(acceptance.check(s, versionInForce: nil).failureValue)
        guard case let .malformed(detail) = rejection else {
            Issue.record("expected .malformed, got \(rejection)")
            return
        }
        #expect(detail.contains("5") && detail.contains("2"), "\(detail)")
        // A higher envelope version must not get a stale document past the version check either.
        #expect(acceptance.check(s, versionInForce: 3).failureValue?.code == "malformed")
    }

    @Test("rejection codes are stable strings")
    func codes() {
        #expect(ProfileRejection.malformed("x").code == "malformed")
        #expect(ProfileRejection.badSignature.code == "bad-signature")
        #expect(ProfileRejection.wrongRoute(expected: "a", found: "b").code == "wrong-route")
        #expect(ProfileRejection.notNewer(inForce: 2, received: 1).code == "not-newer")
        #expect(ProfileRejection.invalid("x").code == "invalid-profile")
        #expect(ProfileRejection.poleNotInProfile("Z9").code == "pole-not-in-profile")
        #expect(ProfileRejection.storageFailed("disk full").code == "storage-failed")
    }

    @Test("rejection descriptions say what was wrong")
    func descriptions() {
        #expect(ProfileRejection.wrongRoute(expected: "it-road", found: "x").description
            == "profile is for route 'x', this pole is on 'it-road'")
        #expect(ProfileRejection.notNewer(inForce: 3, received: 2).description
            == "version 2 is not newer than version 3 in force")
        #expect(ProfileRejection.poleNotInProfile("Z9").description == "profile does not list pole 'Z9'")
    }
}

@Suite("Signing keys")
struct SigningKeysTests {
    @Test("a public key survives its file form")
    func publicRoundTrip() throws {
        let key = Curve25519.Signing.PrivateKey().publicKey
        let text = SigningKeys.encode(key)
        #expect(text.hasSuffix("\n"))
        #expect(text.filter { $0 == "\n" }.count == 1)
        #expect(Data(base64Encoded: String(text.dropLast()))?.count == 32)
        let parsed = try SigningKeys.publicKey(fromFileText: text)
        #expect(parsed.rawRepresentation == key.rawRepresentation)
    }

    @Test("a private key survives its file form and still signs for its public key")
    func privateRoundTrip() throws {
        let key = Curve25519.Signing.PrivateKey()
        let parsed = try SigningKeys.privateKey(fromFileText: SigningKeys.encode(key))
        #expect(parsed.rawRepresentation == key.rawRepresentation)
        #expect(parsed.publicKey.rawRepresentation == key.publicKey.rawRepresentation)
        let message = Data("hello".utf8)
        #expect(key.publicKey.isValidSignature(try parsed.signature(for: message), for: message))
    }

    @Test("surrounding white space is ignored")
    func whitespace() throws {
        let key = Curve25519.Signing.PrivateKey().publicKey
        let text = "  \t" + key.rawRepresentation.base64EncodedString() + " \n\n"
        #expect(try SigningKeys.publicKey(fromFileText: text).rawRepresentation == key.rawRepresentation)
    }

    @Test("wrong length or not base64: throws", arguments: [
        Data(repeating: 1, count: 31).base64EncodedString(),
        Data(repeating: 1, count: 33).base64EncodedString(),
        Data(repeating: 1, count: 64).base64EncodedString(),
        "",
        "not a key",
    ])
    func wrongLength(text: String) {
        #expect(throws: PayloadError.self) { try SigningKeys.publicKey(fromFileText: text) }
        #expect(throws: PayloadError.self) { try SigningKeys.privateKey(fromFileText: text) }
    }

    @Test("key ids: 32 bytes of hash, the same for the same key, different for another")
    func keyIDs() {
        let a = Curve25519.Signing.PrivateKey().publicKey, b = Curve25519.Signing.PrivateKey().publicKey
        #expect(Data(base64Encoded: SigningKeys.keyID(a))?.count == 32)
        #expect(SigningKeys.keyID(a) == SigningKeys.keyID(a))
        #expect(SigningKeys.keyID(a) != SigningKeys.keyID(b))
        #expect(SigningKeys.keyID(a) != a.rawRepresentation.base64EncodedString())
    }
}
