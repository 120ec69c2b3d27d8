#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// SIGHUP: reopen the alert file (after logrotate moved it). The handler only
/// sets a flag; the capture loop acts on it between packets.
enum HangupSignal {
    private static let pending = Atomic<Bool>(false)

    static func install() {
        _ = pending.load(ordering: .relaxed)  // initialise the static before any handler can run
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in HangupSignal.pending.store(true, ordering: .relaxed) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGHUP, &action, nil)
    }

    /// True once per SIGHUP received.
    static func take() -> Bool { pending.exchange(false, ordering: .relaxed) }
}
