import CentralCore
import CentralStore
import Hummingbird
import LightCore
import ProfileFormat

/// Routes and their profile versions: list, read, check as you type, upload.
struct ProfileRoutes {
    let storage: any CentralStorage
    let registry: ProfileRegistry

    struct Upload: Decodable {
        var document: String
        var comment: String?
    }

    struct Check: Decodable {
        var document: String
        var route: String?
    }

    struct CheckResult: ResponseEncodable {
        var ok: Bool
        var route: String
        var version: Int
        var poles: Int
    }

    /// A version without its (long) document and bundle, for lists.
    struct VersionSummary: ResponseEncodable {
        var route: String
        var version: Int
        var author: String
        var createdAt: String
        var comment: String

        init(_ r: ProfileVersionRecord) {
            route = r.route
            version = r.version
            author = r.author
            createdAt = r.createdAt.description
            comment = r.comment
        }
    }

    struct VersionDetail: ResponseEncodable {
        var summary: VersionSummary
        var document: String
        var signedBundle: String
    }

    struct List<T: Encodable & Sendable>: ResponseEncodable {
        var items: [T]
    }

    func add(to api: RouterGroup<CentralContext>) {
        api.get("routes") { _, context -> List<RouteRecord> in
            _ = try context.require(.viewer)
            return List(items: try await storage.routes())
        }
        api.get("routes/:route/profiles") { _, context -> List<VersionSummary> in
            _ = try context.require(.viewer)
            let route = try context.parameters.require("route")
            guard try await storage.route(route) != nil else { throw APIError.notFound("route \(route)") }
            return List(items: try await storage.profileVersions(route: route).map(VersionSummary.init))
        }
        api.get("routes/:route/profiles/:version") { _, context -> VersionDetail in
            _ = try context.require(.viewer)
            let route = try context.parameters.require("route")
            guard let version = context.parameters.get("version", as: Int.self) else {
                throw APIError(.badRequest, "bad-request", "the version must be a whole number")
            }
            guard let record = try await storage.profileVersion(route: route, version: version) else {
                throw APIError.notFound("route \(route) version \(version)")
            }
            return VersionDetail(summary: VersionSummary(record), document: record.document, signedBundle: record.signedBundle)
        }
        api.post("profiles/check") { request, context -> CheckResult in
            _ = try context.require(.viewer)
            let check = try await request.json(Check.self, limit: BodyLimit.document)
            let profile = try Self.map(registry.check(check.document, route: check.route))
            return CheckResult(ok: true, route: profile.route.id, version: profile.version, poles: profile.route.poles.count)
        }
        api.post("routes/:route/profiles") { request, context -> Response in
            let user = try context.require(.engineer)
            let route = try context.parameters.require("route")
            let upload = try await request.json(Upload.self, limit: BodyLimit.document)
            let record: ProfileVersionRecord
            do {
                record = try await registry.upload(upload.document, route: route, author: user.name, comment: upload.comment ?? "")
            } catch let error as ProfileRegistry.UploadError {
                throw Self.apiError(error)
            } catch let error as StorageError {
                throw APIError(.conflict, "conflict", "\(error)")
            }
            var response = try VersionSummary(record).response(from: request, context: context)
            response.status = .created
            return response
        }
    }

    static func map(_ result: Result<LightCore.Profile, ProfileRegistry.UploadError>) throws -> LightCore.Profile {
        switch result {
        case let .success(profile): return profile
        case let .failure(error): throw apiError(error)
        }
    }

    static func apiError(_ error: ProfileRegistry.UploadError) -> APIError {
        switch error {
        case let .invalid(diagnostics):
            APIError(.unprocessableContent, "invalid-profile", "the profile does not validate (\(diagnostics.count) problem\(diagnostics.count == 1 ? "" : "s"))",
                     details: diagnostics.map { APIError.Detail(line: $0.line, field: $0.path, message: $0.message) })
        case let .wrongRoute(expected, found):
            APIError(.unprocessableContent, "wrong-route", "the document is for route '\(found)', not '\(expected)'",
                     details: [APIError.Detail(line: nil, field: "route.id", message: "expected '\(expected)'")])
        case let .notNewer(latest, found):
            APIError(.conflict, "not-newer", "version \(found) is not newer than the latest stored version \(latest)",
                     details: [APIError.Detail(line: nil, field: "version", message: "must be more than \(latest)")])
        }
    }
}
