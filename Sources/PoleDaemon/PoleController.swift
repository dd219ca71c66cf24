import Crypto
import FoundationEssentials
import LightCore
import Logging
import PoleIO
import PoleLink
import PoleProtocol

/// The pole: `LightCore`'s state machine, unchanged, driven by the pole's inputs, its clock and
/// the network, with its actions carried out on the lamp and the link.
///
/// Everything that decides runs in the state machine; this actor only translates. It keeps the
/// pole working without the network: the schedule and the presence logic need nothing but the
/// inputs and the clock, and what must reach the control plane waits in a bounded outbox.
public actor PoleController {
    /// Where the controller gets time from (the real clocks, or a test's).
    public struct Clock: Sendable {
        public var now: @Sendable () -> Instant
        public var monotonic: @Sendable () -> Double

        public init(now: @escaping @Sendable () -> Instant, monotonic: @escaping @Sendable () -> Double) {
            self.now = now
            self.monotonic = monotonic
        }

        public static let system = Clock(now: Clocks.now, monotonic: Clocks.monotonic)
    }

    public let config: PoleConfig
    private let acceptance: ProfileAcceptance
    private let inputs: any InputSource
    private let lamp: LampDriver
    private let link: MQTTLink?
    private let clock: Clock
    private let logger: Logger
    private let topics: Topics

    private var machine: PoleStateMachine
    /// The signed profile in force (nil: the built-in failsafe program or none).
    private var signedProfile: SignedProfile?
    private var outbox: Outbox<MQTTMessage>
    private var timer: Task<Void, Never>?
    private var lampCheck: Task<Void, Never>?
    private let startedAt: Double
    private var lastClockCheck: (wall: Instant, monotonic: Double)
    private var telemetryFrom: Instant
    private var energyAtTelemetry = 0.0
    private var meterAtTelemetry = EnergyMeter()
    private var detectionsAtTelemetry = 0
    private var edgesAtTelemetry = SensorEdgeCounts()
    /// Reports sent and not yet confirmed stored by the control plane (sent again until they are).
    private var unconfirmed: UnconfirmedTelemetry
    /// Faults the daemon itself raises (the state machine raises its own), by code and subject.
    private var daemonFaults: [String: (code: String, detail: String?)] = [:]
    /// Whether the wall clock was last found plausible (told to the machine only when it changes).
    private var clockValid: Bool?
    private var neighbourTopics: Set<String> = []
    private var lampFeedback: Bool?
    /// When the lamp output was last written (for the edge-to-output latency in the debug log).
    private var lastOutputWrite = Instant.distantPast
    private var started = false

    private var profilePath: String { "\(config.dataDirectory)/profile.json" }
    private var overridePath: String { "\(config.dataDirectory)/override.json" }

    public init(config: PoleConfig, publicKey: Curve25519.Signing.PublicKey, inputs: any InputSource,
                lamp: LampDriver, link: MQTTLink?, clock: Clock = .system, logger: Logger) {
        self.config = config
        self.acceptance = ProfileAcceptance(publicKey: publicKey, route: config.route, pole: config.pole)
        self.inputs = inputs
        self.lamp = lamp
        self.link = link
        self.clock = clock
        self.logger = logger
        self.topics = Topics(route: config.route)
        self.machine = PoleStateMachine(poleID: config.pole, profile: nil)
        self.outbox = Outbox(capacity: config.outboxCapacity)
        self.startedAt = clock.monotonic()
        let now = clock.now()
        self.lastClockCheck = (now, startedAt)
        self.telemetryFrom = now
        self.unconfirmed = UnconfirmedTelemetry(capacity: 512, resendAfter: max(10, 2 * config.telemetrySeconds))
    }

    // MARK: - Start and stop

    /// Boots into the level that should be now: the stored profile (or the built-in failsafe
    /// program), the stored override, the clock's trust and the sensors' present values.
    public func start() {
        let now = clock.now()
        AtomicFile.removeLeftovers(in: config.dataDirectory)
        let stored = loadStoredProfile()
        signedProfile = stored?.signed
        var profile = stored?.profile
        if profile == nil, let location = config.location {
            do {
                profile = try FailsafeProfile.make(pole: config.pole, route: config.route, location: location)
            } catch {
                logger.critical("built-in failsafe program does not load: failsafe level day and night", metadata: ["error": "\(error)"])
            }
        }
        machine = PoleStateMachine(poleID: config.pole, profile: profile)
        if stored == nil && profile != nil {
            // Without any program the state machine reports `no-profile` itself.
            raise("no-profile", detail: "built-in failsafe program (full light sunset to sunrise)")
        }
        checkClock(at: now)
        if let bytes = AtomicFile.read(overridePath), let payload = try? PayloadCodec.decode(OverridePayload.self, from: bytes),
           let override = try? payload.override() {
            deliver(.override(override), at: now)
        }
        var active: Set<String> = []
        do {
            for (role, value) in try inputs.currentValues() {
                switch role {
                case let .sensor(id): if value { active.insert(id) }
                case .lampFeedback: lampFeedback = value
                }
            }
        } catch {
            logger.error("cannot read the input lines", metadata: ["error": "\(error)"])
        }
        started = true
        deliver(.start(activeSensors: active), at: now)
        if clockValid == false { logger.error("clock is before the firmware's release: failsafe level until it is set", metadata: ["clock": "\(now)"]) }
        updateNeighbourSubscriptions()
        link?.subscribe(topics.profile, qos: 1)
        link?.subscribe(Topics.poleProfile(config.pole), qos: 1)
        link?.subscribe(Topics.override(config.pole), qos: 1)
        link?.subscribe(Topics.telemetryReceipt(config.pole), qos: 1)
        logger.info("pole started", metadata: ["pole": "\(config.pole)", "state": "\(machine.state)",
                                               "level": "\(machine.level)", "profile": "\(signedProfile.map { "v\($0.version)" } ?? "none")"])
    }

    /// Leaves the lamp at the level the schedule wants, says so, and says goodbye.
    public func stop() {
        timer?.cancel()
        lampCheck?.cancel()
        do {
            try lamp.settle(at: machine.level)
        } catch {
            logger.error("cannot set the lamp on shutdown", metadata: ["error": "\(error)"])
        }
        publishState()
        announce(online: false)
        logger.info("pole stopped", metadata: ["level": "\(machine.level)", "state": "\(machine.state)"])
    }

    // MARK: - Inputs

    public func handle(_ edge: InputEdge) {
        if let failure = edge.failure {
            logger.error("input line failed", metadata: ["line": "\(edge.role)", "error": "\(failure)"])
            switch edge.role {
            case let .sensor(id): deliver(.sensorFailure(sensor: id, reason: failure), at: edge.at)
            case .lampFeedback: lampFeedback = nil
            }
            return
        }
        switch edge.role {
        case let .sensor(id):
            // Timed from the edge's timestamp (the kernel's, on real GPIO).
            deliverTimed(.presenceEdge(sensor: id, active: edge.active), at: edge.at, since: edge.at,
                         "edge to output", ["sensor": "\(id)"])
        case .lampFeedback:
            lampFeedback = edge.active
            checkLamp()
        }
    }

    // MARK: - Network

    public func handle(_ event: MQTTEvent) {
        switch event {
        case let .connected(sessionPresent, version):
            logger.info("broker connected", metadata: ["sessionPresent": "\(sessionPresent)", "mqtt": "\(version == 5 ? "5" : "3.1.1")"])
            announce(online: true)
            publishState()
            flushOutbox()
        case let .disconnected(reason):
            logger.warning("broker connection lost: the pole goes on by itself", metadata: ["reason": "\(reason)"])
        case let .message(message):
            receive(message)
        }
    }

    private func receive(_ message: MQTTMessage) {
        if message.topic == topics.profile || message.topic == Topics.poleProfile(config.pole) {
            receiveProfile(message.payload)
        } else if message.topic == Topics.override(config.pole) {
            receiveOverride(message.payload)
        } else if message.topic == Topics.telemetryReceipt(config.pole) {
            receiveReceipt(message.payload)
        } else if neighbourTopics.contains(message.topic) {
            do {
                let payload = try PayloadCodec.decode(DetectionPayload.self, from: message.payload)
                guard let notice = payload.notice, message.topic == topics.detection(from: notice.pole) else {
                    throw PayloadError.invalid("pole or speed does not fit the topic")
                }
                // Timed from the neighbour's detection (its clock: the same NTP time).
                deliverTimed(.neighbourDetection(notice), at: clock.now(), since: notice.at,
                             "notice to output", ["from": "\(notice.pole)"])
            } catch {
                logger.debug("dropped a detection notice", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
            }
        } else {
            logger.debug("dropped a message on an unexpected topic", metadata: ["topic": "\(message.topic)"])
        }
    }

    private func receiveProfile(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }  // the retained profile was cleared: keep ours
        let signed: SignedProfile
        do {
            signed = try PayloadCodec.decode(SignedProfile.self, from: bytes)
        } catch {
            logger.warning("profile message dropped", metadata: ["error": "\(error)"])
            reject(.malformed("\(error)"), route: nil, version: nil)
            return
        }
        // The retained profile comes again after every reconnect: nothing to say about it.
        if let current = signedProfile, current.version == signed.version, current.signature == signed.signature { return }
        switch acceptance.check(signed, versionInForce: signedProfile?.version) {
        case let .failure(rejection):
            reject(rejection, route: signed.route, version: signed.version)
        case let .success(profile):
            do {
                try AtomicFile.write(PayloadCodec.encode(signed), to: profilePath)
            } catch {
                reject(.storageFailed("\(error)"), route: signed.route, version: signed.version)
                return
            }
            signedProfile = signed
            clear("no-profile")
            deliver(.profileChanged(profile), at: clock.now())
            clear("profile-rejected")
            updateNeighbourSubscriptions()
            logger.notice("profile applied", metadata: ["version": "\(profile.version)"])
            enqueue(MQTTMessage(topic: Topics.profileAck(config.pole), payload: PayloadCodec.encode(ProfileAckPayload(
                pole: config.pole, route: signed.route, version: signed.version, result: "applied", reason: nil, detail: nil,
                versionInForce: signed.version, at: Timestamp(clock.now())))))
        }
    }

    private func reject(_ rejection: ProfileRejection, route: String?, version: Int?) {
        logger.warning("profile rejected", metadata: ["reason": "\(rejection.code)", "detail": "\(rejection)"])
        // An older version is no fault of this pole's: a canary that got a newer one on its own
        // topic sees the route's older retained one after every reconnect. It is answered, not raised.
        if case .notNewer = rejection {} else { raise("profile-rejected", detail: "\(rejection.code): \(rejection)") }
        enqueue(MQTTMessage(topic: Topics.profileAck(config.pole), payload: PayloadCodec.encode(ProfileAckPayload(
            pole: config.pole, route: route, version: version, result: "rejected", reason: rejection.code,
            detail: rejection.description, versionInForce: signedProfile?.version, at: Timestamp(clock.now())))))
    }

    private func receiveOverride(_ bytes: [UInt8]) {
        let override: ManualOverride?
        if bytes.isEmpty {
            override = nil
        } else {
            do {
                override = try PayloadCodec.decode(OverridePayload.self, from: bytes).override()
            } catch {
                logger.warning("override message dropped", metadata: ["error": "\(error)"])
                return
            }
        }
        do {
            if let override {
                try AtomicFile.write(PayloadCodec.encode(OverridePayload(level: override.level.percent,
                                                                         until: override.until.map(Timestamp.init),
                                                                         reason: override.reason)), to: overridePath)
            } else {
                try AtomicFile.remove(overridePath)
            }
        } catch {
            // Applied anyway: the operator wants it now; only a restart would forget it.
            logger.error("cannot store the override", metadata: ["error": "\(error)"])
        }
        deliver(.override(override), at: clock.now())
    }

    private func receiveReceipt(_ bytes: [UInt8]) {
        do {
            let receipt = try PayloadCodec.decode(TelemetryReceiptPayload.self, from: bytes)
            guard receipt.pole == config.pole else { throw PayloadError.invalid("receipt for pole \(receipt.pole)") }
            unconfirmed.confirm(receipt.reports.map { $0.instant.secondsSinceEpoch })
        } catch {
            logger.debug("dropped a telemetry receipt", metadata: ["error": "\(error)"])
        }
    }

    private func updateNeighbourSubscriptions() {
        var wanted: Set<String> = []
        if signedProfile != nil, let profile = machine.profile,
           let index = profile.route.poles.firstIndex(where: { $0.id == config.pole }) {
            for i in profile.noticeNeighbours(ofPoleAt: index) where i != index {
                wanted.insert(topics.detection(from: profile.route.poles[i].id))
            }
        }
        for topic in neighbourTopics.subtracting(wanted) { link?.unsubscribe(topic) }
        for topic in wanted.subtracting(neighbourTopics) { link?.subscribe(topic, qos: 0) }
        neighbourTopics = wanted
    }

    // MARK: - Time

    /// Every few seconds: the clock's trust and jumps, and telemetry when due. Cheap, and the
    /// only periodic wake-up besides the state machine's own timers.
    public func tick() {
        let now = clock.now()
        let mono = clock.monotonic()
        let jump = (now - lastClockCheck.wall) - (mono - lastClockCheck.monotonic)
        lastClockCheck = (now, mono)
        if abs(jump) > 2 {
            logger.notice("wall clock stepped", metadata: ["seconds": "\(jump)"])
            deliver(.clockJump(seconds: jump), at: now)
            telemetryFrom = telemetryFrom + jump
        }
        checkClock(at: now)
        if now - telemetryFrom >= config.telemetrySeconds { sendTelemetry(at: now) }
        resendUnconfirmedTelemetry()
    }

    /// Reports the control plane has not confirmed after a while go out again: the one that
    /// received them may have died before storing them (another instance, or it after its
    /// restart, takes them; duplicates are ignored).
    private func resendUnconfirmedTelemetry() {
        guard link?.isConnected == true else { return }
        let due = unconfirmed.due(at: clock.monotonic())
        guard !due.isEmpty else { return }
        logger.info("telemetry sent again: no receipt from the control plane",
                    metadata: ["reports": "\(due.count)", "unconfirmed": "\(unconfirmed.count)", "resentTotal": "\(unconfirmed.resent)"])
        for message in due { publish(message) }
    }

    /// A wall clock before the firmware's release cannot be right: the machine is told when
    /// that changes.
    private func checkClock(at now: Instant) {
        let valid = now >= Firmware.releaseDate
        guard valid != clockValid else { return }
        clockValid = valid
        deliver(.clockTrusted(valid), at: now)
    }

    private func sendTelemetry(at now: Instant) {
        guard link?.isConnected == true else { return }  // the counts wait for the next interval
        let meter = machine.meterReading(at: now)
        let energy = meter.wattHours
        let payload = TelemetryPayload(pole: config.pole, from: Timestamp(telemetryFrom), to: Timestamp(now), energyWh: energy,
                                       intervalEnergyWh: energy - energyAtTelemetry,
                                       detections: machine.detections - detectionsAtTelemetry,
                                       edges: machine.edgeCounts.since(edgesAtTelemetry), level: machine.level.percent,
                                       litSeconds: meter.litSeconds - meterAtTelemetry.litSeconds,
                                       levelPercentSeconds: meter.levelPercentSeconds - meterAtTelemetry.levelPercentSeconds)
        let message = MQTTMessage(topic: Topics.telemetry(config.pole), payload: PayloadCodec.encode(payload), qos: 1)
        publish(message)
        unconfirmed.sent(message, from: telemetryFrom.secondsSinceEpoch, at: clock.monotonic())
        telemetryFrom = now
        energyAtTelemetry = energy
        meterAtTelemetry = meter
        detectionsAtTelemetry = machine.detections
        edgesAtTelemetry = machine.edgeCounts
    }

    private func timerFired() {
        timer = nil
        deliver(.timer, at: clock.now())
    }

    // MARK: - The state machine and its actions

    /// Delivers `event` and, if it changed the lamp, logs how long it took from `since` to the
    /// output written (the figure `scripts/bench pole` collects).
    private func deliverTimed(_ event: PoleEvent, at now: Instant, since: Instant, _ message: Logger.Message,
                              _ metadata: Logger.Metadata) {
        let before = lamp.target
        deliver(event, at: now)
        guard lamp.target != before else { return }
        var metadata = metadata
        metadata["latencyMicros"] = "\(Int(((lastOutputWrite - since) * 1e6).rounded()))"
        logger.debug(message, metadata: metadata)
    }

    private func deliver(_ event: PoleEvent, at now: Instant) {
        let actions = machine.handle(event, at: now)
        // Light first, talk after: the lamp is set before any message is encoded and sent.
        for action in actions {
            if case .setLevel = action { perform(action, at: now) }
        }
        for action in actions {
            if case .setLevel = action { continue }
            perform(action, at: now)
        }
    }

    private func perform(_ action: PoleAction, at now: Instant) {
        switch action {
        case let .setLevel(level, ramp):
            do {
                try lamp.set(level, rampSeconds: ramp)
                lastOutputWrite = clock.now()
                clear("output-failure")
            } catch {
                logger.error("cannot drive the lamp", metadata: ["error": "\(error)"])
                raise("output-failure", detail: "\(error)")
            }
            scheduleLampCheck()
        case let .publishDetection(notice):
            // Best effort, QoS 0: a notice that is late is worth nothing.
            guard link?.isConnected == true else { return }
            publish(MQTTMessage(topic: topics.detection(from: config.pole), payload: PayloadCodec.encode(DetectionPayload(notice)), qos: 0))
        case .reportState:
            publishState()
        case let .raiseFault(fault):
            enqueueFault(code: fault.code, sensor: fault.sensor, active: true, detail: nil, at: now)
        case let .clearFault(fault):
            enqueueFault(code: fault.code, sensor: fault.sensor, active: false, detail: nil, at: now)
        case let .armTimer(at):
            timer?.cancel()
            let delay = max(0, at - clock.now())
            timer = Task { [weak self] in
                try? await Task.sleep(for: .seconds(delay))
                guard !Task.isCancelled else { return }
                await self?.timerFired()
            }
        }
    }

    // MARK: - Lamp failure

    /// The lamp should be lit: if the driver's feedback says no current a few seconds after the
    /// relay went on, the lamp (or its driver) has failed.
    private func scheduleLampCheck() {
        guard config.gpio.lampFeedback != nil else { return }
        lampCheck?.cancel()
        lampCheck = Task { [weak self] in
            try? await Task.sleep(for: .seconds(3))
            guard !Task.isCancelled else { return }
            await self?.checkLamp()
        }
    }

    private func checkLamp() {
        guard config.gpio.lampFeedback != nil, let feedback = lampFeedback else { return }
        if feedback {
            clear("lamp-failure")
        } else if lamp.relayOn && !lamp.target.isOff {
            raise("lamp-failure", detail: "no lamp current at \(lamp.target)")
        }
    }

    // MARK: - Reporting

    private func raise(_ code: String, sensor: String? = nil, detail: String?) {
        let key = code + (sensor.map { ":" + $0 } ?? "")
        let isNew = daemonFaults[key] == nil
        guard isNew || daemonFaults[key]?.detail != detail else { return }
        daemonFaults[key] = (code, detail)
        // Raised once; a new detail of a fault in force shows in the state only.
        if isNew { enqueueFault(code: code, sensor: sensor, active: true, detail: detail, at: clock.now()) }
        if started { publishState() }
    }

    private func clear(_ code: String, sensor: String? = nil) {
        let key = code + (sensor.map { ":" + $0 } ?? "")
        guard daemonFaults.removeValue(forKey: key) != nil else { return }
        enqueueFault(code: code, sensor: sensor, active: false, detail: nil, at: clock.now())
        if started { publishState() }
    }

    private func enqueueFault(code: String, sensor: String?, active: Bool, detail: String?, at now: Instant) {
        let payload = FaultPayload(pole: config.pole, code: code, sensor: sensor, active: active, detail: detail, at: Timestamp(now))
        enqueue(MQTTMessage(topic: Topics.fault(config.pole), payload: PayloadCodec.encode(payload)))
    }

    /// What must arrive: into the outbox, sent at once if the broker is there.
    private func enqueue(_ message: MQTTMessage) {
        outbox.append(message)
        flushOutbox()
    }

    private func flushOutbox() {
        guard let link, link.isConnected else { return }
        outbox.drain { message in
            do {
                try link.publish(message)
                return true
            } catch {
                return false
            }
        }
    }

    private func publishState() {
        let status = machine.status()
        var state = status.state.name
        var reason: String?
        var program = status.program
        if case let .failsafe(r) = status.state { reason = r.rawValue }
        if signedProfile == nil && machine.profile != nil {
            // The built-in program is in control: that is a failsafe, whatever the machine calls it.
            state = "failsafe"
            reason = "noProfile"
            program = "built-in failsafe"
        }
        let faults = Set(status.faults.map(\.code) + daemonFaults.values.map { $0.code }).sorted()
        let payload = StatePayload(pole: config.pole, route: config.route, state: state, failsafeReason: reason,
                                   level: status.level.percent, program: program,
                                   profileVersion: signedProfile?.version, faults: faults,
                                   uptimeSeconds: (clock.monotonic() - startedAt).rounded(), firmware: Firmware.version,
                                   at: Timestamp(clock.now()), droppedMessages: outbox.dropped)
        publish(MQTTMessage(topic: Topics.state(config.pole), payload: PayloadCodec.encode(payload), qos: 1, retain: true))
    }

    /// The retained online message (the broker's last will says `false` when the pole is gone).
    private func announce(online: Bool) {
        let payload = OnlinePayload(pole: config.pole, online: online, firmware: Firmware.version, at: Timestamp(clock.now()))
        publish(MQTTMessage(topic: Topics.online(config.pole), payload: PayloadCodec.encode(payload), qos: 1, retain: true))
    }

    private func publish(_ message: MQTTMessage) {
        guard let link, link.isConnected else { return }
        do {
            try link.publish(message)
        } catch {
            logger.debug("publish failed", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
        }
    }

    // MARK: - Storage

    private func loadStoredProfile() -> (signed: SignedProfile, profile: Profile)? {
        guard let bytes = AtomicFile.read(profilePath) else { return nil }
        do {
            let signed = try PayloadCodec.decode(SignedProfile.self, from: bytes)
            switch acceptance.check(signed, versionInForce: nil) {
            case let .success(profile): return (signed, profile)
            case let .failure(rejection):
                logger.error("stored profile not usable", metadata: ["reason": "\(rejection)"])
                raise("profile-rejected", detail: "stored profile: \(rejection)")
                return nil
            }
        } catch {
            logger.error("stored profile not readable", metadata: ["error": "\(error)"])
            return nil
        }
    }

    // MARK: - For tests and the watchdog

    public var level: DimLevel { machine.level }
    public var state: PoleStateMachine.State { machine.state }
    public var profileVersion: Int? { signedProfile?.version }

    /// Whether the service has told systemd it is ready (the watchdog pings only after that).
    public private(set) var isReady = false
    public func markReady() { isReady = true }
}
