import PoleProtocol
import Testing

@Suite("Topics")
struct TopicsTests {
    @Test("route topics")
    func route() {
        let t = Topics(route: "it-road")
        #expect(Topics.root == "lichtweg/v1")
        #expect(t.profile == "lichtweg/v1/route/it-road/profile")
        #expect(t.detection(from: "A1") == "lichtweg/v1/route/it-road/detection/A1")
        #expect(t.allDetections == "lichtweg/v1/route/it-road/detection/+")
    }

    @Test("pole topics")
    func pole() {
        #expect(Topics.online("A1") == "lichtweg/v1/pole/A1/online")
        #expect(Topics.state("A1") == "lichtweg/v1/pole/A1/state")
        #expect(Topics.telemetry("A1") == "lichtweg/v1/pole/A1/telemetry")
        #expect(Topics.fault("A1") == "lichtweg/v1/pole/A1/fault")
        #expect(Topics.profileAck("A1") == "lichtweg/v1/pole/A1/profile-ack")
        #expect(Topics.override("A1") == "lichtweg/v1/pole/A1/override")
    }

    @Test("valid topic levels", arguments: ["A1", "it-road", "BB-001", "pole_7.b", "ä", String(repeating: "x", count: 64)])
    func validLevels(id: String) {
        #expect(Topics.isValidLevel(id))
    }

    @Test("invalid topic levels", arguments: [
        "", "a/b", "a+b", "#", "a#", "+", "/", "a b", " a", "a\tb", "a\nb", "a\u{0}b", String(repeating: "x", count: 65),
        String(repeating: "ä", count: 33),  // 66 bytes
    ])
    func invalidLevels(id: String) {
        #expect(!Topics.isValidLevel(id))
    }
}
