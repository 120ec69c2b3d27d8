#if canImport(Glibc)
internal import Glibc
#endif

/// A distinct count for an episode's totals (targets, ports, sources): exact
/// up to `exactLimit` elements, then a HyperLogLog of 2^12 registers
/// (Flajolet et al. 2007; standard error 1.04/√4096 ≈ 1.6 %) in 4 KiB, so a
/// flood of millions of spoofed sources costs an episode 4 KiB, not a set of
/// millions. `isExact` says which.
struct DistinctCount {
    static let exactLimit = 4096
    private static let registerBits = 12

    private var exact = PackedSet()
    private var registers: [UInt8] = []

    var isExact: Bool { registers.isEmpty }

    /// A sketch from the start (no exact phase): for counts that only ever
    /// need an estimate.
    static func sketch() -> DistinctCount {
        var count = DistinctCount()
        count.registers = [UInt8](repeating: 0, count: 1 << registerBits)
        return count
    }

    /// Adds an element; true when it was new (known only while exact:
    /// afterwards always false).
    @discardableResult
    mutating func insert(_ element: UInt64) -> Bool {
        guard registers.isEmpty else {
            add(element)
            return false
        }
        let inserted = exact.insert(element)
        if exact.count > Self.exactLimit {
            registers = [UInt8](repeating: 0, count: 1 << Self.registerBits)
            for value in exact.elements { add(value) }
            exact = PackedSet()
        }
        return inserted
    }

    var count: Int {
        guard !registers.isEmpty else { return exact.count }
        let m = Double(registers.count)
        var sum = 0.0, zeros = 0
        for register in registers {
            sum += 1.0 / Double(UInt64(1) << UInt64(register))
            if register == 0 { zeros += 1 }
        }
        let alpha = 0.7213 / (1 + 1.079 / m)
        let raw = alpha * m * m / sum
        if raw <= 2.5 * m && zeros > 0 {  // small-range correction: linear counting
            return Int((m * log(m / Double(zeros))).rounded())
        }
        return Int(raw.rounded())
    }

    private mutating func add(_ element: UInt64) {
        let hash = KeyHash.mix(element)
        let index = Int(hash >> UInt64(64 - Self.registerBits))
        let rest = hash << UInt64(Self.registerBits) | (1 << UInt64(Self.registerBits - 1))
        let rank = UInt8(rest.leadingZeroBitCount + 1)
        if rank > registers[index] { registers[index] = rank }
    }
}
