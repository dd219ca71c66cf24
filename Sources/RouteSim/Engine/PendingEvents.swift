/// The simulator's queue of events that arise while the night runs (timers, notices in flight,
/// hourly readings): a 4-ary min-heap ordered by time, ties by a sequence number the caller
/// gives, so that a run is deterministic.
///
/// It stays small (a timer or two per pole and the notices in flight): the night's sensor edges,
/// known in advance, are not in it but in a sorted array (`NightWorld`) merged with it by the
/// same order.
struct PendingEvents<Payload> {
    struct Entry {
        var time: Double
        var sequence: UInt64
        var payload: Payload
    }

    private var heap: [Entry] = []

    init() { heap.reserveCapacity(1024) }

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }

    /// The time and sequence number of the next event.
    var first: (time: Double, sequence: UInt64)? {
        guard let e = heap.first else { return nil }
        return (e.time, e.sequence)
    }

    @inline(__always) static func precedes(_ t1: Double, _ s1: UInt64, _ t2: Double, _ s2: UInt64) -> Bool {
        t1 < t2 || (t1 == t2 && s1 < s2)
    }

    mutating func push(_ payload: Payload, at time: Double, sequence: UInt64) {
        heap.append(Entry(time: time, sequence: sequence, payload: payload))
        var child = heap.count - 1
        heap.withUnsafeMutableBufferPointer { h in
            let entry = h[child]
            while child > 0 {
                let parent = (child - 1) / 4
                guard Self.precedes(entry.time, entry.sequence, h[parent].time, h[parent].sequence) else { break }
                h[child] = h[parent]
                child = parent
            }
            h[child] = entry
        }
    }

    mutating func pop() -> Entry? {
        guard !heap.isEmpty else { return nil }
        let last = heap.removeLast()
        guard !heap.isEmpty else { return last }
        return heap.withUnsafeMutableBufferPointer { h in
            let top = h[0]
            let n = h.count
            var parent = 0
            while true {
                let first = 4 * parent + 1
                guard first < n else { break }
                var best = first
                let end = min(first + 4, n)
                var c = first + 1
                while c < end {
                    if Self.precedes(h[c].time, h[c].sequence, h[best].time, h[best].sequence) { best = c }
                    c += 1
                }
                guard Self.precedes(h[best].time, h[best].sequence, last.time, last.sequence) else { break }
                h[parent] = h[best]
                parent = best
            }
            h[parent] = last
            return top
        }
    }
}
