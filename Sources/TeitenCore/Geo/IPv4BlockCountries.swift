#if canImport(Glibc)
internal import Glibc
#endif
internal import CPrefetch

/// The country of every IPv4 address in one load for most of them, where a
/// binary search over the ranges is a chain of dependent cache misses.
///
/// One byte per /24 (16 MiB): the country's number when the /24 lies wholly
/// inside the part of one range that the search answers from (up to the
/// next range's start: ranges may overlap), "unknown" when no range touches
/// it, or "shared" when several ranges (or one range and the unknown) share
/// it. A shared /24 has a 256-byte block of its own with one country number
/// per address (about 21,000 such /24s in the tor file: 5 MiB), found
/// through a small index. Whatever the table cannot number (past 253
/// countries, past `maximumSharedBlocks`) is left to the binary search. So
/// the table never answers differently from the search it shortcuts.
///
/// Immutable once built, so shared between threads.
final class IPv4BlockCountries: @unchecked Sendable {
    private static let unknown: UInt8 = 0
    private static let shared: UInt8 = 254
    private static let search: UInt8 = 255
    /// Shared /24s with a block of their own (16 MiB of blocks at most).
    static let maximumSharedBlocks = 65_536

    private let memory: ZeroedMemory
    private let numbers: UnsafeMutablePointer<UInt8>
    private let blockMemory: ZeroedMemory
    private let blocks: UnsafeMutablePointer<UInt8>
    /// Shared /24 → its block.
    private var blockIndex = PackedMap()
    /// The packed country code of each number (number 0: `unknownCode`).
    private let codes = ZeroedStorage<UInt16>(count: 256)
    /// The ranges it was built from (a database that loads more rebuilds it).
    let rangeCount: Int

    /// `starts`, `ends` and `codes`: the ranges, sorted by start.
    init(starts: [UInt32], ends: [UInt32], codes rangeCodes: [UInt16], unknownCode: UInt16) {
        rangeCount = starts.count
        memory = ZeroedMemory(bytes: 1 << 24)
        numbers = memory.base.bindMemory(to: UInt8.self, capacity: 1 << 24)
        codes[0] = unknownCode
        // Each range as the search sees it: from its start to its end or the
        // next range's start, whichever comes first.
        var spans: [(start: UInt32, end: UInt32, number: UInt8)] = []
        var numberOfCode: [UInt16: UInt8] = [:]
        for index in starts.indices {
            let start = starts[index]
            let limit = index + 1 < starts.count ? starts[index + 1] : nil
            if let limit, limit <= start { continue }  // never the last to start: never an answer
            let end = limit.map { min(ends[index], $0 - 1) } ?? ends[index]
            guard start <= end else { continue }
            var number = numberOfCode[rangeCodes[index]] ?? Self.search
            if number == Self.search && numberOfCode.count + 1 < Int(Self.shared) {
                number = UInt8(numberOfCode.count + 1)
                numberOfCode[rangeCodes[index]] = number
                codes[Int(number)] = rangeCodes[index]
            }
            spans.append((start, end, number))
        }
        // The /24s that spans cover in part; spans are sorted and disjoint,
        // so the parts of one /24 arrive one after another.
        var sharedBlocks: [Int] = []
        for span in spans {
            let first = Int(span.start >> 8), last = Int(span.end >> 8)
            if span.start & 0xFF != 0, sharedBlocks.last != first { sharedBlocks.append(first) }
            if span.end & 0xFF != 0xFF, sharedBlocks.last != last { sharedBlocks.append(last) }
        }
        let blockCount = min(sharedBlocks.count, Self.maximumSharedBlocks)
        blockMemory = ZeroedMemory(bytes: max(1, blockCount) * 256)
        blocks = blockMemory.base.bindMemory(to: UInt8.self, capacity: max(1, blockCount) * 256)
        for (index, block) in sharedBlocks.enumerated() {
            if index < blockCount {
                numbers[block] = Self.shared
                blockIndex.set(UInt64(block), Int32(index))
            } else {
                numbers[block] = Self.search
            }
        }
        for span in spans {
            let first = Int(span.start >> 8), last = Int(span.end >> 8)
            // A span's inner /24s are wholly its own (spans are disjoint, and
            // only a /24 at a span's edge can be shared): one fill for them.
            if last - first > 1 { memset(numbers + first + 1, Int32(span.number), last - first - 1) }
            paint(first, with: span)
            if last != first { paint(last, with: span) }
        }
    }

    /// Gives /24 `block` (the first or last of `span`) the span's country:
    /// the whole /24, or its addresses within the span when it is shared.
    private func paint(_ block: Int, with span: (start: UInt32, end: UInt32, number: UInt8)) {
        switch numbers[block] {
        case Self.unknown:  // wholly inside this span
            numbers[block] = span.number
        case Self.shared:
            let base = Int(blockIndex[UInt64(block)]!) * 256
            let from = max(span.start, UInt32(block) << 8) & 0xFF, to = min(span.end, UInt32(block) << 8 | 0xFF) & 0xFF
            for offset in Int(from)...Int(to) { blocks[base + offset] = span.number }
        default:  // `search`: past the blocks
            break
        }
    }

    deinit {
        memory.release()
        blockMemory.release()
    }

    /// The country of `address`, or nil when it needs the search.
    @inline(__always)
    func code(of address: UInt32) -> UInt16? {
        var number = numbers[Int(address >> 8)]
        if number == Self.shared {
            number = blocks[Int(blockIndex[UInt64(address >> 8)]!) * 256 + Int(address & 0xFF)]
        }
        return number == Self.search ? nil : codes[Int(number)]
    }

    @inline(__always)
    func prefetch(_ address: UInt32) { teiten_prefetch(numbers + Int(address >> 8)) }
}
