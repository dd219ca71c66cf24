import Dispatch
import FoundationEssentials
import LightCore
import PoleIO
import PoleSystem
#if canImport(Glibc)
import Glibc
#endif

/// Drives the lamp: the relay that switches the driver's supply and the dimming signal, with
/// ramps done in software at `stepHz`.
///
/// The first step of a change is written at once, in the caller's call (an edge reaches the PWM
/// without waiting for anything); the rest of a ramp is stepped by one thread the driver owns.
/// A thread rather than a task: a ramp must not wait for whatever else the process's shared
/// executor is busy with (CI found ramps held back for seconds while the test process ran
/// simulations on every core). The relay goes on before any light is asked for and off only once
/// the output has reached 0.
public final class LampDriver: Sendable {
    private let stepper: RampStepper

    public init(dimming: any DimmingOutput, relay: (any SwitchOutput)?, stepHz: Double,
                clock: @escaping @Sendable () -> Instant, onError: @escaping @Sendable (any Error) -> Void) throws {
        stepper = RampStepper(dimming: dimming, relay: relay, stepSeconds: 1 / stepHz, clock: clock,
                              onError: onError)
        try stepper.start()
    }

    deinit { stepper.stop() }

    /// The level being driven towards.
    public var target: DimLevel { stepper.target }
    public var relayOn: Bool { stepper.relayOn }

    /// Starts a change to `target` over `rampSeconds` from the present output.
    public func set(_ target: DimLevel, rampSeconds: Double) throws {
        try stepper.set(target, rampSeconds: rampSeconds)
    }

    /// Drives the output to `level` at once (shutdown: leave the lamp where the schedule wants it).
    public func settle(at level: DimLevel) throws {
        try set(level, rampSeconds: 0)
    }
}

/// The ramp's state and the thread that steps it. Every mutable field is guarded by `condition`,
/// which is also what the idle thread waits on.
private final class RampStepper: @unchecked Sendable {
    private let dimming: any DimmingOutput
    private let relay: (any SwitchOutput)?
    private let stepSeconds: Double
    private let clock: @Sendable () -> Instant
    private let onError: @Sendable (any Error) -> Void

    private let condition = Condition()
    private let finished = DispatchSemaphore(value: 0)
    private var ramp = LevelRamp.steady(.off, since: .distantPast)
    private var relayState: Bool?
    private var stepping = false
    private var stopped = false

    init(dimming: any DimmingOutput, relay: (any SwitchOutput)?, stepSeconds: Double,
         clock: @escaping @Sendable () -> Instant, onError: @escaping @Sendable (any Error) -> Void) {
        self.dimming = dimming
        self.relay = relay
        self.stepSeconds = stepSeconds
        self.clock = clock
        self.onError = onError
    }

    var target: DimLevel { locked { ramp.to } }
    var relayOn: Bool { locked { relayState ?? false } }

    func set(_ target: DimLevel, rampSeconds: Double) throws {
        try locked {
            let now = clock()
            ramp = LevelRamp(from: ramp.level(at: now), to: target, start: now, duration: max(0, rampSeconds))
            if !target.isOff { try switchRelay(true) }
            let level = ramp.level(at: now)
            stepping = false  // until the first write succeeded: a throw leaves no ramp behind
            try dimming.write(level)
            if level.isOff && target.isOff { try switchRelay(false) }
            stepping = level != target
            if stepping { condition.signal() }
        }
    }

    // MARK: - The thread

    func start() throws {
        // Named for `top -H` and the tests.
        try OwnedThread.start(name: "lamp-ramp") { [self] in
            defer { finished.signal() }
            run()
        }
    }

    /// Ends the thread and waits for it (at most one step).
    func stop() {
        locked {
            stopped = true
            condition.signal()
        }
        finished.wait()
    }

    private func run() {
        while true {
            condition.lock()
            while !stepping && !stopped { condition.wait() }
            let stop = stopped
            condition.unlock()
            if stop { return }
            // A relative sleep: a wall-clock jump (the pole's clock being set at boot) must not
            // stretch or skip a step.
            sleep(seconds: stepSeconds)
            var failure: (any Error)?
            locked {
                guard stepping && !stopped else { return }
                let level = ramp.level(at: clock())
                do {
                    try dimming.write(level)
                    if level.isOff && ramp.to.isOff { try switchRelay(false) }
                } catch {
                    failure = error
                }
                if level == ramp.to { stepping = false }
            }
            if let failure { onError(failure) }
        }
    }

    // MARK: - Helpers

    private func switchRelay(_ on: Bool) throws {
        guard let relay, relayState != on else { return }
        try relay.set(on)
        relayState = on
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }

    private func sleep(seconds: Double) {
        let whole = seconds.rounded(.down)
        var request = timespec(tv_sec: Int(whole), tv_nsec: Int((seconds - whole) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
