#if canImport(Glibc)
import Glibc
#endif

/// A mutex with a condition variable, for the pole's own threads to sleep until told or until a
/// deadline on the monotonic clock (a wall-clock jump, such as the clock being set at boot, must
/// not stretch or cut a wait).
///
/// A pthread pair rather than Foundation's `NSCondition`: the pole does not link the full
/// Foundation (docs/benchmarks.md).
public final class Condition: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }
    /// Wakes one waiting thread; call with the lock held.
    public func signal() { pthread_cond_signal(condition) }
    /// Wakes every waiting thread; call with the lock held.
    public func broadcast() { pthread_cond_broadcast(condition) }

    /// Waits until signalled (or woken spuriously: callers re-check their predicate); lock held.
    public func wait() { pthread_cond_wait(condition, mutex) }

    /// Waits until signalled or until `deadline`; false once the deadline has passed. Lock held.
    public func wait(until deadline: Deadline) -> Bool {
        var t = deadline.time
        return pthread_cond_timedwait(condition, mutex, &t) != ETIMEDOUT
    }

    /// A point on the monotonic clock.
    public struct Deadline: Sendable {
        fileprivate var time: timespec

        /// `seconds` from now.
        public static func after(seconds: Double) -> Deadline {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let whole = max(0, seconds).rounded(.down)
            var nanoseconds = now.tv_nsec + Int((max(0, seconds) - whole) * 1e9)
            var secs = now.tv_sec + Int(whole)
            if nanoseconds >= 1_000_000_000 { nanoseconds -= 1_000_000_000; secs += 1 }
            return Deadline(time: timespec(tv_sec: secs, tv_nsec: nanoseconds))
        }
    }
}
