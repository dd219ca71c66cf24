import Crypto
import Foundation
import LightCore
import PoleDaemon
import PoleProtocol
import ProfileFormat

// libFuzzer calls `LLVMFuzzerTestOneInput` with each input it makes. Which decoder gets it is
// chosen by LICHTWEG_FUZZ_TARGET (scripts/fuzz sets it). A finding is a crash: a Swift trap in a
// decoder, or a `precondition` below that states what must hold for every input.

/// What is fuzzed, by name.
enum FuzzTarget: String, CaseIterable {
    /// A profile document (YAML), as uploaded or as inside a signed profile.
    case profile
    /// A pole's `pole.yaml`.
    case poleConfig = "pole-config"
    /// Any MQTT payload, given to every payload decoder of the protocol.
    case payloads
    /// A signed profile as it arrives on a profile topic, checked by the pole's acceptance rules.
    case signedProfile = "signed-profile"

    static let current: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["LICHTWEG_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            fatalError("set LICHTWEG_FUZZ_TARGET to one of: \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return target
    }()
}

/// A key nobody else has: no input can carry a valid signature by it.
let fuzzKey = Curve25519.Signing.PrivateKey()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch FuzzTarget.current {
    case .profile: fuzzProfile(bytes)
    case .poleConfig: fuzzPoleConfig(bytes)
    case .payloads: fuzzPayloads(bytes)
    case .signedProfile: fuzzSignedProfile(bytes)
    }
    return 0
}

// MARK: - Targets

/// A profile either loads or is refused with diagnostics that name the file and a line inside it.
func fuzzProfile(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    switch ProfileLoader.load(text, file: "fuzz.yaml") {
    case .success(let profile):
        precondition(ProfileValidator.issues(in: profile).isEmpty, "loaded a profile that does not validate")
    case .failure(let diagnostics):
        checkDiagnostics(diagnostics, lines: ProfileLoader.lineCount(text))
    }
}

func fuzzPoleConfig(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    if case .failure(let diagnostics) = PoleConfigLoader.load(text, file: "pole.yaml") {
        checkDiagnostics(diagnostics, lines: ProfileLoader.lineCount(text))
    }
}

func checkDiagnostics(_ d: ProfileDiagnostics, lines: Int) {
    precondition(!d.diagnostics.isEmpty, "refused without saying why")
    for diagnostic in d.diagnostics {
        precondition(diagnostic.file == "fuzz.yaml" || diagnostic.file == "pole.yaml", "diagnostic names another file")
        if let line = diagnostic.line { precondition(line >= 1 && line <= lines, "line \(line) outside the text of \(lines) lines") }
        precondition(!diagnostic.message.isEmpty, "diagnostic without a message")
    }
}

/// Every decoder either refuses or gives a payload whose encoding is stable: decoding what we
/// encoded gives the same encoding again (what a pole publishes, the control plane reads back).
func fuzzPayloads(_ bytes: [UInt8]) {
    roundTrip(OnlinePayload.self, bytes)
    roundTrip(StatePayload.self, bytes)
    roundTrip(TelemetryPayload.self, bytes)
    roundTrip(FaultPayload.self, bytes)
    roundTrip(ProfileAckPayload.self, bytes)
    roundTrip(DetectionPayload.self, bytes)
    roundTrip(OverridePayload.self, bytes)
    roundTrip(TelemetryReceiptPayload.self, bytes)
    roundTrip(SignedProfile.self, bytes)
}

func roundTrip<P: Payload>(_ type: P.Type, _ bytes: [UInt8]) {
    guard let first = try? PayloadCodec.decode(P.self, from: bytes) else { return }
    let encoded = PayloadCodec.encode(first)
    guard let second = try? PayloadCodec.decode(P.self, from: encoded) else {
        preconditionFailure("\(P.self): our own encoding does not decode: \(String(decoding: encoded, as: UTF8.self))")
    }
    precondition(PayloadCodec.encode(second) == encoded, "\(P.self): encoding is not stable")
}

/// Nothing that arrives can carry a valid signature by a key only this process has: every input
/// is refused, as malformed or as badly signed, before its document is even parsed.
func fuzzSignedProfile(_ bytes: [UInt8]) {
    guard let signed = try? PayloadCodec.decode(SignedProfile.self, from: bytes) else { return }
    let acceptance = ProfileAcceptance(publicKey: fuzzKey.publicKey, route: "brandis-beucha", pole: "BB-001")
    switch acceptance.check(signed, versionInForce: nil) {
    case .success: preconditionFailure("accepted a profile not signed by the pole's key")
    case .failure(.badSignature), .failure(.malformed): break
    case .failure(let other): preconditionFailure("a forged profile got past the signature check: \(other)")
    }
    // The same document, rightly signed, goes through the whole check without trapping.
    if let resigned = try? SignedProfile.sign(document: signed.document, file: "fuzz.yaml", with: fuzzKey) {
        _ = acceptance.check(resigned, versionInForce: 3)
    }
}
