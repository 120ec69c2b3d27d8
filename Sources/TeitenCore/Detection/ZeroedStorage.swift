#if canImport(Glibc)
internal import Glibc
#endif

/// A fixed array of trivial values, zero-filled by `calloc`: large
/// allocations come straight from fresh (lazily committed) pages, so
/// untouched parts of a big table cost no memory.
final class ZeroedStorage<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
    let count: Int

    init(count: Int) {
        precondition(_isPOD(Element.self), "ZeroedStorage holds trivial values only")
        self.count = count
        guard let raw = calloc(max(1, count), MemoryLayout<Element>.stride) else {
            fatalError("cannot allocate \(count) table entries")  // at start-up only: sizes are fixed
        }
        base = raw.bindMemory(to: Element.self, capacity: max(1, count))
    }

    subscript(index: Int) -> Element {
        get { base[index] }
        set { base[index] = newValue }
    }

    deinit { free(base) }
}
