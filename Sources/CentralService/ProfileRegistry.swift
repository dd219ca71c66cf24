import CentralCore
import CentralStore
import Crypto
import Foundation
import LightCore
import PoleProtocol
import ProfileFormat

/// Profile versions: checked by the same loader and validator the poles use, stored immutably,
/// signed with the control plane's key, and written to the audit log.
public struct ProfileRegistry: Sendable {
    let storage: any CentralStorage
    let signingKey: Curve25519.Signing.PrivateKey
    let clock: @Sendable () -> Instant

    public init(storage: any CentralStorage, signingKey: Curve25519.Signing.PrivateKey,
                clock: @escaping @Sendable () -> Instant = { Instant(secondsSinceEpoch: Date().timeIntervalSince1970) }) {
        self.storage = storage
        self.signingKey = signingKey
        self.clock = clock
    }

    /// Why an upload was refused, for the engineer.
    public enum UploadError: Error, Sendable {
        /// The document does not load or validate: every problem with its line and field path.
        case invalid([ProfileDiagnostic])
        /// The document is for another route than the one it was uploaded to.
        case wrongRoute(expected: String, found: String)
        /// Its version is not newer than the latest stored one.
        case notNewer(latest: Int, found: Int)
    }

    /// Checks a document without storing it (the editor's validation as you type).
    public func check(_ document: String, route: String? = nil) -> Result<Profile, UploadError> {
        switch ProfileLoader.load(document, file: "profile") {
        case let .failure(diagnostics):
            return .failure(.invalid(diagnostics.diagnostics))
        case let .success(profile):
            if let route, profile.route.id != route { return .failure(.wrongRoute(expected: route, found: profile.route.id)) }
            return .success(profile)
        }
    }

    /// Stores `document` as a new version of `route`, signed, and says so in the audit log.
    public func upload(_ document: String, route: String, author: String, comment: String) async throws -> ProfileVersionRecord {
        let profile = try check(document, route: route).get()
        if let latest = try await storage.profileVersions(route: route).first, profile.version <= latest.version {
            throw UploadError.notNewer(latest: latest.version, found: profile.version)
        }
        let signed = try SignedProfile.sign(document: document, file: "profile", with: signingKey)
        let record = ProfileVersionRecord(route: route, version: profile.version, document: document,
                                          signedBundle: String(decoding: PayloadCodec.encode(signed), as: UTF8.self),
                                          author: author, createdAt: clock(), comment: comment)
        let routeRecord = RouteRecord(id: profile.route.id, name: profile.route.name, poles: profile.route.poles.map(\.id))
        try await storage.addProfileVersion(record, route: routeRecord)
        try await storage.appendAudit(AuditEntry(at: record.createdAt, actor: author, action: "profile.upload",
                                                 subject: "route \(route) version \(profile.version)", detail: comment))
        return record
    }
}
