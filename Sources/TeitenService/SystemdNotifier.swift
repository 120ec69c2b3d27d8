#if canImport(Glibc)
internal import Glibc
#endif

/// The sd_notify(3) protocol without libsystemd: one datagram per message
/// to the AF_UNIX socket named by `NOTIFY_SOCKET` (a path, or an abstract
/// address written with a leading `@`). With no `NOTIFY_SOCKET` (not under
/// systemd, or `Type=simple`) every call is a no-op.
///
/// The watchdog is fed by the capture loop, not by a timer: `WATCHDOG=1`
/// goes out only when the loop has come round again, so a wedged pipeline
/// stops feeding it and systemd restarts the service.
public final class SystemdNotifier {
    private let socket: Int32
    private var address = sockaddr_un()
    private var addressLength: socklen_t = 0
    /// Seconds between watchdog messages (half of `WATCHDOG_USEC`), nil when off.
    public let watchdogInterval: Double?
    private var lastWatchdog = -Double.infinity

    public init(environment: [String: String]) {
        watchdogInterval = Self.watchdogInterval(environment)
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty,
              path.utf8.count < MemoryLayout.size(ofValue: address.sun_path) else {
            socket = -1
            return
        }
        socket = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // abstract namespace
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        // Abstract addresses are exactly as long as given (no terminating NUL).
        addressLength = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
    }

    deinit { if socket >= 0 { close(socket) } }

    public var isActive: Bool { socket >= 0 }

    /// Sends `READY=1` (with a status line): call once the capture is active and the filter set.
    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }

    public func status(_ text: String) { send("STATUS=\(text)") }

    public func stopping() { send("STOPPING=1\nSTATUS=stopping: writing the open hour and closing episodes") }

    /// Feeds the watchdog if half its interval has passed since the last
    /// feed; `now` is monotonic seconds.
    public func watchdogProgress(now: Double) {
        guard let watchdogInterval, now - lastWatchdog >= watchdogInterval else { return }
        lastWatchdog = now
        send("WATCHDOG=1")
    }

    private func send(_ message: String) {
        guard socket >= 0 else { return }
        var message = message
        message.withUTF8 { bytes in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                    _ = sendto(socket, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), generic, addressLength)
                }
            }
        }
    }

    /// Half of `WATCHDOG_USEC`, if the watchdog is on and meant for this process.
    static func watchdogInterval(_ environment: [String: String]) -> Double? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = UInt64(text), microseconds > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"], let number = Int32(pid), number != getpid() { return nil }
        return Double(microseconds) / 2e6
    }
}
