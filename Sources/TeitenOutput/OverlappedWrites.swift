internal import Foundation
internal import Synchronization

/// A file's pieces written on a thread of their own, so that the caller
/// formats the next piece while the kernel copies the last one in.
///
/// Copying an hour's CSV into the page cache costs as much as formatting
/// it: every page of a new file is fresh memory, committed page by page
/// (in a VM, about 2.6 ms a MiB). Done one after the other on the writer
/// thread, the two were most of the time a replay waits for its last
/// hour's file after its last packet; overlapped, the wait is the longer
/// of the two. The thread is started by the writer thread and so shares
/// its priority (`HourFileWriter.niceness`).
///
/// Two buffers take turns: `write` copies a piece into the free one (it
/// waits while both are being written) and returns; `finish` waits for the
/// last and reports the first failure. Pieces reach the file in order.
final class OverlappedWrites: @unchecked Sendable {  // each slot handed over through the semaphores; `failure` under its lock
    private let descriptor: Int32
    private let path: String
    /// Two slots (raw memory, not arrays: each thread touches only the
    /// slot the semaphores give it): a buffer and the length it holds, or -1
    /// for the end.
    private let buffers = UnsafeMutablePointer<UnsafeMutableRawBufferPointer>.allocate(capacity: 2)
    private let lengths = UnsafeMutablePointer<Int>.allocate(capacity: 2)
    private var next = 0
    private let filled = DispatchSemaphore(value: 0)
    private let free = DispatchSemaphore(value: 2)
    private let failure = Mutex<String?>(nil)
    private let stopped = DispatchSemaphore(value: 0)

    /// Writes to `descriptor` (`path` names it in errors).
    init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
        for slot in 0..<2 {
            (buffers + slot).initialize(to: UnsafeMutableRawBufferPointer(start: nil, count: 0))
            (lengths + slot).initialize(to: 0)
        }
        Thread { [self] in self.run() }.start()
    }

    deinit {
        for slot in 0..<2 where buffers[slot].baseAddress != nil { buffers[slot].deallocate() }
        buffers.deallocate()
        lengths.deallocate()
    }

    /// Hands `bytes` over (copied: the caller may reuse its buffer at once).
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if let failure = failure.withLock({ $0 }) { throw HourFileWriter.WriteError(description: failure) }
        free.wait()
        let slot = next
        next ^= 1
        if buffers[slot].count < bytes.count {
            if buffers[slot].baseAddress != nil { buffers[slot].deallocate() }
            buffers[slot] = .allocate(byteCount: max(bytes.count, 1 << 18), alignment: 64)
        }
        if let source = bytes.baseAddress, !bytes.isEmpty {
            buffers[slot].baseAddress!.copyMemory(from: source, byteCount: bytes.count)
        }
        lengths[slot] = bytes.count
        filled.signal()
    }

    /// Waits until every piece is written (or has failed); stops the thread.
    /// Must be called once, last.
    func finish() throws {
        free.wait()
        lengths[next] = -1  // the thread's stop mark, in the slot it reads next
        filled.signal()
        stopped.wait()
        free.signal()  // back to its initial count: a semaphore freed below it traps
        if let failure = failure.withLock({ $0 }) { throw HourFileWriter.WriteError(description: failure) }
    }

    private func run() {
        var slot = 0
        while true {
            filled.wait()
            let length = lengths[slot]
            if length < 0 { break }
            if failure.withLock({ $0 }) == nil, length > 0,
               let problem = DescriptorWrites.writeAll(descriptor, UnsafeRawBufferPointer(start: buffers[slot].baseAddress, count: length)).failure {
                failure.withLock { $0 = "\(path): \(problem)" }
            }
            slot ^= 1
            free.signal()
        }
        stopped.signal()
    }
}
