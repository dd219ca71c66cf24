import CentralCore
import CentralStore
import Logging
import Synchronization

/// Stores telemetry reports in batches: the link hands reports over without waiting for the
/// database, and one writer stores whatever has arrived meanwhile in one transaction. Under load
/// a batch holds what came in during the previous write, so the rate follows the broker instead
/// of the database's commit latency; when idle there is no timer and no wake-up.
///
/// A failed write keeps the batch and is retried with a growing pause (the database restarts,
/// the disk is full for a while): reports are lost only beyond `limit` waiting reports, the oldest
/// first, and that is logged and counted.
public final class TelemetryIngest: Sendable {
    /// Most reports in one transaction: bounds a transaction's length when a backlog is stored.
    public static let batchLimit = 2_000

    private let storage: any CentralStorage
    private let metrics: CentralMetrics?
    private let logger: Logger
    private let limit: Int
    private let stored: (@Sendable ([TelemetryReport]) -> Void)?
    private let state = Mutex(State())

    private struct State {
        var pending: [TelemetryReport] = []
        var writing = false
        var dropped = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    /// - Parameters:
    ///   - limit: most reports kept waiting while the database is away.
    ///   - stored: called with each batch once it is committed (new reports and duplicates of
    ///     stored ones alike): the receipts to the poles.
    public init(storage: any CentralStorage, metrics: CentralMetrics?, logger: Logger, limit: Int = 200_000,
                stored: (@Sendable ([TelemetryReport]) -> Void)? = nil) {
        self.storage = storage
        self.metrics = metrics
        self.logger = logger
        self.limit = limit
        self.stored = stored
    }

    /// Reports dropped because more than `limit` were waiting.
    public var dropped: Int { state.withLock { $0.dropped } }

    /// Queues a report; starts a writer unless one runs.
    public func add(_ report: TelemetryReport) {
        let start = state.withLock { s -> Bool in
            s.pending.append(report)
            if s.pending.count > limit {
                s.pending.removeFirst(s.pending.count - limit)
                s.dropped += 1
                metrics?.telemetryDropped.increment()
            }
            guard !s.writing else { return false }
            s.writing = true
            return true
        }
        if start { Task { await self.write() } }
    }

    /// Returns when everything queued before the call has been stored (or the writer gave up on
    /// it): at shutdown, and in tests.
    public func drain() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { s -> Bool in
                guard s.writing || !s.pending.isEmpty else { return true }
                s.waiters.append(c)
                return false
            }
            if idle { c.resume() }
        }
    }

    private func write() async {
        var pause = 0.2
        var failures = 0
        while true {
            let batch = state.withLock { s -> [TelemetryReport] in
                let n = min(s.pending.count, Self.batchLimit)
                let batch = Array(s.pending.prefix(n))
                s.pending.removeFirst(n)
                return batch
            }
            if batch.isEmpty {
                let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>]? in
                    // Checked again under the lock: a report added since the batch was taken is ours.
                    guard s.pending.isEmpty else { return nil }
                    s.writing = false
                    defer { s.waiters = [] }
                    return s.waiters
                }
                guard let waiters else { continue }
                for w in waiters { w.resume() }
                return
            }
            do {
                let added = try await storage.addTelemetry(batch)
                metrics?.telemetryReports.increment(by: Int64(added))
                metrics?.telemetryBatches.increment()
                stored?(batch)
                pause = 0.2
                failures = 0
            } catch {
                failures += 1
                logger.error("could not store telemetry, keeping it to try again",
                             metadata: ["reports": "\(batch.count)", "attempt": "\(failures)", "error": "\(error)"])
                state.withLock { s in
                    s.pending.insert(contentsOf: batch, at: 0)
                    if s.pending.count > limit {
                        let over = s.pending.count - limit
                        s.pending.removeFirst(over)
                        s.dropped += over
                        metrics?.telemetryDropped.increment(by: Int64(over))
                        logger.error("telemetry dropped: too many reports waiting for the database", metadata: ["reports": "\(over)"])
                    }
                }
                try? await Task.sleep(for: .seconds(pause))
                pause = min(pause * 2, 5)
            }
        }
    }
}
