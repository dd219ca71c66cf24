import Foundation
import LightCore
import PoleDaemon
import PoleIO
import Synchronization
import Testing

/// What the lamp hardware was told, in order.
enum LampEvent: Hashable, CustomStringConvertible {
    case relay(Bool)
    case dim(Double)

    var description: String {
        switch self {
        case let .relay(on): "relay(\(on ? "on" : "off"))"
        case let .dim(p): "dim(\(p))"
        }
    }
}

/// A recording stand-in for the relay and the dimming output (one log, so their order shows).
final class RecordingLamp: DimmingOutput, SwitchOutput {
    private let log = Mutex<[LampEvent]>([])
    private let writers = Mutex<[String]>([])
    /// Levels strictly between 0 and 100 whose write fails (for the error path).
    private let failIntermediate: Bool

    init(failIntermediate: Bool = false) { self.failIntermediate = failIntermediate }

    struct Failure: Error {}

    var events: [LampEvent] { log.withLock { $0 } }
    var dims: [Double] { events.compactMap { if case let .dim(p) = $0 { p } else { nil } } }
    var lastDim: Double? { dims.last }
    /// The kernel's name of the thread each dimming write came from.
    var writerThreads: [String] { writers.withLock { $0 } }

    func write(_ level: DimLevel) throws {
        if failIntermediate && level.percent > 0 && level.percent < 100 { throw Failure() }
        log.withLock { $0.append(.dim(level.percent)) }
        let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
        writers.withLock { $0.append(name.trimmingCharacters(in: .newlines)) }
    }

    func set(_ on: Bool) throws {
        log.withLock { $0.append(.relay(on)) }
    }
}

/// Errors handed to `onError`.
final class ErrorLog: Sendable {
    private let errors = Mutex<[String]>([])
    var all: [String] { errors.withLock { $0 } }
    func append(_ error: any Error) { errors.withLock { $0.append("\(error)") } }
}

/// A clock that moves only when told.
final class ManualClock: Sendable {
    private let instant = Mutex(Instant(secondsSinceEpoch: 1_795_453_445))
    var now: Instant { instant.withLock { $0 } }
    func advance(_ seconds: Double) { instant.withLock { $0 = $0 + seconds } }
}

/// The events with runs of equal consecutive events collapsed (the stepper repeats a level while
/// the manual clock stands still).
func collapsed(_ events: [LampEvent]) -> [LampEvent] {
    events.reduce(into: []) { result, e in if result.last != e { result.append(e) } }
}

@Suite("LampDriver")
struct LampDriverTests {
    let lamp = RecordingLamp()
    let clock = ManualClock()
    let errors = ErrorLog()

    func driver(lamp: RecordingLamp? = nil, relay: Bool = true, stepHz: Double = 100,
                realTime: Bool = false) throws -> LampDriver {
        let lamp = lamp ?? self.lamp
        let clock = self.clock
        let errors = self.errors
        let now: @Sendable () -> Instant
        if realTime { now = { Clocks.now() } } else { now = { clock.now } }
        let switchOutput: (any SwitchOutput)? = relay ? lamp : nil
        return try LampDriver(dimming: lamp, relay: switchOutput, stepHz: stepHz, clock: now,
                          onError: { error in errors.append(error) })
    }

    @Test("the relay goes on before the first non-zero write")
    func relayFirst() throws {
        let d = try driver()
        try d.set(60, rampSeconds: 0)
        #expect(lamp.events == [.relay(true), .dim(60)])
        #expect(d.relayOn)
        #expect(d.target == 60)
    }

    @Test("the relay goes on before a ramp starts, and the ramp starts from the present output")
    func relayBeforeRamp() throws {
        let d = try driver()
        try d.set(100, rampSeconds: 10)
        #expect(collapsed(lamp.events) == [.relay(true), .dim(0)])
        try d.settle(at: .off)  // stops the ramp
    }

    @Test("rampSeconds 0 writes the target at once, in the caller's call")
    func immediate() throws {
        let d = try driver()
        try d.set(70, rampSeconds: 0)
        #expect(lamp.lastDim == 70)
        try d.set(20, rampSeconds: 0)
        #expect(lamp.lastDim == 20)
        try d.set(100, rampSeconds: 0)
        #expect(lamp.events == [.relay(true), .dim(70), .dim(20), .dim(100)], "the relay is switched once")
        #expect(d.target == 100)
    }

    @Test("a ramp from 0 to 100 over 0.2 s at 100 Hz is monotonic and ends at exactly 100")
    func realRamp() async throws {
        let d = try driver(realTime: true)
        try d.set(100, rampSeconds: 0.2)
        #expect(try await eventually { lamp.lastDim == 100 }, "the ramp did not reach 100: \(lamp.dims)")
        let dims = lamp.dims
        #expect(dims.first == 0)
        #expect(dims.last == 100)
        #expect(zip(dims, dims.dropFirst()).allSatisfy { $0 <= $1 }, "not monotonic: \(dims)")
        #expect(dims.allSatisfy { (0...100).contains($0) })
        #expect(lamp.events.first == .relay(true))
        #expect(lamp.events.filter { if case .relay = $0 { true } else { false } } == [.relay(true)])
        // The stepper stops at the target: nothing more is written.
        let count = lamp.events.count
        try await Task.sleep(for: .milliseconds(60))
        #expect(lamp.events.count == count, "writes after the ramp ended: \(lamp.events.dropFirst(count))")
        #expect(errors.all.isEmpty)
    }

