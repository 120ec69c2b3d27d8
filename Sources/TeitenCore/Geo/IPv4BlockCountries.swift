#if canImport(Glibc)
internal import Glibc
#endif
internal import CPrefetch

/// The country of most IPv4 addresses in two or three loads, where a
/// binary search over the ranges is a chain of dependent cache misses.
///
/// Three levels, sized by how the ranges are laid out rather than by the
/// address space:
/// - one 16-bit entry per /16 (128 KiB): the
///   country's number when the /16 lies wholly inside the part of one
///   country's ranges that the search answers from (up to the next range's
///   start: ranges may overlap), "unknown" when no range touches it, or the
///   page of a /16 that several ranges (or a range and the unknown) share;
/// - a page of one 16-bit entry per /24 for each such /16 (about 9,300 in
///   the tor file: 4.5 MiB): the /24's number, or the block of a /24 that
///   several ranges share;
/// - a block of one number per address for each such /24 (about 21,000 in
///   the tor file: 5.2 MiB).
///
/// Whatever the table cannot number (past 254 countries, past
/// `maximumPages` or `maximumBlocks`) is left to the binary search, so the
/// table never answers differently from the search it shortcuts.
///
/// A flat table of every /24 (16 MiB, and a hash index to the blocks)
/// needed one load fewer, but was a tenth of the sensor's memory, and
/// memory is what a run pays for at its first touch (docs/performance.md);
/// this takes half of it.
///
/// Immutable once built, so shared between threads.
final class IPv4BlockCountries: @unchecked Sendable {
    private static let unknown: UInt8 = 0
    private static let search: UInt8 = 255
    /// A /16 entry with this bit set names a page (the low 15 bits).
    private static let pageFlag: UInt16 = 0x8000
    /// A /24 entry from here up names a block (the entry minus this).
    private static let firstBlock: UInt16 = 0x100
    /// Pages of /24s (16 MiB at most); /16s past them go to the search.
    static let maximumPages = 32_768
    /// Blocks of addresses (16 MiB at most); /24s past them go to the search.
    static let maximumBlocks = Int(UInt16.max - firstBlock) + 1

    /// Every /16's number, or its page.
    private let sixteens = ZeroedStorage<UInt16>(count: 1 << 16)
    private let pageMemory: ZeroedMemory
    private let pages: UnsafeMutablePointer<UInt16>
    private let blockMemory: ZeroedMemory
    private let blocks: UnsafeMutablePointer<UInt8>
    /// The packed country code of each number (number 0: `unknownCode`).
    private let codes = ZeroedStorage<UInt16>(count: 256)
    /// The ranges it was built from (a database that loads more rebuilds it).
    let rangeCount: Int

    private typealias Span = (start: UInt32, end: UInt32, number: UInt8)

    /// `starts`, `ends` and `codes`: the ranges, sorted by start.
    init(starts: [UInt32], ends: [UInt32], codes rangeCodes: [UInt16], unknownCode: UInt16) {
        rangeCount = starts.count
        codes[0] = unknownCode
        let spans = Self.spans(starts: starts, ends: ends, codes: rangeCodes, numbering: codes)
        // Spans are disjoint, so only a span's first and last /16 (and /24)
        // can be shared; the rest of it is wholly its own.
        var shared = [Bool](repeating: false, count: 1 << 16)
        for span in spans {
            for sixteen in Int(span.start >> 16)...Int(span.end >> 16) {
                if Self.covers(span, from: UInt32(sixteen) << 16, bits: 16) {
                    sixteens[sixteen] = UInt16(span.number)
                } else {
                    shared[sixteen] = true
                }
            }
        }
        var pageCount = 0
        for sixteen in shared.indices where shared[sixteen] {
            if pageCount < Self.maximumPages {
                sixteens[sixteen] = Self.pageFlag | UInt16(pageCount)
                pageCount += 1
            } else {
                sixteens[sixteen] = UInt16(Self.search)
            }
        }
        pageMemory = ZeroedMemory(bytes: max(1, pageCount) << 9, hugePages: false)
        pages = pageMemory.base.bindMemory(to: UInt16.self, capacity: max(1, pageCount) << 8)
        // Pages first: each /24 a span covers whole takes its number, each
        // one it covers in part a block (spans arrive in order, so the
        // spans sharing a /24 arrive one after another).
        var blockCount = 0
        var lastShared = -1
        for span in spans {
            Self.forEachBlock(of: span, sixteens, pages) { block, entry in
                if Self.covers(span, from: UInt32(block) << 8, bits: 8) {
                    entry = UInt16(span.number)
                } else if block != lastShared {
                    lastShared = block
                    entry = blockCount < Self.maximumBlocks ? Self.firstBlock + UInt16(blockCount) : UInt16(Self.search)
                    blockCount += 1
                }
            }
        }
        blockCount = min(blockCount, Self.maximumBlocks)
        blockMemory = ZeroedMemory(bytes: max(1, blockCount) << 8, hugePages: false)
        blocks = blockMemory.base.bindMemory(to: UInt8.self, capacity: max(1, blockCount) << 8)
        for span in spans {  // then the blocks: each span's run of addresses in each
            Self.forEachBlock(of: span, sixteens, pages) { [blocks] block, entry in
                guard entry >= Self.firstBlock else { return }
                let base = UInt32(block) << 8
                let first = Int(max(span.start, base) & 0xFF), last = Int(min(span.end, base | 0xFF) & 0xFF)
                (blocks + (Int(entry - Self.firstBlock) << 8 | first)).update(repeating: span.number, count: last - first + 1)
            }
        }
    }

