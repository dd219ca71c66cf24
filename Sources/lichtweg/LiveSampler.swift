import Foundation
import Synchronization

/// Samples the lamp levels of live poles on a thread of its own, every `interval` seconds, until
/// stopped: per pole a list of (wall time, percent).
final class LiveSampler: @unchecked Sendable {
    private let poles: [LivePole]
    private let interval: Double
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    /// Written by the sampling thread only, read after it finished.
    private var samples: [[(time: Double, level: Double)]]

    init(poles: [LivePole], interval: Double) {
        self.poles = poles
        self.interval = interval
        samples = Array(repeating: [], count: poles.count)
    }

    func start() {
        Thread.detachNewThread { [self] in
            var next = WallClock.now()
            while !stopping.load(ordering: .relaxed) {
                for (i, pole) in poles.enumerated() {
                    if let level = pole.level() { samples[i].append((WallClock.now(), level)) }
                }
                next += interval
                WallClock.sleep(until: next)
            }
            finished.signal()
        }
    }

    /// Stops sampling and returns the samples.
    func stop() -> [[(time: Double, level: Double)]] {
        stopping.store(true, ordering: .relaxed)
        finished.wait()
        return samples
    }
}