    @Test("the first write is the caller's, every step after it comes from the driver's own thread")
    func ownThread() async throws {
        let d = try driver()
        try d.set(100, rampSeconds: 1)
        clock.advance(1)
        #expect(try await eventually { lamp.lastDim == 100 })
        let threads = lamp.writerThreads
        #expect(threads.first != "lamp-ramp")
        #expect(threads.count >= 2)
        #expect(threads.dropFirst().allSatisfy { $0 == "lamp-ramp" }, "\(threads)")
    }

    @Test("the ramp follows the clock: halfway is 50")
    func rampFollowsClock() async throws {
        let d = try driver()
        try d.set(100, rampSeconds: 1)
        clock.advance(0.5)
        #expect(try await eventually { lamp.lastDim == 50 }, "\(lamp.dims)")
        clock.advance(0.5)
        #expect(try await eventually { lamp.lastDim == 100 }, "\(lamp.dims)")
        #expect(collapsed(lamp.events) == [.relay(true), .dim(0), .dim(50), .dim(100)])
    }

    @Test("going to 0: the relay goes off only once the output has reached 0")
    func offAfterZero() async throws {
        let d = try driver()
        try d.set(100, rampSeconds: 0)
        try d.set(0, rampSeconds: 1)
        #expect(d.relayOn, "the relay stays on while the lamp is still lit")
        #expect(d.target == .off)
        clock.advance(0.5)
        #expect(try await eventually { lamp.lastDim == 50 }, "\(lamp.dims)")
        #expect(d.relayOn)
        #expect(!lamp.events.contains(.relay(false)))
        clock.advance(0.5)
        #expect(try await eventually { lamp.events.last == .relay(false) }, "\(collapsed(lamp.events))")
        #expect(collapsed(lamp.events) == [.relay(true), .dim(100), .dim(50), .dim(0), .relay(false)])
        #expect(!d.relayOn)
    }

    @Test("straight to 0: the output is written before the relay opens")
    func offAtOnce() throws {
        let d = try driver()
        try d.set(80, rampSeconds: 0)
        try d.set(0, rampSeconds: 0)
        #expect(lamp.events == [.relay(true), .dim(80), .dim(0), .relay(false)])
        #expect(!d.relayOn)
    }

    @Test("a fresh driver told 0 writes 0 and opens the relay")
    func freshOff() throws {
        let d = try driver()
        try d.set(0, rampSeconds: 5)
        #expect(lamp.events == [.dim(0), .relay(false)])
        #expect(!d.relayOn)
    }

    @Test("a new change starts from the present output, not from the old target")
    func interrupted() async throws {
        let d = try driver()
        try d.set(100, rampSeconds: 1)
        clock.advance(0.5)
        #expect(try await eventually { lamp.lastDim == 50 })
        let before = lamp.events.count
        try d.set(20, rampSeconds: 1)
        #expect(lamp.events[before] == .dim(50), "the new ramp's first write is the present output")
        clock.advance(0.5)
        #expect(try await eventually { lamp.lastDim == 35 }, "\(lamp.dims)")
        clock.advance(0.5)
        #expect(try await eventually { lamp.lastDim == 20 }, "\(lamp.dims)")
        #expect(collapsed(lamp.events) == [.relay(true), .dim(0), .dim(50), .dim(35), .dim(20)])
    }

    @Test("a ramp cut off by an immediate change writes nothing more")
    func cancelled() async throws {
        let d = try driver()
        try d.set(100, rampSeconds: 1)
        try d.set(0, rampSeconds: 0)
        #expect(collapsed(lamp.events) == [.relay(true), .dim(0), .relay(false)])
        let count = lamp.events.count
        clock.advance(0.5)
        try await Task.sleep(for: .milliseconds(60))
        #expect(lamp.events.count == count, "the old ramp is still writing: \(lamp.events.dropFirst(count))")
    }

    @Test("without a relay only the dimming output is driven")
    func noRelay() throws {
        let d = try driver(relay: false)
        try d.set(40, rampSeconds: 0)
        try d.set(0, rampSeconds: 0)
        #expect(lamp.events == [.dim(40), .dim(0)])
        #expect(!d.relayOn)
    }

    @Test("a failed step is reported and the ramp goes on to its target")
    func stepFailure() async throws {
        let failing = RecordingLamp(failIntermediate: true)
        let d = try driver(lamp: failing)
        try d.set(100, rampSeconds: 1)
        clock.advance(0.5)
        #expect(try await eventually { !errors.all.isEmpty })
        clock.advance(0.5)
        #expect(try await eventually { failing.lastDim == 100 })
        #expect(collapsed(failing.events) == [.relay(true), .dim(0), .dim(100)])
    }

    @Test("a failed immediate write is thrown to the caller")
    func immediateFailure() throws {
        let failing = RecordingLamp(failIntermediate: true)
        let d = try driver(lamp: failing)
        #expect(throws: RecordingLamp.Failure.self) { try d.set(50, rampSeconds: 0) }
    }
}
