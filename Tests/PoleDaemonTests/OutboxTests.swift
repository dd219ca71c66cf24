import PoleDaemon
import Testing

@Suite("Outbox")
struct OutboxTests {
    @Test("keeps messages in order up to its capacity")
    func inOrder() {
        var outbox = Outbox<Int>(capacity: 3)
        #expect(outbox.isEmpty)
        outbox.append(1)
        outbox.append(2)
        #expect(outbox.messages == [1, 2])
        #expect(outbox.count == 2)
        #expect(!outbox.isEmpty)
        #expect(outbox.dropped == 0)
    }

    @Test("when full, the oldest go first, and each drop is counted")
    func bounded() {
        var outbox = Outbox<Int>(capacity: 3)
        for i in 1...7 { outbox.append(i) }
        #expect(outbox.messages == [5, 6, 7])
        #expect(outbox.count == 3)
        #expect(outbox.dropped == 4)
        #expect(outbox.capacity == 3)
    }

    @Test("capacity 1 keeps only the newest")
    func capacityOne() {
        var outbox = Outbox<String>(capacity: 1)
        outbox.append("a")
        outbox.append("b")
        #expect(outbox.messages == ["b"])
        #expect(outbox.dropped == 1)
    }

    @Test("drain hands out in order and stops at the first failure, keeping the unsent in order")
    func drainStopsAtFailure() {
        var outbox = Outbox<Int>(capacity: 10)
        for i in 1...5 { outbox.append(i) }
        var offered: [Int] = []
        outbox.drain { message in
            offered.append(message)
            return message < 3
        }
        #expect(offered == [1, 2, 3], "nothing after the failed message is offered")
        #expect(outbox.messages == [3, 4, 5])

        offered = []
        outbox.drain { offered.append($0); return true }
        #expect(offered == [3, 4, 5])
        #expect(outbox.isEmpty)
    }

    @Test("a drain whose first send fails removes nothing")
    func drainFirstFails() {
        var outbox = Outbox<Int>(capacity: 10)
        for i in 1...3 { outbox.append(i) }
        var calls = 0
        outbox.drain { _ in calls += 1; return false }
        #expect(calls == 1)
        #expect(outbox.messages == [1, 2, 3])
    }

    @Test("draining does not reset the drop count, and new messages queue behind the unsent")
    func dropsSurviveDrain() {
        var outbox = Outbox<Int>(capacity: 2)
        for i in 1...4 { outbox.append(i) }
        outbox.drain { $0 == 3 }
        #expect(outbox.messages == [4])
        outbox.append(5)
        outbox.append(6)
        #expect(outbox.messages == [5, 6])
        #expect(outbox.dropped == 3)
    }
}
