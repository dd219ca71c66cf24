import CentralCore
import CentralService
import Foundation
import LichtwegTestSupport
import LightCore
import PoleLink
import PoleProtocol
import Testing

/// The generated ACL in a real mosquitto: a pole's credentials cannot speak for another pole, nor
/// for the control plane.
@Suite("Broker ACL in mosquitto", .serialized)
struct BrokerACLIntegrationTests {
    static func client(_ broker: Broker, _ user: String) throws -> Observer {
        var options = MQTTOptions(host: "127.0.0.1", port: broker.port, clientID: "\(user)-\(UUID().uuidString.prefix(6))")
        options.username = user
        options.password = "pw-\(user)"
        return try Observer(broker: broker, name: user, options: options)
    }

    @Test("a pole may publish its own state and notices only; not another pole's state, a profile or an override")
    func refusals() async throws {
        let scratch = try Scratch("acl")
        let acl = try scratch.write("acl", BrokerACL.render(routes: [RouteRecord(id: "it-road", name: "x", poles: ["A1", "A2"])]))
        let passwords = "\(scratch.path)/passwords"
        for user in ["lichtweg-central", "A1", "A2"] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/mosquitto_passwd")
            p.arguments = (FileManager.default.fileExists(atPath: passwords) ? ["-b"] : ["-b", "-c"]) + [passwords, user, "pw-\(user)"]
            try p.run()
            p.waitUntilExit()
            try #require(p.terminationStatus == 0)
        }
        let broker = try Broker(extraConfig: "allow_anonymous false\npassword_file \(passwords)\nacl_file \(acl)")
        let central = try Self.client(broker, "lichtweg-central")
        try await central.start()
        let a2 = try Self.client(broker, "A2")
        try await a2.start()

        let mine = [Topics.state("A2"), Topics.fault("A2"), Topics(route: "it-road").detection(from: "A2")]
        let forbidden = [Topics.state("A1"), Topics.fault("A1"), Topics(route: "it-road").profile, Topics.override("A1"),
                         Topics.poleProfile("A2"), Topics.override("A2"), Topics(route: "it-road").detection(from: "A1"),
                         "lichtweg/v1/pole/A1/online"]
        for topic in forbidden + mine { try await a2.publish(topic, Array("{\"from\":\"A2\"}".utf8)) }
        var ok = false
        for _ in 0..<200 where !ok {
            ok = await Set(central.messages.map(\.topic)).isSuperset(of: mine)
            if !ok { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(ok, "the pole's own topics did not arrive")
        try await Task.sleep(for: .milliseconds(500))
        let arrived = Set(await central.messages.filter { String(decoding: $0.payload, as: UTF8.self).contains("A2") }.map(\.topic))
        #expect(arrived == Set(mine), "arrived: \(arrived.sorted())")

        // And the control plane's own messages reach the pole that is meant.
        try await central.publish(Topics.override("A2"), Array("{\"level\":1}".utf8))
        try await central.publish(Topics.override("A1"), Array("{\"level\":2}".utf8))
        var delivered = false
        for _ in 0..<200 where !delivered {
            delivered = await a2.messages.contains { $0.topic == Topics.override("A2") }
            if !delivered { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(delivered)
        try await Task.sleep(for: .milliseconds(300))
        #expect(await !a2.messages.contains { $0.topic == Topics.override("A1") })
        await a2.stop()
        await central.stop()
    }
}
