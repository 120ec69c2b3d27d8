#if canImport(Glibc)
internal import Glibc
#endif

/// Zero-filled memory for the per-packet tables (detector windows, country
/// cache, distinct-pair sets), which are read at random, one cache line per
/// packet and table.
///
/// Blocks of `largeBlock` bytes and more are mapped anonymously (zero pages,
/// committed only when first written, so an idle table costs nothing) and
/// aligned to 2 MiB. Smaller blocks come from `calloc`. Every block starts
/// on a 64-byte line.
///
/// `hugePages`: the block asks for transparent huge pages. With 4 KiB pages
/// every random line is also a TLB miss and a page walk; a huge page spares
/// them, but in a VM its first write costs more than 512 small pages' (5-6
/// ms a MiB against 1.2-2.2 here, right after another program freed small
/// pages: docs/performance.md, ninth session). So only the detection
/// thread's big tables ask (`ZeroedStorage`: window tables, fingerprints):
/// several lines a packet, committed ahead by `IdlePrefault`. The hours' pair sets and row index
/// (`PackedSlots`: committed while packets flow, a line or two a packet)
/// and the country tables (committed before the first packet) do not.
/// A huge page is also why `largeBlock` is 2 MiB: a detector's 2 MiB key
/// table from `calloc` took 512 pages of the heap, and was zeroed whole
/// when it reused freed heap memory, used or not.
struct ZeroedMemory {
    static let hugePage = 2 << 20
    static let largeBlock = 2 << 20
    static let line = 64

    let base: UnsafeMutableRawPointer
    /// Bytes usable from `base`, all zero until written.
    let capacity: Int
    private let allocation: UnsafeMutableRawPointer
    private let mappedLength: Int  // 0: from calloc

    /// Room for `bytes`. `reserving`: address space for that many bytes (a
    /// large block), zero-filled like the rest and committed only where
    /// written, so that a table can double in place (`PackedSlots`)
    /// instead of moving to fresh memory.
    init(bytes: Int, reserving: Int = 0, hugePages: Bool) {
        let bytes = max(1, bytes)
        if bytes >= Self.largeBlock || reserving > bytes {
            var usable = max(bytes, reserving)
            // No swap is reserved for the address space: only written pages
            // count. (Under strict overcommit, `vm.overcommit_memory=2`, the
            // kernel counts it all the same and may refuse a reservation:
            // then only `bytes` are mapped, and the table moves when it grows.)
            var mapped = Self.map(usable + Self.hugePage)
            if mapped == nil && usable > bytes {
                usable = bytes
                mapped = Self.map(usable + Self.hugePage)
            }
            guard let mapped else {
                fatalError("cannot map \(usable) bytes for a table: \(String(cString: strerror(errno)))")
            }
            let length = usable + Self.hugePage
            allocation = mapped
            mappedLength = length
            capacity = usable
            base = mapped.alignedUp(toMultipleOf: Self.hugePage)
            if hugePages {
                _ = madvise(base, usable, MADV_HUGEPAGE)  // a hint: without huge pages the table still works
            }
        } else {
            guard let raw = calloc(bytes + Self.line, 1) else { fatalError("cannot allocate \(bytes) bytes for a table") }
            allocation = raw
            mappedLength = 0
            capacity = bytes
            base = raw.alignedUp(toMultipleOf: Self.line)
        }
    }

    private static func map(_ length: Int) -> UnsafeMutableRawPointer? {
        let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        return mapped == UnsafeMutableRawPointer(bitPattern: -1) ? nil : mapped
    }

    /// Gives the block back; `base` must not be used afterwards.
    func release() {
        if mappedLength > 0 { munmap(allocation, mappedLength) } else { free(allocation) }
    }
}
