import Dispatch
import Foundation
import LightCore
import Synchronization

/// Runs the real pole state machines of a whole route in virtual time against modelled road
/// users, night after night.
///
/// The simulator holds no dimming logic of its own: it turns road users into sensor edges (the
/// physical world), delivers edges, timers and neighbour notices to each pole's
/// `PoleStateMachine`, and records what the machines command. Everything is deterministic for a
/// seed: each night has its own random streams, one for traffic and sensors and one for the
/// network, and starts from poles just started at noon (`NightRun`), so a night's figures are a
/// function of the seed and its date alone and nights can be simulated at the same time.
public struct RouteSimulator {
    public let profile: Profile
    public let model: SimulationModel
    public let seed: UInt64
    /// How many nights `run(nights:onNight:)` simulates at the same time, each on its own thread.
    /// The results do not depend on it.
    public var parallelism: Int

    private var worlds: NightWorldBuilder
    /// The route's machines with the profile installed, copied for every night.
    private let machines: [PoleStateMachine]
    /// Road users are numbered through the run, in the order of the nights handed out.
    private var userNumber = 0
    private var eventCounts = EventCounts()

    /// Events processed by kind (sensor, notice, timer, hour), for the benchmark's account of
    /// where the time goes.
    public var eventsByKind: [String: Int] {
        ["sensor": eventCounts.sensor, "notice": eventCounts.notice, "timer": eventCounts.timer, "hour": eventCounts.hour]
    }
    public var eventsProcessed: Int { eventCounts.total }

    /// Called after each night with its record.
    public typealias NightHandler = (NightRecord) -> Void

    /// One thread per processor the process may use.
    public static var defaultParallelism: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    public init(profile: Profile, model: SimulationModel, seed: UInt64, parallelism: Int = RouteSimulator.defaultParallelism) {
        self.profile = profile
        self.model = model
        self.seed = seed
        self.parallelism = max(1, parallelism)
        self.worlds = NightWorldBuilder(profile: profile, model: model, seed: seed)
        self.machines = NightRun.freshMachines(for: profile)
    }

    // MARK: - Running

    /// Simulates the nights beginning on `dates`, calling `onNight` after each, in order, on the
    /// calling thread.
    ///
    /// Up to `parallelism` nights are simulated at the same time, each by a thread that makes the
    /// night's physical world (traffic, sensor edges, the no-traffic baseline), lives through it
    /// with the poles and analyses the light ahead (which the record then carries,
    /// `NightRecord.lightAhead(profile:model:)`). At most twice as many nights as threads wait to
    /// be handed to `onNight`, so a long run holds a few nights in memory, not all of them.
    public mutating func run(nights dates: [LocalDate], onNight: NightHandler) {
        guard !dates.isEmpty else { return }
        let threads = min(parallelism, dates.count)
        let (profile, model, seed, builder, machines) = (self.profile, self.model, self.seed, self.worlds, self.machines)
        let results = dates.map { _ in NightResult() }
        let dispenser = NightDispenser()
        let window = DispatchSemaphore(value: 2 * threads)
        let group = DispatchGroup()
        for thread in 0 ..< threads {
            DispatchQueue(label: "RouteSimulator.night-\(thread)").async(group: group) {
                var builder = builder
                while true {
                    window.wait()
                    guard let i = dispenser.take(below: dates.count) else {
                        window.signal()
                        return
                    }
                    let world = builder.build(date: dates[i])
                    var night = NightRun(profile: profile, model: model, seed: seed, date: world.date, machines: machines)
                    let record = night.simulate(world)
                    let analysis = LightAheadAnalysis(record: record, profile: profile, model: model)
                    results[i].fulfil(.init(record: record.with(analysis, profile: profile, model: model),
                                            generated: world.generated, counts: night.eventCounts))
                }
            }
        }
        for i in dates.indices {
            let night = results[i].wait()
            onNight(handedOut(night))
            window.signal()
        }
        group.wait()
    }

    /// Simulates the night that begins on `date` (noon to noon) and returns what happened.
    /// `users` replaces the generated traffic (for hand-made scenarios).
    public mutating func simulateNight(_ date: LocalDate, users givenUsers: [RoadUser]? = nil) -> NightRecord {
        let world = worlds.build(date: date, users: givenUsers)
        var night = NightRun(profile: profile, model: model, seed: seed, date: world.date, machines: machines)
        let record = night.simulate(world)
        return handedOut(.init(record: record, generated: world.generated, counts: night.eventCounts))
    }

    /// Lives through `world` (a night or a window of one, `LiveWindow`) with fresh poles.
    /// `networkDraw` other than 0: the same world with other draws of the network's luck.
    func simulate(_ world: NightWorld, networkDraw: UInt64 = 0) -> NightRecord {
        var night = NightRun(profile: profile, model: model, seed: seed, date: world.date, machines: machines,
                             networkDraw: networkDraw)
        return night.simulate(world)
    }

    /// A night as the caller gets it: generated road users numbered on from the nights before,
    /// and its events counted.
    private mutating func handedOut(_ night: NightResult.Night) -> NightRecord {
        eventCounts += night.counts
        guard night.generated else { return night.record }
        let record = night.record.numberingUsers(from: userNumber)
        userNumber += record.users.count
        return record
    }
}

// MARK: - Handing nights between threads

/// The next night to simulate, for the threads of a run.
private final class NightDispenser: Sendable {
    private let next = Mutex(0)

    /// The index of the next night, or nil when all `count` are taken.
    func take(below count: Int) -> Int? {
        next.withLock { next in
            guard next < count else { return nil }
            defer { next += 1 }
            return next
        }
    }
}

/// A night being simulated on another thread.
private final class NightResult: @unchecked Sendable {
    struct Night {
        var record: NightRecord
        /// Whether its road users were generated (and are numbered from 1 within the night).
        var generated: Bool
        var counts: EventCounts
    }

    private var night: Night?
    private let done = DispatchSemaphore(value: 0)

    func fulfil(_ night: Night) {
        self.night = night
        done.signal()
    }

    /// The night, once simulated (the semaphore orders the write before this read).
    func wait() -> Night {
        done.wait()
        return night!
    }
}
