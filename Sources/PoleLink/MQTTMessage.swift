/// A message as published or received.
public struct MQTTMessage: Hashable, Sendable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: Int32
    public var retain: Bool

    public init(topic: String, payload: [UInt8], qos: Int32 = 1, retain: Bool = false) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}

/// What the link reports.
public enum MQTTEvent: Sendable {
    /// Connected (again); `sessionPresent`: the broker kept our session and queued messages.
    case connected(sessionPresent: Bool, protocolVersion: Int)
    case disconnected(reason: String)
    case message(MQTTMessage)
}

/// How to reach the broker.
public struct MQTTOptions: Sendable {
    public enum ProtocolVersion: Int, Sendable {
        case v311 = 4, v5 = 5
    }

    public var host: String
    public var port: Int
    public var clientID: String
    public var keepAliveSeconds: Int = 30
    /// MQTT 5 first; a broker that refuses it gets 3.1.1.
    public var protocolVersion: ProtocolVersion = .v5
    /// Persistent session: the broker keeps subscriptions and QoS 1 messages this long while we
    /// are away (MQTT 5 session expiry; 3.1.1 keeps them until a clean connect).
    public var sessionExpirySeconds: UInt32 = 7 * 86_400
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    public var username: String?
    public var password: String?
    public var will: MQTTMessage?
    public var initialBackoffSeconds: Double = 1
    public var maximumBackoffSeconds: Double = 60

    public var usesTLS: Bool { caFile != nil }

    public init(host: String, port: Int, clientID: String) {
        self.host = host
        self.port = port
        self.clientID = clientID
    }
}
