import Foundation
import LichtwegTestSupport
import Logging
import PoleLink
import Testing

/// `MQTTLink` itself, against a real mosquitto.
@Suite("MQTT link")
struct MQTTLinkTests {
    @Test("a consumer that falls far behind loses nothing: the link pauses reading instead of dropping")
    func backPressure() async throws {
        // The broker queues without limit for a client that does not read (its default, 1,000,
        // would drop at the broker: that limit is the operator's to set, see docs/central.md).
        let broker = try Broker(extraConfig: "allow_anonymous true\nmax_queued_messages 0")
        var logger = Logger(label: "test-link")
        logger.logLevel = .warning
        let receiver = try MQTTLink(options: MQTTOptions(host: "127.0.0.1", port: broker.port, clientID: "slow-consumer"),
                                    logger: logger)
        receiver.subscribe("flood/#", qos: 1)
        try receiver.start()
        defer { receiver.stop() }
        var iterator = receiver.events.makeAsyncIterator()
        guard case .connected = await iterator.next() else { Issue.record("no connected event first"); return }
        try await Task.sleep(for: .milliseconds(200))  // the SUBACK

        // Three times the link's buffer, published while nobody consumes the events.
        let count = 3 * 4096
        let sender = try MQTTLink(options: MQTTOptions(host: "127.0.0.1", port: broker.port, clientID: "flood-sender"),
                                  logger: logger)
        try sender.start()
        defer { sender.stop() }
        #expect(await eventually(30) { sender.isConnected })
        for i in 0..<count {
            try sender.publish(MQTTMessage(topic: "flood/\(i % 7)", payload: Array("\(i)".utf8), qos: 1))
        }
        #expect(await eventually(30) { sender.unacknowledgedCount == 0 }, "the broker did not take all messages")
        try await Task.sleep(for: .seconds(1))  // the link's buffer fills and the loop thread pauses

        // Now consume: every message arrives, none twice.
        var seen: [Int] = []
        let deadline = Date().addingTimeInterval(60)
        while seen.count < count, Date() < deadline, let event = await iterator.next() {
            if case let .message(m) = event, let n = Int(String(decoding: m.payload, as: UTF8.self)) { seen.append(n) }
        }
        let distinct = Set(seen)
        let lost = (0..<count).filter { !distinct.contains($0) }
        #expect(lost.isEmpty, "\(lost.count) of \(count) messages lost, the first \(lost.first ?? -1)")
        #expect(seen.count == distinct.count, "\(seen.count - distinct.count) messages came twice")
    }
}
