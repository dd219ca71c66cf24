import CentralCore
import Testing

@Suite("Broker ACL")
struct BrokerACLTests {
    @Test("each pole may write only its own topics and read only its route's")
    func render() {
        let acl = BrokerACL.render(routes: [RouteRecord(id: "r2", name: "R2", poles: ["B1"]),
                                            RouteRecord(id: "r1", name: "R1", poles: ["A1", "A2"])])
        let lines = acl.split(separator: "\n").map(String.init)
        #expect(lines.contains("user lichtweg-central") && lines.contains("topic readwrite lichtweg/#"))
        #expect(lines.contains("pattern write lichtweg/v1/pole/%u/state"))
        #expect(!lines.contains { $0.hasPrefix("pattern write") && $0.contains("override") })
        // Routes in order; per pole exactly one write of a notice, its own.
        let a2 = lines.firstIndex(of: "user A2")!
        #expect(Array(lines[(a2 + 1)...(a2 + 3)]) == ["topic read lichtweg/v1/route/r1/profile",
                                                      "topic read lichtweg/v1/route/r1/detection/+",
                                                      "topic write lichtweg/v1/route/r1/detection/A2"])
        #expect(lines.firstIndex(of: "user A1")! < lines.firstIndex(of: "user B1")!)
        #expect(!lines.contains { $0.contains("route/r1/profile") && $0.contains("write") })
    }
}
