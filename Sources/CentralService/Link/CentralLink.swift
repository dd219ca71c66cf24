import CentralCore
import CentralStore
import Foundation
import LightCore
import Logging
import PoleLink
import PoleProtocol
import ServiceLifecycle
import Synchronization

/// The control plane's MQTT side: the same libmosquitto link the poles use (`PoleLink.MQTTLink`),
/// subscribed to every pole's reports. What arrives is decoded with the poles' own payload types;
/// a malformed message is counted, logged and dropped.
public final class CentralLink: Service, Sendable {
    /// Group name of the shared subscription: instances of the control plane split telemetry
    /// between them (only with `sharedSubscriptions`).
    public static let shareGroup = "lichtweg-central"

    public let link: MQTTLink
    private let storage: any CentralStorage
    private let rollouts: RolloutCoordinator
    private let clock: @Sendable () -> Instant
    private let logger: Logger
    private let events: RouteEvents?
    private let metrics: CentralMetrics?
    private let counters = Mutex(Counters())
    /// Telemetry goes to the database in batches (see `TelemetryIngest`).
    public let ingest: TelemetryIngest
    /// Each pole's route, as last seen: telemetry needs it for every report, and reading it from
    /// the database each time cost more than storing the report. Kept by `update`, which is the
    /// only writer of pole snapshots and sees every state message (they are not shared).
    private let poleRoutes = Mutex<[String: String]>([:])
    /// Telemetry on a shared subscription (instances split it) instead of a plain one.
    public let sharedSubscriptions: Bool

    public struct Counters: Sendable, Hashable {
        public var received = 0
        public var malformed = 0
        /// Telemetry reports that decoded (handed to the ingest, duplicates included).
        public var telemetry = 0
    }

    public var counts: Counters { counters.withLock { $0 } }

    public init(link: MQTTLink, storage: any CentralStorage, rollouts: RolloutCoordinator,
                clock: @escaping @Sendable () -> Instant, events: RouteEvents? = nil, metrics: CentralMetrics? = nil,
                sharedSubscriptions: Bool = false, logger: Logger) {
        self.sharedSubscriptions = sharedSubscriptions
        self.metrics = metrics
        self.link = link
        self.events = events
        self.storage = storage
        self.rollouts = rollouts
        self.clock = clock
        self.logger = logger
        self.ingest = TelemetryIngest(storage: storage, metrics: metrics, logger: logger) { batch in
            Self.sendReceipts(for: batch, over: link, logger: logger)
        }
    }

    /// One receipt per pole for a stored batch (see `TelemetryReceiptPayload`). Not retained and
    /// best effort: a lost receipt only makes the pole send the report once more.
    static func sendReceipts(for batch: [TelemetryReport], over link: MQTTLink, logger: Logger) {
        var froms: [String: [Timestamp]] = [:]
        for report in batch { froms[report.pole, default: []].append(Timestamp(report.from)) }
        for (pole, reports) in froms {
            let message = MQTTMessage(topic: Topics.telemetryReceipt(pole),
                                      payload: PayloadCodec.encode(TelemetryReceiptPayload(pole: pole, reports: reports)), qos: 1)
            do {
                try link.publish(message)
            } catch {
                logger.debug("telemetry receipt not sent", metadata: ["pole": "\(pole)", "error": "\(error)"])
            }
        }
    }

    /// The subscriptions: retained state, acknowledgements and faults for every instance;
    /// telemetry plain too, unless `shared`.
    ///
    /// Plain is the default because it loses nothing when the broker restarts: mosquitto 2.0 keeps
    /// a persistent session's plain subscriptions across a restart but not its shared ones, so
    /// until the control plane has subscribed again every report was acknowledged to the poles
    /// and dropped (found by the fault-injection suite; the poles now send a report again until it
    /// is receipted). With several instances, plain means each stores every report once more,
    /// which the storage ignores (a report is keyed by pole and start).
    ///
    /// Faults are never shared. They are few, and they are not receipted: a fault the broker had
    /// queued for a shared member that died would be lost as an alarm event, and the instance that
    /// runs a rollout must see every fault of the poles that run the new version (a new fault halts
    /// it), wherever the broker would have sent it. So every instance gets every fault and stores
    /// it; the storage makes that one alarm with one lifecycle (a raise is keyed by pole, code,
    /// sensor and the pole's instant of the raise; a clear stored before clears nothing).
    static func subscriptions(shared: Bool) -> [String] {
        let pole = "\(Topics.root)/pole/+"
        // Retained messages are not delivered to shared subscriptions (MQTT 5, 4.8.2): online and
        // state are always plain; so are acknowledgements and faults, which the instance running
        // the rollout must see.
        let split = shared ? "$share/\(shareGroup)/" : ""
        return ["\(pole)/online", "\(pole)/state", "\(pole)/profile-ack", "\(pole)/fault", "\(split)\(pole)/telemetry"]
    }

    /// What earlier versions subscribed to and this one no longer does: faults were shared with
    /// `sharedSubscriptions`. A persistent session keeps such a subscription, and every fault would
    /// then come twice (harmless, the storage keeps one, but needless); unsubscribed on connect.
    static let retiredSubscriptions = ["$share/\(shareGroup)/\(Topics.root)/pole/+/fault"]

    public func run() async throws {
        try link.start()
        await cancelWhenGracefulShutdown {
            for await event in self.link.events {
                switch event {
                case .connected:
                    for topic in Self.subscriptions(shared: self.sharedSubscriptions) { self.link.subscribe(topic, qos: 1) }
                    for topic in Self.retiredSubscriptions { self.link.unsubscribe(topic) }
                    self.logger.info("broker connected")
                case let .disconnected(reason):
                    self.logger.warning("broker connection lost", metadata: ["reason": "\(reason)"])
                case let .message(message):
                    await self.receive(message)
                }
            }
        }
        link.stop()
        await ingest.drain()
    }