    /// Calls `body` with each /24 at the edges of `span` that lies in a
    /// paged /16, and its page entry: only a span's first and last /16
    /// can be paged.
    private static func forEachBlock(of span: Span, _ sixteens: ZeroedStorage<UInt16>, _ pages: UnsafeMutablePointer<UInt16>,
                                     _ body: (Int, inout UInt16) -> Void) {
        let first = Int(span.start >> 16), last = Int(span.end >> 16)
        for sixteen in stride(from: first, through: last, by: max(1, last - first)) {  // first, and last if another
            let entry = sixteens[sixteen]
            guard entry & pageFlag != 0 else { continue }
            let page = pages + Int(entry & ~pageFlag) << 8
            let low = max(span.start, UInt32(sixteen) << 16), high = min(span.end, UInt32(sixteen) << 16 | 0xFFFF)
            for block in Int(low >> 8)...Int(high >> 8) { body(block, &page[block & 0xFF]) }
        }
    }

    /// Each range as the search sees it: from its start to its end or the
    /// next range's start, whichever comes first; numbered (`numbering`
    /// gets each number's code), and joined with the next when that one
    /// follows on with the same number.
    private static func spans(starts: [UInt32], ends: [UInt32], codes rangeCodes: [UInt16],
                              numbering codes: ZeroedStorage<UInt16>) -> [Span] {
        var spans: [Span] = []
        spans.reserveCapacity(starts.count)
        // Each packed code's number, 0 until it has one: a flat table (64
        // KiB), where a dictionary cost 6 ms of start-up in hashing.
        var numberOfCode = [UInt8](repeating: 0, count: 1 << 16)
        var numbered = 0
        for index in starts.indices {
            let start = starts[index]
            let limit = index + 1 < starts.count ? starts[index + 1] : nil
            if let limit, limit <= start { continue }  // never the last to start: never an answer
            let end = limit.map { min(ends[index], $0 - 1) } ?? ends[index]
            guard start <= end else { continue }
            let code = Int(rangeCodes[index])
            var number = numberOfCode[code] == 0 ? Self.search : numberOfCode[code]
            if number == Self.search && numbered + 1 < Int(Self.search) {
                numbered += 1
                number = UInt8(numbered)
                numberOfCode[code] = number
                codes[Int(number)] = rangeCodes[index]
            }
            if let last = spans.last, last.number == number, last.end != .max, last.end + 1 == start {
                spans[spans.count - 1].end = end
            } else {
                spans.append((start, end, number))
            }
        }
        return spans
    }

    /// Whether `span` covers the whole block of 2^`bits` addresses at `from`.
    private static func covers(_ span: Span, from: UInt32, bits: Int) -> Bool {
        span.start <= from && span.end >= from | (UInt32(1) << bits - 1)
    }

    deinit {
        pageMemory.release()
        blockMemory.release()
    }

    /// The country of `address`, or nil when it needs the search.
    @inline(__always)
    func code(of address: UInt32) -> UInt16? {
        var entry = sixteens[Int(address >> 16)]
        if entry & Self.pageFlag != 0 {
            entry = pageEntry(entry, address).pointee
            if entry >= Self.firstBlock { entry = UInt16(blockNumber(entry, address).pointee) }
        }
        return entry == UInt16(Self.search) ? nil : codes[Int(entry)]
    }

    /// The page entry of `address`'s /24, its /16's entry `sixteen` naming a page.
    @inline(__always)
    private func pageEntry(_ sixteen: UInt16, _ address: UInt32) -> UnsafeMutablePointer<UInt16> {
        pages + (Int(sixteen & ~Self.pageFlag) << 8 | Int(address >> 8 & 0xFF))
    }

    /// The number of `address` in the block its /24's page entry `entry` names.
    @inline(__always)
    private func blockNumber(_ entry: UInt16, _ address: UInt32) -> UnsafeMutablePointer<UInt8> {
        blocks + (Int(entry - Self.firstBlock) << 8 | Int(address & 0xFF))
    }

    /// Look-ahead, first step: the address's /16 entry. (The /16 entries
    /// are few, but a packet's other tables push them out of the nearer
    /// caches: loading one at once stalled the capture thread.)
    @inline(__always)
    func prefetchSixteen(_ address: UInt32) { sixteens.prefetch(Int(address >> 16)) }

    /// Look-ahead, second step (the /16 entry is in cache by now): the /24's
    /// page entry, when the /16 has a page.
    @inline(__always)
    func prefetchPage(_ address: UInt32) {
        let sixteen = sixteens[Int(address >> 16)]
        guard sixteen & Self.pageFlag != 0 else { return }
        teiten_prefetch(pageEntry(sixteen, address))
    }

    /// Look-ahead, third step (the page entry is in cache by now): the
    /// address's line of its /24's block, when the /24 has one.
    @inline(__always)
    func prefetchBlock(_ address: UInt32) {
        let sixteen = sixteens[Int(address >> 16)]
        guard sixteen & Self.pageFlag != 0 else { return }
        let entry = pageEntry(sixteen, address).pointee
        guard entry >= Self.firstBlock else { return }
        teiten_prefetch(blockNumber(entry, address))
    }
}
