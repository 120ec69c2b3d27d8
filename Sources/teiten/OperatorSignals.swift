#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The signals an operator sends a running sensor, besides stop
/// (SIGTERM/SIGINT, see `StopSignal`):
///
/// - SIGHUP: reopen the alert file (after logrotate moved it) and reload
///   the country database;
/// - SIGUSR1: log a one-line statistics summary.
///
/// The handler only sets a bit; the capture loop acts on it between packets.
enum OperatorSignals {
    private static let pending = Atomic<UInt64>(0)

    static func install() {
        _ = pending.load(ordering: .relaxed)  // initialise the static before any handler can run
        for signalNumber in [SIGHUP, SIGUSR1] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                _ = OperatorSignals.pending.bitwiseOr(1 << UInt64(number & 63), ordering: .relaxed)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(signalNumber, &action, nil)
        }
    }

    /// True once per arrival (or burst of arrivals) of `signalNumber`.
    static func take(_ signalNumber: Int32) -> Bool {
        let bit: UInt64 = 1 << UInt64(signalNumber & 63)
        return pending.bitwiseAnd(~bit, ordering: .relaxed).oldValue & bit != 0
    }
}
