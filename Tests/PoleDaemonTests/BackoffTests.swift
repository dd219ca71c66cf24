import PoleLink
import Testing

@Suite("Backoff")
struct BackoffTests {
    @Test("the upper bound doubles up to the maximum")
    func doubling() {
        var b = Backoff(initial: 1, maximum: 60)
        let upper = (0..<9).map { _ in b.next(random: 1) }
        #expect(upper == [1, 2, 4, 8, 16, 32, 60, 60, 60])
        var c = Backoff(initial: 1, maximum: 60)
        let lower = (0..<9).map { _ in c.next(random: 0) }
        #expect(lower == [0.5, 1, 2, 4, 8, 16, 30, 30, 30])
    }

    @Test("every delay is within [d/2, d]")
    func jitterBounds() {
        var b = Backoff(initial: 0.5, maximum: 20)
        var d = 0.5
        for _ in 0..<50 {
            let delay = b.next()
            #expect(delay >= d / 2 && delay <= d, "\(delay) outside [\(d / 2), \(d)]")
            d = min(20, d * 2)
        }
        #expect(b.attempt == 50)
    }

    @Test("the random part moves linearly between the bounds and is clamped")
    func jitterLinear() {
        var b = Backoff(initial: 8, maximum: 60)
        #expect(b.next(random: 0.5) == 6)
        #expect(b.next(random: 5) == 16)
        #expect(b.next(random: -1) == 16)
    }

    @Test("reset starts over")
    func reset() {
        var b = Backoff(initial: 2, maximum: 60)
        for _ in 0..<5 { _ = b.next(random: 1) }
        #expect(b.attempt == 5)
        b.reset()
        #expect(b.attempt == 0)
        #expect(b.next(random: 1) == 2)
        #expect(b.next(random: 1) == 4)
    }

    @Test("many attempts stay at the maximum (no overflow)")
    func manyAttempts() {
        var b = Backoff()
        for _ in 0..<200 { _ = b.next(random: 1) }
        #expect(b.next(random: 1) == 60)
        #expect(b.next(random: 0) == 30)
    }
}
