import LightCore

/// Drives one `PoleStateMachine` in virtual time the way the pole daemon does: delivers events,
/// fires the armed timer when time passes it, and records every action.
struct PoleHarness {
    var machine: PoleStateMachine
    private(set) var now: Instant
    private(set) var timer: Instant?
    private(set) var actions: [(at: Instant, action: PoleAction)] = []

    init(pole: String = "P4", profile: Profile?, start: Instant, activeSensors: Set<String> = []) {
        machine = PoleStateMachine(poleID: pole, profile: profile)
        now = start
        record(machine.handle(.start(activeSensors: activeSensors), at: start))
    }

    init(machine: PoleStateMachine, now: Instant, timer: Instant?) {
        self.machine = machine
        self.now = now
        self.timer = timer
    }

    /// Moves time to `instant`, firing every timer due on the way.
    mutating func advance(to instant: Instant) {
        while let t = timer, t <= instant {
            now = max(now, t)
            timer = nil
            record(machine.handle(.timer, at: now))
        }
        now = max(now, instant)
    }

    mutating func advance(by seconds: Double) { advance(to: now + seconds) }

    /// Delivers `event` at the present instant (after firing timers due).
    @discardableResult
    mutating func send(_ event: PoleEvent, at instant: Instant? = nil) -> [PoleAction] {
        if let instant { advance(to: instant) }
        let result = machine.handle(event, at: now)
        record(result)
        return result
    }

    /// A sensor pulse: active now, inactive `seconds` later.
    mutating func pulse(_ sensor: String, for seconds: Double = 2) {
        send(.presenceEdge(sensor: sensor, active: true))
        advance(by: seconds)
        send(.presenceEdge(sensor: sensor, active: false))
    }

    var level: DimLevel { machine.level }
    var state: PoleStateMachine.State { machine.state }

    var published: [DetectionNotice] {
        actions.compactMap { if case let .publishDetection(n) = $0.action { n } else { nil } }
    }

    var raised: [PoleFault] {
        actions.compactMap { if case let .raiseFault(f) = $0.action { f } else { nil } }
    }

    var cleared: [PoleFault] {
        actions.compactMap { if case let .clearFault(f) = $0.action { f } else { nil } }
    }

    private mutating func record(_ new: [PoleAction]) {
        for action in new {
            actions.append((now, action))
            if case let .armTimer(at) = action { timer = at }
        }
    }
}
