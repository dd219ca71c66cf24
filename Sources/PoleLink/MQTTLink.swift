import CMosquitto
import Dispatch
import FoundationEssentials
import Logging
import PoleSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A client connection to the MQTT broker over libmosquitto.
///
/// One thread owns the libmosquitto loop: it connects, reconnects with `Backoff`, runs
/// `mosquitto_loop`, and turns libmosquitto's callbacks into `events`. The callbacks find this
/// object through libmosquitto's user pointer; there is no global registry. `publish` may be
/// called from any thread (libmosquitto is put in threaded mode).
public final class MQTTLink: @unchecked Sendable {
    public let events: AsyncStream<MQTTEvent>
    public let options: MQTTOptions

    // The handle is created in init and destroyed in deinit; between, libmosquitto's own locks
    // (threaded mode) make publish/subscribe safe beside the loop thread.
    private let handle: OpaquePointer
    private let continuation: AsyncStream<MQTTEvent>.Continuation
    private let logger: Logger

    private struct Shared {
        var subscriptions: [String: Int32] = [:]
        var connected = false
        var stopping = false
        /// The loop thread was started: `stop()` waits for it only then.
        var started = false
        var protocolVersion: MQTTOptions.ProtocolVersion
        var refusedProtocol = false
        /// QoS 1 messages handed to libmosquitto and not yet acknowledged by the broker.
        var unacknowledged = 0
    }

    private let shared: Mutex<Shared>
    private let wake = Condition()
    private let finished = DispatchSemaphore(value: 0)

    private static let libraryInit: Void = { mosquitto_lib_init() }()
    /// Events buffered for a consumer that is behind, before the loop thread pauses.
    static let eventBuffer = 4096

    public init(options: MQTTOptions, logger: Logger) throws {
        _ = Self.libraryInit
        self.options = options
        self.logger = logger
        guard options.port > 0 && options.port < 65_536 else { throw MQTTError.invalidOptions("port \(options.port) out of range") }
        // clean_session false: the broker keeps our subscriptions and undelivered QoS 1 messages.
        guard let handle = mosquitto_new(options.clientID, false, nil) else {
            throw MQTTError.operationFailed("mosquitto_new", Int32(MOSQ_ERR_NOMEM.rawValue))
        }
        self.handle = handle
        shared = Mutex(Shared(protocolVersion: options.protocolVersion))
        // Oldest-first: a full buffer refuses the newest event, which `deliver` then holds back
        // until there is room. (Newest-first would silently drop messages the broker was already
        // told we have: libmosquitto acknowledges a QoS 1 message before its callback runs.)
        (events, continuation) = AsyncStream.makeStream(of: MQTTEvent.self, bufferingPolicy: .bufferingOldest(Self.eventBuffer))
        mosquitto_user_data_set(handle, Unmanaged.passUnretained(self).toOpaque())
        do {
            try configure()
        } catch {
            mosquitto_destroy(handle)
            throw error
        }
    }

    deinit {
        mosquitto_destroy(handle)
    }

    private func configure() throws {
        try check("mosquitto_threaded_set", mosquitto_threaded_set(handle, true))
        try setProtocol(options.protocolVersion)
        // A detection notice is a small write that must leave at once: with Nagle's algorithm it
        // waits behind any unacknowledged segment, a round trip or a retransmission on a lossy link.
        try check("mosquitto_int_option(tcp_nodelay)", mosquitto_int_option(handle, MOSQ_OPT_TCP_NODELAY, 1))
        if let caFile = options.caFile {
            try check("mosquitto_tls_set", mosquitto_tls_set(handle, caFile, nil, options.certFile, options.keyFile, nil))
        } else if options.certFile != nil || options.keyFile != nil {
            throw MQTTError.invalidOptions("a client certificate needs TLS: give the CA file too")
        }
        if let username = options.username {
            try check("mosquitto_username_pw_set", mosquitto_username_pw_set(handle, username, options.password))
        }
        if let will = options.will {
            try check("mosquitto_will_set", will.payload.withUnsafeBytes {
                mosquitto_will_set_v5(handle, will.topic, Int32($0.count), $0.baseAddress, will.qos, will.retain, nil)
            })
        }
        mosquitto_connect_v5_callback_set(handle) { _, context, rc, flags, _ in
            guard let context else { return }
            Unmanaged<MQTTLink>.fromOpaque(context).takeUnretainedValue().didConnect(rc: rc, flags: flags)
        }
        mosquitto_disconnect_v5_callback_set(handle) { _, context, rc, _ in
            guard let context else { return }
            Unmanaged<MQTTLink>.fromOpaque(context).takeUnretainedValue().didDisconnect(rc: rc)
        }
        mosquitto_publish_v5_callback_set(handle) { _, context, _, _, _ in
            guard let context else { return }
            Unmanaged<MQTTLink>.fromOpaque(context).takeUnretainedValue().shared.withLock { $0.unacknowledged = max(0, $0.unacknowledged - 1) }
        }
        mosquitto_message_v5_callback_set(handle) { _, context, message, _ in
            guard let context, let message else { return }
            Unmanaged<MQTTLink>.fromOpaque(context).takeUnretainedValue().didReceive(message.pointee)
        }
    }

