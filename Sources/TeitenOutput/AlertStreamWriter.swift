#if canImport(Glibc)
internal import Glibc
#endif
public import TeitenCore
internal import Synchronization
internal import Dispatch
internal import Foundation

/// Writes the alert stream off the capture thread. The capture loop hands
/// over finished alerts (`submit`), a writer thread encodes and appends
/// them, one `write(2)` of whole lines at a time on an `O_APPEND`
/// descriptor, so a reader tailing the file never sees half a line.
///
/// The hand-off is bounded (`capacity` alerts); alerts beyond it are
/// dropped and counted, never buffered without limit. `reopen()` (SIGHUP,
/// after logrotate moved the file) makes the thread close and reopen the
/// path before its next write, losing no line.
///
/// When a write fails (disk full, I/O error), whatever part of it reached
/// the file is cut off again, so the file keeps whole lines only, and the
/// lines go to `fallback` instead (the sensor logs them: under systemd they
/// reach the journal). Each line ends up in exactly one of the two.
public final class AlertStreamWriter: Sendable {
    public struct OpenError: Error, CustomStringConvertible {
        public let description: String
    }

    private struct State {
        var queue: [Alert] = []
        var closing = false
        var reopenRequested = false
        var dropped: UInt64 = 0
        var written: UInt64 = 0
        var writeErrors: UInt64 = 0
        var lastError: String?
        /// Lines handed to `fallback` because the file refused them.
        var fellBack: UInt64 = 0
    }

    public let path: String
    private let sensor: String
    private let capacity: Int
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let descriptor = Atomic<Int32>(-1)
    private let fallback: @Sendable (String) -> Void

    /// Opens `path` for appending ("-": standard output) and starts the
    /// writer thread. A path that cannot be opened is an error now, not later.
    public init(path: String, sensor: String, capacity: Int = 65_536,
                fallback: @escaping @Sendable (String) -> Void = { _ in }) throws(OpenError) {
        self.path = path
        self.sensor = sensor
        self.capacity = capacity
        self.fallback = fallback
        descriptor.store(try Self.open(path), ordering: .relaxed)
        let thread = Thread { [self] in self.run() }
        thread.start()
    }

    /// Hands alerts to the writer thread. Never blocks on I/O.
    public func submit(_ alerts: [Alert]) {
        guard !alerts.isEmpty else { return }
        state.withLock { state in
            let room = max(0, capacity - state.queue.count)
            state.queue.append(contentsOf: alerts.prefix(room))
            state.dropped &+= UInt64(max(0, alerts.count - room))
        }
        wake.signal()
    }

    /// Asks the thread to reopen the file before its next write (logrotate).
    public func reopen() {
        state.withLock { $0.reopenRequested = true }
        wake.signal()
    }

    /// Writes everything submitted, then stops the thread.
    public func close() {
        state.withLock { $0.closing = true }
        wake.signal()
        finished.wait()
    }

    public var statistics: (written: UInt64, dropped: UInt64, writeErrors: UInt64, lastError: String?) {
        state.withLock { ($0.written, $0.dropped, $0.writeErrors, $0.lastError) }
    }

    /// Lines that went to the fallback instead of the file.
    public var linesFallenBack: UInt64 { state.withLock { $0.fellBack } }

    private func run() {
        var text = JSONBytes(reservingCapacity: 1 << 16)  // a batch's lines, reused
        while true {
            _ = wake.wait(timeout: .now() + .milliseconds(500))
            let (batch, closing, reopen) = state.withLock { state -> ([Alert], Bool, Bool) in
                defer { state.queue.removeAll(keepingCapacity: true); state.reopenRequested = false }
                return (state.queue, state.closing, state.reopenRequested)
            }
            if reopen && path != "-" {
                if let fresh = try? Self.open(path) {
                    Glibc.close(descriptor.exchange(fresh, ordering: .relaxed))
                }
            }
            if !batch.isEmpty {
                text.removeAll()
                for alert in batch {
                    AlertJSON.append(alert, sensor: sensor, to: &text)
                    text.byte(UInt8(ascii: "\n"))
                }
                let error = Self.writeWhole(descriptor.load(ordering: .relaxed), text.bytes)
                state.withLock { state in
                    if let error {
                        state.writeErrors &+= 1
                        state.lastError = error
                        state.fellBack &+= UInt64(batch.count)
                    } else {
                        state.written &+= UInt64(batch.count)
                    }
                }
                if error != nil { for alert in batch { fallback(AlertJSON.line(alert, sensor: sensor)) } }
            }
            if closing {
                if path != "-" { Glibc.close(descriptor.load(ordering: .relaxed)) }
                finished.signal()
                return
            }
        }
    }

    private static func open(_ path: String) throws(OpenError) -> Int32 {
        if path == "-" { return 1 }
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw OpenError(description: "\(path): cannot open for writing: \(String(cString: strerror(errno)))") }
        return fd
    }

    /// Writes whole lines, or nothing: a write that fails part-way is cut
    /// off again (ftruncate to the size before it). Returns an error text or nil.
    private static func writeWhole(_ fd: Int32, _ text: [UInt8]) -> String? {
        let before = lseek(fd, 0, SEEK_END)  // O_APPEND writes go to the end anyway
        let (written, failure) = text.withUnsafeBytes { DescriptorWrites.writeAll(fd, $0) }
        if failure != nil && written > 0 && before >= 0 { _ = ftruncate(fd, before) }
        return failure
    }
}
