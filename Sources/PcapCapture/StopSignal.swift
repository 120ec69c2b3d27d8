internal import CPcap
#if canImport(Glibc)
internal import Glibc
#endif
internal import Synchronization

/// Stops a capture from SIGINT or SIGTERM, promptly and cleanly.
///
/// The handler does only async-signal-safe things: it records the signal,
/// calls `pcap_breakloop` on the capture (documented safe in a signal
/// handler; the next `pcap_next_ex` returns "break"), and writes a byte to a
/// pipe that a live capture's `poll` watches, so a quiet link wakes at once.
/// A second signal of the same kind, once the first has been seen, takes the
/// default action: an operator pressing Ctrl-C twice means it.
public enum StopSignal {
    /// The signal number that asked to stop, 0 while none has.
    private static let received = Atomic<Int32>(0)
    /// The capture to break. Written only before the handlers are installed
    /// and after they are removed; read only by the handler.
    nonisolated(unsafe) private static var target: OpaquePointer?
    nonisolated(unsafe) private static var wakePipe: (read: Int32, write: Int32) = (-1, -1)

    /// Installs the SIGINT and SIGTERM handlers; `capture`, when given, is
    /// broken out of by `pcap_breakloop` (a mapped file needs no breaking: its
    /// loop looks at `requested`). Call once, before the capture loop.
    public static func install(breaking capture: PcapHandle?) {
        _ = received.load(ordering: .relaxed)  // initialise the static before any handler can run
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds { _ = fcntl(fd, F_SETFL, O_NONBLOCK); _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            wakePipe = (fds[0], fds[1])
        }
        target = capture?.rawHandle
        for signalNumber in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signalNumber in
                StopSignal.received.store(signalNumber, ordering: .relaxed)
                if let target = StopSignal.target { pcap_breakloop(target) }
                var byte: UInt8 = 1
                _ = write(StopSignal.wakePipe.write, &byte, 1)
                signal(signalNumber, SIG_DFL)  // the next one is not caught
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(signalNumber, &action, nil)
        }
    }

    /// The signal that asked to stop, or nil.
    public static var requested: Int32? {
        let value = received.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }

    /// A descriptor that becomes readable once a stop was asked for; for poll().
    public static var wakeDescriptor: Int32 { wakePipe.read }
}
