#if canImport(Glibc)
internal import Glibc
#endif

/// HyperLogLog (Flajolet, Fusy, Gandouet and Meunier, 2007): the register
/// an element sets and the estimate a block of registers gives. The
/// registers themselves belong to the callers: an episode's `DistinctCount`
/// holds its own, the hourly counts' `RowSketches` keep every row's in one
/// block.
enum HyperLogLog {
    /// The register `element` sets, and the rank it sets it to at least.
    @inline(__always)
    static func register(of element: UInt64, registerBits: Int) -> (index: Int, rank: UInt8) {
        let hash = KeyHash.mix(element)
        let index = Int(hash >> UInt64(64 - registerBits))
        let rest = hash << UInt64(registerBits) | (1 << UInt64(registerBits - 1))
        return (index, UInt8(rest.leadingZeroBitCount + 1))
    }

    /// 2^-rank for every rank a register can hold.
    private static let inversePowers: [Double] = (0...64).map { Double(sign: .plus, exponent: -$0, significand: 1) }

    /// The distinct count that `registers` estimate (with the small-range
    /// correction: linear counting while registers are still empty).
    static func estimate(_ registers: UnsafeBufferPointer<UInt8>) -> Int {
        // Registers counted by rank first: an increment per register instead
        // of a dependent floating-point add (an hour closes 4,096 sketches of
        // 4,096 registers per column).
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 256) { byRank in  // every value a byte holds
            byRank.initialize(repeating: 0)
            for register in registers { byRank[Int(register)] &+= 1 }
            return estimate(byRank: UnsafeBufferPointer(byRank), registerCount: registers.count)
        }
    }

    /// The estimate of `registerCount` registers, `byRank[r]` of which hold
    /// rank r (ranks 0 to 64; a sketch that lists the few registers it has
    /// set counts them without building the rest).
    static func estimate(byRank: UnsafeBufferPointer<Int>, registerCount: Int) -> Int {
        let m = Double(registerCount)
        // The sum is of powers of two, exact in any order at any rank a
        // register reaches in practice. (A rank is at most 65 - registerBits:
        // `register(of:)`.)
        var sum = 0.0
        inversePowers.withUnsafeBufferPointer { inverse in
            for rank in 0...64 where byRank[rank] != 0 { sum += Double(byRank[rank]) * inverse[rank] }
        }
        let zeros = byRank[0]
        let alpha = 0.7213 / (1 + 1.079 / m)
        let raw = alpha * m * m / sum
        if raw <= 2.5 * m && zeros > 0 {
            return Int((m * log(m / Double(zeros))).rounded())
        }
        return Int(raw.rounded())
    }
}
