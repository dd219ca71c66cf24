/// A priority queue of timed events: a binary min-heap ordered by time, ties broken by insertion
/// order so that a run is deterministic.
///
/// The heap holds small fixed-size entries (time, sequence, slot); payloads live in a slot array
/// and are never moved while the heap is reordered — the simulator's payloads are larger than
/// the entries, and moving them dominated the run time.
public struct EventQueue<Payload> {
    private struct Entry {
        var time: Double
        var sequence: UInt64
        var slot: Int32
    }

    private var heap: [Entry] = []
    private var payloads: [Payload?] = []
    private var freeSlots: [Int32] = []
    private var nextSequence: UInt64 = 0

    public init() {
        heap.reserveCapacity(4096)
        payloads.reserveCapacity(4096)
    }

    public var isEmpty: Bool { heap.isEmpty }
    public var count: Int { heap.count }

    /// The time of the next event.
    public var nextTime: Double? { heap.first?.time }

    public mutating func push(_ payload: Payload, at time: Double) {
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            payloads[Int(slot)] = payload
        } else {
            slot = Int32(payloads.count)
            payloads.append(payload)
        }
        heap.append(Entry(time: time, sequence: nextSequence, slot: slot))
        nextSequence &+= 1
        siftUp(heap.count - 1)
    }

    public mutating func pop() -> (time: Double, payload: Payload)? {
        guard !heap.isEmpty else { return nil }
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        let payload = payloads[Int(top.slot)].take()!
        freeSlots.append(top.slot)
        return (top.time, payload)
    }

    @inline(__always) private static func less(_ a: Entry, _ b: Entry) -> Bool {
        a.time < b.time || (a.time == b.time && a.sequence < b.sequence)
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        let entry = heap[child]
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.less(entry, heap[parent]) else { break }
            heap[child] = heap[parent]
            child = parent
        }
        heap[child] = entry
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        let n = heap.count
        let entry = heap[parent]
        while true {
            let left = 2 * parent + 1
            guard left < n else { break }
            var best = left
            if left + 1 < n && Self.less(heap[left + 1], heap[left]) { best = left + 1 }
            guard Self.less(heap[best], entry) else { break }
            heap[parent] = heap[best]
            parent = best
        }
        heap[parent] = entry
    }
}
