#if canImport(Glibc)
internal import Glibc
#endif
internal import Dispatch
internal import Synchronization

/// Commits memory a table is about to grow into, on a thread that runs only
/// when a core would otherwise be idle.
///
/// Memory the kernel hands out fresh is zeroed at its first write, page by
/// page, inside whichever thread writes it first; in a VM that costs about
/// 2.6 ms a MiB, and an hour's pair sets double in place into tens of MiB
/// of it while the capture thread waits. `PackedSlots` asks here for the
/// half it will double into once it is well on its way there; this thread
/// commits it with `madvise(MADV_POPULATE_WRITE)` (the pages' contents are
/// not touched: they are zero either way, and the table's own writes race
/// with nothing), under `SCHED_IDLE`, so the work only fills moments when a
/// core has nothing else to run (the detection thread waiting for packets,
/// say) and never delays the sensor's own threads.
///
/// Best effort: on a kernel without `MADV_POPULATE_WRITE` (before 5.14) or
/// when the thread cannot start, requests are dropped and the table's
/// first writes commit the pages, as before. A request for memory unmapped
/// meanwhile fails harmlessly (or, mapped again meanwhile by another table,
/// commits pages of that table: memory, never contents). Where the priority change is refused (the
/// systemd unit filters `@resources` system calls with EPERM), the thread
/// keeps the normal priority: it then does, beside the capture thread, the
/// commits that thread would otherwise do itself.
final class IdlePrefault: @unchecked Sendable {  // `pending` under its lock; the rest set once
    static let shared = IdlePrefault()

    /// Linux's `MADV_POPULATE_WRITE` and `SCHED_IDLE` (not in the headers Swift sees).
    private static let populateWrite: Int32 = 23
    private static let idlePolicy: Int32 = 5
    /// Committed per call, so that a range unmapped meanwhile stops soon.
    private static let chunk = 2 << 20
    /// Requests waiting; beyond this many, new ones are dropped.
    private static let maximumPending = 64

    private let pending = Mutex<[(address: UInt, bytes: Int)]>([])
    private let wake = DispatchSemaphore(value: 0)
    private let started: Bool

    private init() {
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { _ in
            IdlePrefault.shared.run()
            return nil
        }, nil)
        if status == 0 { pthread_detach(thread) }
        started = status == 0
    }

    /// Asks for `bytes` from `start` to be committed when a core is idle.
    func request(_ start: UnsafeMutableRawPointer, bytes: Int) {
        guard started, bytes > 0 else { return }
        let queued = pending.withLock { pending -> Bool in
            guard pending.count < Self.maximumPending else { return false }
            pending.append((UInt(bitPattern: start), bytes))
            return true
        }
        if queued { wake.signal() }
    }

    private func run() {
        var policy = sched_param(sched_priority: 0)
        _ = pthread_setschedparam(pthread_self(), Self.idlePolicy, &policy)
        while true {
            wake.wait()
            guard let next = pending.withLock({ $0.isEmpty ? nil : $0.removeFirst() }),
                  let start = UnsafeMutableRawPointer(bitPattern: next.address) else { continue }
            Self.commit(start, bytes: next.bytes)
        }
    }

    /// Commits the pages of `bytes` from `start` now, on the calling
    /// thread, a chunk at a time; false when the kernel refuses (no
    /// `MADV_POPULATE_WRITE`, or the range is no longer mapped).
    @discardableResult
    static func commit(_ start: UnsafeMutableRawPointer, bytes: Int) -> Bool {
        var offset = 0
        while offset < bytes {
            let length = min(chunk, bytes - offset)
            guard madvise(start + offset, length, populateWrite) == 0 else { return false }
            offset += length
        }
        return true
    }
}
