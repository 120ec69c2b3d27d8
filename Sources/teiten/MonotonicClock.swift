#if canImport(Glibc)
import Glibc
#endif
import PacketDecoding

/// Elapsed time for rates and progress (CLOCK_MONOTONIC), and wall time for
/// ticking the pipeline on a quiet live link (CLOCK_REALTIME).
enum MonotonicClock {
    static func seconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
    }

    static func wallTime() -> PacketTime {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return PacketTime(seconds: Int64(now.tv_sec), nanoseconds: Int64(now.tv_nsec))
    }
}
