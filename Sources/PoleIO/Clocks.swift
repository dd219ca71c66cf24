#if canImport(Glibc)
import Glibc
#endif
import LightCore

/// The two clocks the pole reads: wall time for the schedule, monotonic time for intervals.
public enum Clocks {
    /// Wall-clock time now.
    public static func now() -> Instant {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Instant(secondsSinceEpoch: Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9)
    }

    /// Seconds on the monotonic clock (unaffected by clock steps).
    public static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// The wall-clock instant of a kernel event timestamp. GPIO v1 events carry CLOCK_MONOTONIC
    /// since Linux 5.7 and CLOCK_REALTIME before; a timestamp within a day of the wall clock is
    /// taken as wall time.
    public static func instant(ofKernelTimestamp ts: timespec) -> Instant {
        let t = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        let wall = now()
        if abs(wall.secondsSinceEpoch - t) < 86_400 { return Instant(secondsSinceEpoch: t) }
        let age = max(0, monotonic() - t)
        return wall - age
    }
}