    // MARK: - Messages

    /// The pole id and the last topic level of `lichtweg/v1/pole/<pole>/<what>`.
    static func poleTopic(_ topic: String) -> (pole: String, what: String)? {
        let parts = topic.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "lichtweg", parts[1] == "v1", parts[2] == "pole" else { return nil }
        return (String(parts[3]), String(parts[4]))
    }

    func receive(_ message: MQTTMessage) async {
        counters.withLock { $0.received += 1 }
        metrics?.messages.increment()
        guard let (pole, what) = Self.poleTopic(message.topic), !message.payload.isEmpty else { return }
        do {
            switch what {
            case "online":
                let p = try PayloadCodec.decode(OnlinePayload.self, from: message.payload)
                try await update(pole) { $0.online = p.online; if let f = p.firmware { $0.firmware = f } }
            case "state":
                let p = try PayloadCodec.decode(StatePayload.self, from: message.payload)
                guard p.pole == pole else { throw PayloadError.invalid("pole \(p.pole) on \(pole)'s topic") }
                try await update(pole, route: p.route) {
                    $0.online = true
                    $0.level = p.level
                    $0.state = p.state
                    $0.profileVersion = p.profileVersion
                    $0.faults = p.faults
                    $0.firmware = p.firmware
                }
            case "profile-ack":
                let p = try PayloadCodec.decode(ProfileAckPayload.self, from: message.payload)
                guard p.pole == pole else { throw PayloadError.invalid("pole \(p.pole) on \(pole)'s topic") }
                await rollouts.handle(ack: p)
            case "fault":
                let p = try PayloadCodec.decode(FaultPayload.self, from: message.payload)
                guard p.pole == pole else { throw PayloadError.invalid("pole \(p.pole) on \(pole)'s topic") }
                await rollouts.handle(fault: p)
                guard let route = try await route(of: pole) else { return }
                if p.active {
                    if let id = try await storage.raiseAlarm(AlarmRecord(pole: pole, route: route, code: p.code, sensor: p.sensor,
                                                                         detail: p.detail, raisedAt: p.at.instant)) {
                        events?.publish(route: route, kind: "alarm",
                                        AlarmEvent(id: id, pole: pole, code: p.code, sensor: p.sensor, open: true))
                    }
                } else if try await storage.clearAlarm(pole: pole, code: p.code, sensor: p.sensor, at: p.at.instant) {
                    events?.publish(route: route, kind: "alarm", AlarmEvent(id: nil, pole: pole, code: p.code, sensor: p.sensor, open: false))
                }
            case "telemetry":
                let p = try PayloadCodec.decode(TelemetryPayload.self, from: message.payload)
                guard p.pole == pole else { throw PayloadError.invalid("pole \(p.pole) on \(pole)'s topic") }
                guard p.to.instant >= p.from.instant, p.intervalEnergyWh >= 0, p.detections >= 0 else {
                    throw PayloadError.invalid("interval or counts out of range")
                }
                if let lit = p.litSeconds, let level = p.levelPercentSeconds {
                    let length = p.to.instant - p.from.instant
                    guard lit >= 0, lit <= length + 1, level >= 0, level <= 100 * (length + 1) else {
                        throw PayloadError.invalid("lit or level time out of range")
                    }
                }
                guard let route = try await route(of: pole) else { return }
                counters.withLock { $0.telemetry += 1 }
                ingest.add(TelemetryReport(pole: pole, route: route, from: p.from.instant, to: p.to.instant,
                                           energyWh: p.intervalEnergyWh, detections: p.detections,
                                           litSeconds: p.litSeconds, levelPercentSeconds: p.levelPercentSeconds))
                metrics?.lag.set(clock() - p.to.instant)
            default:
                return
            }
        } catch let error as PayloadError {
            counters.withLock { $0.malformed += 1 }
            metrics?.malformed.increment()
            logger.warning("malformed message dropped", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
        } catch {
            logger.error("could not store a pole's report", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
        }
    }

    /// The route a pole reports for: from its last state, else from the profiles' pole lists.
    private func route(of pole: String) async throws -> String? {
        if let cached = poleRoutes.withLock({ $0[pole] }) { return cached }
        let route: String?
        if let known = try await storage.poleSnapshot(pole) {
            route = known.route
        } else {
            route = try await storage.routes().first { $0.poles.contains(pole) }?.id
        }
        if let route { poleRoutes.withLock { $0[pole] = route } }
        return route
    }

    /// Changes the pole's snapshot (a new one, on `route`, if there is none yet).
    private func update(_ pole: String, route: String? = nil, _ change: (inout PoleSnapshot) -> Void) async throws {
        let known = try await storage.poleSnapshot(pole)
        guard var snapshot = known ?? route.map({ PoleSnapshot(pole: pole, route: $0, online: false, updatedAt: clock()) }) else {
            return  // an online message of a pole whose route is not known yet: its state follows
        }
        if let route { snapshot.route = route }
        change(&snapshot)
        snapshot.updatedAt = clock()
        try await storage.savePoleSnapshot(snapshot)
        poleRoutes.withLock { $0[pole] = snapshot.route }
        events?.publish(route: snapshot.route, kind: "pole", PoleView(snapshot))
    }

    struct AlarmEvent: Encodable {
        /// The alarm's id when it was raised (a clearing names the pole, code and sensor).
        var id: Int64?
        var pole: String
        var code: String
        var sensor: String?
        var open: Bool
    }
}
