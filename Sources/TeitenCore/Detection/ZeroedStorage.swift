#if canImport(Glibc)
internal import Glibc
#endif
internal import CPrefetch

/// A fixed array of trivial values, zero-filled (`ZeroedMemory`: lazily
/// committed pages, huge pages for big tables: the detectors' windows and
/// fingerprints), so untouched parts of a big table cost no memory.
///
/// The first element sits on a 64-byte boundary, so a table whose buckets
/// are whole cache lines (WindowTable) finds each bucket in exactly those lines.
final class ZeroedStorage<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
    let count: Int
    private let memory: ZeroedMemory

    init(count: Int) {
        precondition(_isPOD(Element.self), "ZeroedStorage holds trivial values only")
        self.count = count
        memory = ZeroedMemory(bytes: max(1, count) * MemoryLayout<Element>.stride, hugePages: true)
        base = memory.base.bindMemory(to: Element.self, capacity: max(1, count))
    }

    subscript(index: Int) -> Element {
        get { base[index] }
        set { base[index] = newValue }
    }

    /// Asks the caches for the line holding element `index` (a hint; see CPrefetch).
    @inline(__always)
    func prefetch(_ index: Int) { teiten_prefetch(base + index) }

    /// Asks for the pages of elements `range` to be committed when a core
    /// is idle (`IdlePrefault`), ahead of their first write, which would
    /// otherwise commit them on the thread that writes.
    func prefault(_ range: Range<Int>) {
        let range = range.clamped(to: 0..<count)
        IdlePrefault.shared.request(UnsafeMutableRawPointer(base + range.lowerBound),
                                    bytes: range.count * MemoryLayout<Element>.stride)
    }

    deinit { memory.release() }
}
