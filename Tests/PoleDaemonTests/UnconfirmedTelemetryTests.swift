import PoleDaemon
import PoleLink
import PropertyBased
import Testing

@Suite("Unconfirmed telemetry")
struct UnconfirmedTelemetryTests {
    static func report(_ n: Int) -> MQTTMessage {
        MQTTMessage(topic: "lichtweg/v1/pole/P1/telemetry", payload: Array("report \(n)".utf8), qos: 1)
    }

    static func text(_ messages: [MQTTMessage]) -> [String] { messages.map { String(decoding: $0.payload, as: UTF8.self) } }

    @Test("nothing is sent again before the control plane has sent any receipt")
    func noReceiptsNoResends() {
        var list = UnconfirmedTelemetry(capacity: 10, resendAfter: 10)
        list.sent(Self.report(1), from: 1000, at: 0)
        #expect(list.due(at: 1000).isEmpty)
        #expect(list.count == 1)
        list.confirm([])  // a receipt naming none of ours: the control plane sends receipts
        #expect(Self.text(list.due(at: 1000)) == ["report 1"])
    }

    @Test("a receipt forgets the reports it names, to the millisecond; the rest go again, later each time")
    func confirmAndBackOff() {
        var list = UnconfirmedTelemetry(capacity: 10, resendAfter: 10, maxResendInterval: 35)
        list.sent(Self.report(1), from: 1000.001, at: 0)
        list.sent(Self.report(2), from: 1060.002, at: 1)
        list.sent(Self.report(3), from: 1120.0034, at: 2)
        #expect(list.confirm([1060.0024]) == 1)  // as the receipt's timestamp has it: milliseconds
        #expect(list.count == 2)
        #expect(list.due(at: 9.9).isEmpty)
        #expect(Self.text(list.due(at: 10)) == ["report 1"])
        #expect(Self.text(list.due(at: 12)) == ["report 3"])
        // Then after 20 s (report 1 at 30, report 3 from 32 on), then 35 s (the cap) each.
        #expect(list.due(at: 29.9).isEmpty)
        #expect(Self.text(list.due(at: 30)) == ["report 1"])
        #expect(list.due(at: 31.9).isEmpty)
        #expect(Self.text(list.due(at: 64.9)) == ["report 3"])
        #expect(Self.text(list.due(at: 65)) == ["report 1"])
        #expect(list.due(at: 99.8).isEmpty)
        #expect(Self.text(list.due(at: 100)) == ["report 1", "report 3"])
        #expect(list.resent == 7)
        #expect(list.confirm([1000.001, 1120.003]) == 2)
        #expect(list.count == 0)
        #expect(list.due(at: 10_000).isEmpty)
    }

    @Test("full: the oldest unconfirmed report makes room, and that is counted")
    func bounded() {
        var list = UnconfirmedTelemetry(capacity: 2, resendAfter: 10)
        for n in 1...5 { list.sent(Self.report(n), from: Double(n) * 60, at: 0) }
        #expect(list.count == 2)
        #expect(list.dropped == 3)
        list.confirm([])
        #expect(Self.text(list.due(at: 10)) == ["report 4", "report 5"])
    }

    @Test("at most `limit` a call, oldest first; the others stay due")
    func limited() {
        var list = UnconfirmedTelemetry(capacity: 10, resendAfter: 1)
        for n in 1...5 { list.sent(Self.report(n), from: Double(n), at: 0) }
        list.confirm([])
        #expect(Self.text(list.due(at: 1, limit: 2)) == ["report 1", "report 2"])
        #expect(Self.text(list.due(at: 1, limit: 2)) == ["report 3", "report 4"])
        #expect(Self.text(list.due(at: 1, limit: 2)) == ["report 5"])
    }

    @Test("whatever the order of sends, receipts and resends: a report is sent again until a receipt names it, never after")
    func untilConfirmed() async {
        // Each integer is one step: send the next report, a receipt for some sent reports, or time passing.
        await propertyCheck(count: 300, input: Gen.int(in: 0...Int(Int32.max)).array(of: 1...80)) { script in
            var list = UnconfirmedTelemetry(capacity: 1_000, resendAfter: 10, maxResendInterval: 40)
            var now = 0.0
            var next = 0
            var confirmed: Set<Int> = []
            var lastSend: [Int: Double] = [:]
            for x in script {
                switch x % 3 {
                case 0:
                    list.sent(Self.report(next), from: Double(next) * 60, at: now)
                    lastSend[next] = now
                    next += 1
                case 1 where next > 0:
                    let names = (0..<next).filter { ($0 * 7 + x) % 5 == 0 }
                    list.confirm(names.map { Double($0) * 60 })
                    confirmed.formUnion(names)
                default:
                    now += Double((x / 3) % 30)
                }
                for text in Self.text(list.due(at: now)) {
                    let n = Int(text.split(separator: " ")[1])!
                    #expect(!confirmed.contains(n), "report \(n) sent again after its receipt")
                    #expect(now - lastSend[n, default: -1] >= 10, "report \(n) sent again too soon")
                    lastSend[n] = now
                }
            }
            // Long after: every report without a receipt is still waiting and goes out once more.
            if list.receiptsSeen {
                let left = Set(Self.text(list.due(at: now + 41)).map { Int($0.split(separator: " ")[1])! })
                #expect(left == Set(0..<next).subtracting(confirmed))
            }
        }
    }
}
