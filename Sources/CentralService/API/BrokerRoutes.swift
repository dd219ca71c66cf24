import CentralCore
import CentralStore
import HTTPTypes
import Hummingbird

/// `GET /api/broker/acl` (admin): the mosquitto ACL file for the routes stored now.
struct BrokerRoutes {
    let storage: any CentralStorage

    func add(to api: RouterGroup<CentralContext>) {
        api.get("broker/acl") { _, context -> Response in
            _ = try context.require(.admin)
            let acl = BrokerACL.render(routes: try await storage.routes())
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: acl)))
        }
    }
}