    private func setProtocol(_ version: MQTTOptions.ProtocolVersion) throws {
        try check("mosquitto_int_option(protocol)",
                  mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, Int32(version.rawValue)))
    }

    // MARK: - API

    public var isConnected: Bool { shared.withLock { $0.connected } }
    /// QoS 1 messages published and not yet acknowledged by the broker.
    public var unacknowledgedCount: Int { shared.withLock { $0.unacknowledged } }

    /// Starts the loop thread: connect, and keep connecting until `stop()`.
    public func start() throws {
        try OwnedThread.start(name: "mqtt-link") { [self] in self.run() }
        shared.withLock { $0.started = true }
    }

    /// Publishes a message. Throws if the link is down for QoS 0, or libmosquitto refuses it.
    /// A QoS 1 message while the link is down is kept by libmosquitto and sent after the
    /// reconnect (the session is persistent), so that is not an error.
    public func publish(_ message: MQTTMessage) throws {
        if message.qos > 0 { shared.withLock { $0.unacknowledged += 1 } }
        do {
            let rc = message.payload.withUnsafeBytes {
                mosquitto_publish_v5(handle, nil, message.topic, Int32($0.count), $0.baseAddress, message.qos, message.retain, nil)
            }
            if message.qos > 0 && rc == MOSQ_ERR_NO_CONN.rawValue {
                logger.debug("mqtt publish queued until the broker is back", metadata: ["topic": "\(message.topic)"])
                return
            }
            try check("mosquitto_publish(\(message.topic))", rc)
        } catch {
            if message.qos > 0 { shared.withLock { $0.unacknowledged -= 1 } }
            throw error
        }
    }

    /// Subscribes now if connected, and again after every reconnect.
    public func subscribe(_ topic: String, qos: Int32 = 1) {
        let connected = shared.withLock { s in
            s.subscriptions[topic] = qos
            return s.connected
        }
        if connected { sendSubscribe(topic, qos: qos) }
    }

    public func unsubscribe(_ topic: String) {
        let connected = shared.withLock { s in
            s.subscriptions[topic] = nil
            return s.connected
        }
        if connected { _ = mosquitto_unsubscribe_v5(handle, nil, topic, nil) }
    }

    /// Disconnects cleanly (the broker does not send the last will) and stops the thread.
    public func stop() {
        let running = shared.withLock { s in
            defer { s.stopping = true }
            return !s.stopping && s.started
        }
        guard running else { return }
        // The loop thread sees `stopping` within one loop round (≤ 1 s) and disconnects itself:
        // a DISCONNECT queued from this thread was not always written before the socket closed,
        // and the broker then sent the last will although the pole had said goodbye.
        wake.lock()
        wake.broadcast()
        wake.unlock()
        finished.wait()
    }

    // MARK: - Loop thread

    private func run() {
        defer {
            continuation.finish()
            finished.signal()
        }
        var backoff = Backoff(initial: options.initialBackoffSeconds, maximum: options.maximumBackoffSeconds)
        var linkUp = false
        while !shared.withLock({ $0.stopping }) {
            if !linkUp {
                let rc = connect()
                if rc == MOSQ_ERR_SUCCESS.rawValue {
                    linkUp = true
                } else {
                    logger.warning("mqtt connect failed", metadata: ["broker": "\(options.host):\(options.port)",
                                                                     "error": "\(String(cString: mosquitto_strerror(rc)))"])
                    sleep(seconds: backoff.next())
                    continue
                }
            }
            let rc = mosquitto_loop(handle, 1000, 1)
            if shared.withLock({ $0.refusedProtocol }) {
                // The broker refused MQTT 5: try again at once with 3.1.1.
                shared.withLock { $0.refusedProtocol = false }
                linkUp = false
                continue
            }
            if rc != MOSQ_ERR_SUCCESS.rawValue {
                linkUp = false
                markDisconnected(reason: String(cString: mosquitto_strerror(rc)))
                if shared.withLock({ $0.stopping }) { break }
                sleep(seconds: backoff.next())
            } else if isConnected {
                backoff.reset()
            }
        }
        // Send what was queued (the pole's last state and its own "offline"), then DISCONNECT, so
        // that the broker does not send the last will.
        // The acknowledgements are read first: closing a socket with unread data makes the kernel
        // reset the connection, and the broker then loses the DISCONNECT.
        if linkUp && isConnected {
            var rounds = 0
            while rounds < 40 && shared.withLock({ $0.unacknowledged > 0 })
                    && mosquitto_loop(handle, 50, 1) == MOSQ_ERR_SUCCESS.rawValue {
                rounds += 1
            }
            _ = mosquitto_disconnect(handle)
            rounds = 0
            while rounds < 40 && mosquitto_loop(handle, 50, 1) == MOSQ_ERR_SUCCESS.rawValue { rounds += 1 }
        }
        markDisconnected(reason: "stopped")
    }

    private func connect() -> Int32 {
        var properties: OpaquePointer? = nil
        defer { mosquitto_property_free_all(&properties) }
        let version = shared.withLock { $0.protocolVersion }
        if version == .v5 {
            _ = mosquitto_property_add_int32(&properties, Int32(MQTT_PROP_SESSION_EXPIRY_INTERVAL.rawValue),
                                             options.sessionExpirySeconds)
        }
        return mosquitto_connect_bind_v5(handle, options.host, Int32(options.port), Int32(options.keepAliveSeconds), nil,
                                         properties)
    }

    private func sleep(seconds: Double) {
        wake.lock()
        defer { wake.unlock() }
        let deadline = Condition.Deadline.after(seconds: seconds)
        while !shared.withLock({ $0.stopping }) && wake.wait(until: deadline) {}
    }

    private func markDisconnected(reason: String) {
        let was = shared.withLock { s in
            defer { s.connected = false }
            return s.connected
        }
        if was { deliver(.disconnected(reason: reason)) }
    }

    private func sendSubscribe(_ topic: String, qos: Int32) {
        let rc = mosquitto_subscribe_v5(handle, nil, topic, qos, 0, nil)
        if rc != MOSQ_ERR_SUCCESS.rawValue {
            logger.warning("mqtt subscribe failed", metadata: ["topic": "\(topic)", "error": "\(String(cString: mosquitto_strerror(rc)))"])
        }
    }

    // MARK: - Callbacks (on the loop thread)

    private func didConnect(rc: Int32, flags: Int32) {
        if rc != 0 {
            let version = shared.withLock { $0.protocolVersion }
            if version == .v5 && (rc == Int32(MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION.rawValue) || rc == Int32(CONNACK_REFUSED_PROTOCOL_VERSION.rawValue)) {
                logger.notice("broker refused MQTT 5, falling back to 3.1.1")
                try? setProtocol(.v311)
                shared.withLock {
                    $0.protocolVersion = .v311
                    $0.refusedProtocol = true
                }
            } else {
                logger.warning("mqtt connection refused", metadata: ["reason": "\(String(cString: mosquitto_reason_string(rc)))"])
            }
            return
        }
        let (subscriptions, version) = shared.withLock { s in
            s.connected = true
            return (s.subscriptions, s.protocolVersion)
        }
        for (topic, qos) in subscriptions.sorted(by: { $0.key < $1.key }) { sendSubscribe(topic, qos: qos) }
        deliver(.connected(sessionPresent: flags & 1 == 1, protocolVersion: version.rawValue))
    }

    private func didDisconnect(rc: Int32) {
        guard !shared.withLock({ $0.stopping }) else {
            // Our own goodbye on `stop()`: not a lost connection, and no one should act on it.
            shared.withLock { $0.connected = false }
            logger.debug("mqtt disconnected on stop")
            return
        }
        markDisconnected(reason: rc == 0 ? "disconnected" : String(cString: mosquitto_reason_string(rc)))
    }

    private func didReceive(_ message: mosquitto_message) {
        let topic = message.topic.map { String(cString: $0) } ?? ""
        var payload: [UInt8] = []
        if let bytes = message.payload, message.payloadlen > 0 {
            payload = Array(UnsafeRawBufferPointer(start: bytes, count: Int(message.payloadlen)))
        }
        deliver(.message(MQTTMessage(topic: topic, payload: payload, qos: message.qos, retain: message.retain)))
    }

    /// Hands an event to the consumer. When its buffer is full the loop thread waits, in 1 ms
    /// steps, until there is room: meanwhile nothing is read from the socket, so the broker holds
    /// further messages (TCP and its own queue) instead of this process dropping them. Only a
    /// stop or a consumer that went away ends the wait.
    private func deliver(_ event: MQTTEvent) {
        var paused = false
        while true {
            switch continuation.yield(event) {
            case .enqueued, .terminated:
                if paused { logger.notice("mqtt consumer caught up; reading from the broker again") }
                return
            case .dropped:
                if !paused {
                    paused = true
                    logger.notice("mqtt consumer is behind (\(Self.eventBuffer) events waiting); pausing reads from the broker")
                }
                if shared.withLock({ $0.stopping }) {
                    logger.warning("mqtt event not delivered: stopping while the consumer is behind")
                    return
                }
                usleep(1_000)
            @unknown default:
                return
            }
        }
    }
}
