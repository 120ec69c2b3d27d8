internal import CPrefetch

/// The country of every IPv4 /24 in one byte (16 MiB in all): a lookup is
/// one load, where a binary search over the ranges is a chain of dependent
/// cache misses. Built from the sorted ranges of `CountryDatabase`: a /24
/// wholly inside the part of one range that the search would answer from
/// (up to the next range's start) holds that range's country, one that no
/// range touches holds "unknown", and any other holds `search`: its
/// addresses go to the binary search, which decides them as before. So the
/// table never answers differently from the search it shortcuts.
///
/// Countries are numbered in order of first appearance; past 254 distinct
/// codes (never in a geoip file: ISO 3166 has 249), later ones are left to
/// the search too. Immutable once built, so shared between threads.
final class IPv4BlockCountries: @unchecked Sendable {
    static let unknown: UInt8 = 0
    static let search: UInt8 = 255

    private let memory: ZeroedMemory
    private let blocks: UnsafeMutablePointer<UInt8>
    /// The packed country code of each number (number 0: `unknownCode`).
    private let codes = ZeroedStorage<UInt16>(count: 256)
    /// The ranges it was built from (a database that loads more rebuilds it).
    let rangeCount: Int

    /// `starts`, `ends` and `codes`: the ranges, sorted by start.
    init(starts: [UInt32], ends: [UInt32], codes rangeCodes: [UInt16], unknownCode: UInt16) {
        rangeCount = starts.count
        memory = ZeroedMemory(bytes: 1 << 24)
        blocks = memory.base.bindMemory(to: UInt8.self, capacity: 1 << 24)
        codes[0] = unknownCode
        var numbers: [UInt16: UInt8] = [:]
        for index in starts.indices {
            // The search answers an address from the last range starting at
            // or before it, so this range decides nothing at or past the next
            // range's start (the ranges may overlap).
            let start = starts[index]
            let limit = index + 1 < starts.count ? starts[index + 1] : nil
            if let limit, limit <= start { continue }  // never the last to start: never an answer
            let end = limit.map { min(ends[index], $0 - 1) } ?? ends[index]
            guard start <= end else { continue }
            var number = numbers[rangeCodes[index]]
            if number == nil && numbers.count + 1 < Int(Self.search) {
                number = UInt8(numbers.count + 1)
                numbers[rangeCodes[index]] = number
                codes[Int(number!)] = rangeCodes[index]
            }
            for block in Int(start >> 8)...Int(end >> 8) {
                let whole = UInt32(block) << 8 >= start && UInt32(block) << 8 | 0xFF <= end
                if whole, let number, blocks[block] == Self.unknown {
                    blocks[block] = number
                } else {
                    blocks[block] = Self.search  // shared, partly covered, or a country without a number
                }
            }
        }
    }

    deinit { memory.release() }

    /// The country of `address`, or nil when its /24 needs the search.
    @inline(__always)
    func code(of address: UInt32) -> UInt16? {
        let number = blocks[Int(address >> 8)]
        return number == Self.search ? nil : codes[Int(number)]
    }

    @inline(__always)
    func prefetch(_ address: UInt32) { teiten_prefetch(blocks + Int(address >> 8)) }
}
