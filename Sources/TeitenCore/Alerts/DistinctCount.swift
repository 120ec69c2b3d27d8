/// A distinct count: exact up to `exactLimit` elements, then a HyperLogLog
/// (Flajolet et al. 2007) of 2^`registerBits` one-byte registers, so a flood
/// of millions of spoofed sources costs a count kilobytes, not a set of
/// millions. `isExact` says which.
///
/// Episode totals (targets, ports, sources) use 2^10 registers: standard
/// error 1.04/√1024 ≈ 3.3 % in 1 KiB. Their registers are written at random
/// by every packet of a large episode; at 4 KiB a sketch those of a few
/// dozen heavy scanners did not stay in cache, and the misses cost the
/// detection thread about a tenth of its time. The hourly counts' row
/// sketches, which feed graphs, keep 2^12 (1.6 %).
struct DistinctCount {
    static let exactLimit = 4096
    static let episodeRegisterBits = 10
    static let rowRegisterBits = 12

    /// Elements held inline before a set is allocated: most episodes (a
    /// worm source's two or three probes, a vertical scan's one target)
    /// never need more, and opening one used to allocate three sets.
    static let inlineLimit = 4

    private let registerBits: Int
    private var inline: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var inlineCount = 0
    /// The exact set, once more than `inlineLimit` elements have come.
    private var exact: PackedSet?
    private var registers: [UInt8] = []

    var isExact: Bool { registers.isEmpty }

    /// Exact until `exactLimit`, then a sketch of 2^`registerBits` registers.
    init(registerBits: Int = episodeRegisterBits) { self.registerBits = registerBits }

    /// Adds an element; true when it was new (known only while exact:
    /// afterwards always false).
    @discardableResult
    mutating func insert(_ element: UInt64) -> Bool {
        guard registers.isEmpty else {
            add(element)
            return false
        }
        guard exact != nil else { return insertInline(element) }
        let inserted = exact!.insert(element)
        if exact!.count > Self.exactLimit {
            registers = [UInt8](repeating: 0, count: 1 << registerBits)
            for value in exact!.elements { add(value) }
            exact = nil
        }
        return inserted
    }

    private mutating func insertInline(_ element: UInt64) -> Bool {
        if inlineContains(element) { return false }
        switch inlineCount {
        case 0: inline.0 = element
        case 1: inline.1 = element
        case 2: inline.2 = element
        case 3: inline.3 = element
        default:
            var set = PackedSet(minimumCapacity: 2 * Self.inlineLimit)
            for value in [inline.0, inline.1, inline.2, inline.3, element] { set.insert(value) }
            exact = set
            inlineCount = 0
            return true
        }
        inlineCount += 1
        return true
    }

    @inline(__always)
    private func inlineContains(_ element: UInt64) -> Bool {
        (inlineCount > 0 && inline.0 == element) || (inlineCount > 1 && inline.1 == element)
            || (inlineCount > 2 && inline.2 == element) || (inlineCount > 3 && inline.3 == element)
    }

    var count: Int {
        guard !registers.isEmpty else { return exact?.count ?? inlineCount }
        return registers.withUnsafeBufferPointer { HyperLogLog.estimate($0) }
    }

    private mutating func add(_ element: UInt64) {
        let (index, rank) = HyperLogLog.register(of: element, registerBits: registerBits)
        if rank > registers[index] { registers[index] = rank }
    }
}
