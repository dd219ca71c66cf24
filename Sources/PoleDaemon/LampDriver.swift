import Foundation
import LightCore
import PoleIO
import Synchronization

/// Drives the lamp: the relay that switches the driver's supply and the dimming signal, with
/// ramps done in software at `stepHz`.
///
/// The first step of a change is written at once, in the caller's call (an edge reaches the PWM
/// without waiting for a task); the rest of a ramp is stepped by one task. The relay goes on
/// before any light is asked for and off only once the output has reached 0.
public final class LampDriver: Sendable {
    private struct State {
        var ramp = LevelRamp.steady(.off, since: .distantPast)
        var generation = 0
        var relayOn: Bool?
        var stepper: Task<Void, Never>?
    }

    private let dimming: any DimmingOutput
    private let relay: (any SwitchOutput)?
    private let stepSeconds: Double
    private let clock: @Sendable () -> Instant
    private let onError: @Sendable (any Error) -> Void
    private let state = Mutex(State())

    public init(dimming: any DimmingOutput, relay: (any SwitchOutput)?, stepHz: Double,
                clock: @escaping @Sendable () -> Instant, onError: @escaping @Sendable (any Error) -> Void) {
        self.dimming = dimming
        self.relay = relay
        self.stepSeconds = 1 / stepHz
        self.clock = clock
        self.onError = onError
    }

    /// The level being driven towards.
    public var target: DimLevel { state.withLock { $0.ramp.to } }
    public var relayOn: Bool { state.withLock { $0.relayOn ?? false } }

    /// Starts a change to `target` over `rampSeconds` from the present output.
    public func set(_ target: DimLevel, rampSeconds: Double) throws {
        let now = clock()
        let (generation, needsStepping) = try state.withLock { s -> (Int, Bool) in
            s.stepper?.cancel()
            s.stepper = nil
            s.generation += 1
            let current = s.ramp.level(at: now)
            s.ramp = LevelRamp(from: current, to: target, start: now, duration: max(0, rampSeconds))
            if !target.isOff { try switchRelay(true, &s) }
            let level = s.ramp.level(at: now)
            try dimming.write(level)
            if level.isOff && target.isOff { try switchRelay(false, &s) }
            return (s.generation, level != target)
        }
        guard needsStepping else { return }
        let task = Task { [self] in await self.step(generation: generation) }
        state.withLock { s in
            if s.generation == generation { s.stepper = task } else { task.cancel() }
        }
    }

    /// Drives the output to `level` at once (shutdown: leave the lamp where the schedule wants it).
    public func settle(at level: DimLevel) throws {
        try set(level, rampSeconds: 0)
    }

    private func switchRelay(_ on: Bool, _ s: inout State) throws {
        guard let relay, s.relayOn != on else { return }
        try relay.set(on)
        s.relayOn = on
    }

    private func step(generation: Int) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(stepSeconds))
            let now = clock()
            let done: Bool = state.withLock { s in
                guard s.generation == generation else { return true }
                let level = s.ramp.level(at: now)
                do {
                    try dimming.write(level)
                    if level.isOff && s.ramp.to.isOff { try switchRelay(false, &s) }
                } catch {
                    onError(error)
                }
                return level == s.ramp.to
            }
            if done { return }
        }
    }
}
