#if canImport(Glibc)
internal import Glibc
#endif
internal import CPrefetch

/// A fixed array of trivial values, zero-filled by `calloc`: large
/// allocations come straight from fresh (lazily committed) pages, so
/// untouched parts of a big table cost no memory.
///
/// The first element sits on a 64-byte boundary, so a table whose buckets
/// are 64 bytes (WindowTable) finds each bucket in exactly one cache line.
final class ZeroedStorage<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
    let count: Int
    private let allocation: UnsafeMutableRawPointer

    static var lineSize: Int { 64 }

    init(count: Int) {
        precondition(_isPOD(Element.self), "ZeroedStorage holds trivial values only")
        self.count = count
        let bytes = max(1, count) * MemoryLayout<Element>.stride + Self.lineSize
        guard let raw = calloc(bytes, 1) else {
            fatalError("cannot allocate \(count) table entries")  // at start-up only: sizes are fixed
        }
        allocation = raw
        let aligned = (Int(bitPattern: raw) + Self.lineSize - 1) & ~(Self.lineSize - 1)
        base = UnsafeMutableRawPointer(bitPattern: aligned)!.bindMemory(to: Element.self, capacity: max(1, count))
    }

    subscript(index: Int) -> Element {
        get { base[index] }
        set { base[index] = newValue }
    }

    /// Asks the caches for the line holding element `index` (a hint; see CPrefetch).
    @inline(__always)
    func prefetch(_ index: Int) { teiten_prefetch(base + index) }

    deinit { free(allocation) }
}
