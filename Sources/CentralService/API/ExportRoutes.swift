import CentralCore
import CentralStore
import Foundation
import HTTPTypes
import Hummingbird

/// `GET /api/routes/:route/ngsi-ld`: the route's poles as FIWARE `Streetlight` entities.
struct ExportRoutes {
    let storage: any CentralStorage
    let registry: ProfileRegistry

    func add(to api: RouterGroup<CentralContext>) {
        api.get("routes/:route/ngsi-ld") { _, context -> Response in
            _ = try context.require(.viewer)
            let route = try context.parameters.require("route")
            guard let latest = try await storage.profileVersions(route: route).first else { throw APIError.notFound("route \(route)") }
            let profile = try ProfileRoutes.map(registry.check(latest.document))
            let snapshots = Dictionary(try await storage.poleSnapshots(route: route).map { ($0.pole, $0) }, uniquingKeysWith: { a, _ in a })
            let entities = profile.route.poles.map {
                StreetlightEntity(route: route, pole: $0.id, position: $0.position, snapshot: snapshots[$0.id])
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return Response(status: .ok, headers: [.contentType: "application/ld+json"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(entities))))
        }
    }
}
