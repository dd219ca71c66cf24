/// Messages that must reach the control plane (faults, profile acknowledgements) while the
/// broker may be unreachable: bounded, oldest dropped first, and the drops counted and reported.
public struct Outbox<Message: Sendable>: Sendable {
    public let capacity: Int
    public private(set) var messages: [Message] = []
    /// Messages dropped since start because the outbox was full.
    public private(set) var dropped = 0

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    public var isEmpty: Bool { messages.isEmpty }
    public var count: Int { messages.count }

    public mutating func append(_ message: Message) {
        if messages.count == capacity {
            messages.removeFirst()
            dropped += 1
        }
        messages.append(message)
    }

    /// Hands out messages in order until `send` fails; the unsent stay, in order.
    public mutating func drain(_ send: (Message) -> Bool) {
        var sent = 0
        for message in messages {
            guard send(message) else { break }
            sent += 1
        }
        messages.removeFirst(sent)
    }
}
