/// The timer each pole has queued, at most one per pole: an indexed min-heap by (time, sequence)
/// in which a pole's timer is moved, not queued again, when the pole wants it earlier.
///
/// A timer that is moved used to stay in the queue as a superseded event until its time came
/// (thousands of them at once on a 100-pole route); the simulator now only remembers when it
/// would have come, to count it as the event it used to be (`RouteSimulator`).
struct PoleTimers {
    struct Entry {
        var time: Double
        var sequence: UInt64
        var pole: Int32
    }

    private var heap: [Entry] = []
    /// The heap position of each pole's timer, -1 without one.
    private var position: [Int32]

    init(poles: Int) {
        position = Array(repeating: -1, count: poles)
        heap.reserveCapacity(poles)
    }

    var first: Entry? { heap.first }

    /// The time of the pole's timer, if it has one.
    func time(ofPole pole: Int) -> Double? {
        let i = position[pole]
        return i < 0 ? nil : heap[Int(i)].time
    }

    /// Queues the pole's timer for `time`, which must be earlier than the one it has, if any.
    mutating func set(pole: Int, time: Double, sequence: UInt64) {
        let entry = Entry(time: time, sequence: sequence, pole: Int32(pole))
        var i = Int(position[pole])
        if i < 0 {
            heap.append(entry)
            i = heap.count - 1
        }
        siftUp(entry, from: i)
    }

    /// Removes the first timer and returns its pole.
    mutating func removeFirst() -> Int {
        let top = heap[0]
        position[Int(top.pole)] = -1
        let last = heap.removeLast()
        if !heap.isEmpty { siftDown(last, from: 0) }
        return Int(top.pole)
    }

    @inline(__always) private static func precedes(_ a: Entry, _ b: Entry) -> Bool {
        a.time < b.time || (a.time == b.time && a.sequence < b.sequence)
    }

    private mutating func siftUp(_ entry: Entry, from index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(entry, heap[parent]) else { break }
            heap[child] = heap[parent]
            position[Int(heap[child].pole)] = Int32(child)
            child = parent
        }
        heap[child] = entry
        position[Int(entry.pole)] = Int32(child)
    }

    private mutating func siftDown(_ entry: Entry, from index: Int) {
        var parent = index
        let n = heap.count
        while true {
            let left = 2 * parent + 1
            guard left < n else { break }
            var best = left
            if left + 1 < n && Self.precedes(heap[left + 1], heap[left]) { best = left + 1 }
            guard Self.precedes(heap[best], entry) else { break }
            heap[parent] = heap[best]
            position[Int(heap[parent].pole)] = Int32(parent)
            parent = best
        }
        heap[parent] = entry
        position[Int(entry.pole)] = Int32(parent)
    }
}
