import CentralCore
import CentralStore
import Foundation
import Hummingbird
import LightCore

/// Rollouts of a route: start, watch, halt, roll back; and the route's poles as they report.
struct RolloutRoutes {
    let storage: any CentralStorage
    let registry: ProfileRegistry
    let rollouts: RolloutCoordinator

    struct Start: Decodable {
        var version: Int
        var canaries: [String]?
        var soakSeconds: Double?
        var ackTimeoutSeconds: Double?
    }

    struct Halt: Decodable {
        var reason: String
    }

    struct Rollback: Decodable {
        /// The earlier version whose content is to be in force again.
        var toVersion: Int
        var canaries: [String]?
        var soakSeconds: Double?
        var ackTimeoutSeconds: Double?
    }

    func add(to api: RouterGroup<CentralContext>) {
        api.post("routes/:route/rollouts") { request, context -> Response in
            let user = try context.require(.engineer)
            let route = try context.parameters.require("route")
            let start = try await request.json(Start.self)
            let record = try await begin(route: route, version: start.version, canaries: start.canaries ?? [],
                                         soak: start.soakSeconds, timeout: start.ackTimeoutSeconds, user: user.name)
            var response = try RolloutView(record).response(from: request, context: context)
            response.status = .created
            return response
        }
        api.get("routes/:route/rollout") { _, context -> RolloutView in
            _ = try context.require(.viewer)
            let route = try context.parameters.require("route")
            guard let record = try await rollouts.current(route: route) else { throw APIError.notFound("a rollout of route \(route)") }
            return RolloutView(record)
        }
        api.post("routes/:route/rollout/halt") { request, context -> RolloutView in
            let user = try context.require(.engineer)
            let route = try context.parameters.require("route")
            let halt = try await request.json(Halt.self)
            guard try await rollouts.halt(route: route, reason: halt.reason, by: user.name),
                  let record = try await rollouts.current(route: route)
            else { throw APIError.notFound("a running rollout of route \(route)") }
            return RolloutView(record)
        }
        api.post("routes/:route/rollback") { request, context -> Response in
            let user = try context.require(.engineer)
            let route = try context.parameters.require("route")
            let rollback = try await request.json(Rollback.self)
            // Checked before the new version is stored: a refused rollback leaves nothing behind.
            if try await rollouts.isRunning(route: route) {
                throw APIError(.conflict, "rollout-running", "a rollout of \(route) is running: halt it first")
            }
            guard let old = try await storage.profileVersion(route: route, version: rollback.toVersion),
                  let latest = try await storage.profileVersions(route: route).first
            else { throw APIError.notFound("route \(route) version \(rollback.toVersion)") }
            // The old content as a new, newer version: poles only ever move forward.
            let newVersion = latest.version + 1
            guard let document = ProfileRewrite.settingVersion(newVersion, in: old.document) else {
                throw APIError(.unprocessableContent, "cannot-rewrite", "version \(rollback.toVersion) has no top-level 'version:' line to renumber")
            }
            let record: ProfileVersionRecord
            do {
                record = try await registry.upload(document, route: route, author: user.name,
                                                   comment: "rollback to the content of version \(rollback.toVersion)")
            } catch let error as ProfileRegistry.UploadError {
                throw ProfileRoutes.apiError(error)
            } catch let error as StorageError {
                throw APIError(.conflict, "conflict", "\(error)")
            }
            let started = try await begin(route: route, version: record.version, canaries: rollback.canaries ?? [],
                                          soak: rollback.soakSeconds, timeout: rollback.ackTimeoutSeconds, user: user.name)
            var response = try RolloutView(started).response(from: request, context: context)
            response.status = .created
            return response
        }
        api.get("routes/:route/poles") { _, context -> ProfileRoutes.List<PoleView> in
            _ = try context.require(.viewer)
            let route = try context.parameters.require("route")
            guard try await storage.route(route) != nil else { throw APIError.notFound("route \(route)") }
            return ProfileRoutes.List(items: try await storage.poleSnapshots(route: route).map(PoleView.init))
        }
    }

    private func begin(route: String, version: Int, canaries: [String], soak: Double?, timeout: Double?,
                       user: String) async throws -> RolloutRecord {
        do {
            return try await rollouts.start(route: route, version: version, canaries: canaries, soakSeconds: soak ?? 600,
                                            ackTimeoutSeconds: timeout ?? 300, by: user)
        } catch let error as RolloutCoordinator.StartError {
            switch error {
            case let .unknownVersion(route, version): throw APIError.notFound("route \(route) version \(version)")
            case let .badPlan(problems):
                throw APIError(.unprocessableContent, "bad-plan", problems.joined(separator: "; "),
                               details: problems.map { APIError.Detail(line: nil, field: "canaries", message: $0) })
            case let .busy(route, version):
                throw APIError(.conflict, "rollout-running", "version \(version) is still being rolled out on \(route): halt it first")
            }
        }
    }
}


/// Small, checked edits of a profile document's text.
enum ProfileRewrite {
    /// The document with its top-level `version:` set to `version`, or nil if it has none. The
    /// caller validates the result, so an edit that missed shows as a validation error.
    static func settingVersion(_ version: Int, in document: String) -> String? {
        var lines = document.components(separatedBy: "\n")
        guard let i = lines.firstIndex(where: { $0.hasPrefix("version:") }) else { return nil }
        let comment = lines[i].range(of: "#").map { " " + lines[i][$0.lowerBound...] } ?? ""
        lines[i] = "version: \(version)\(comment)"
        return lines.joined(separator: "\n")
    }
}
