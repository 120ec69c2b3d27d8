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

    /// 2^-rank for every rank a register can hold: the estimate's sum adds
    /// these in register order, without a division per register.
    private static let inversePowers: [Double] = (0...64).map { Double(sign: .plus, exponent: -$0, significand: 1) }

    /// The distinct count that `registers` estimate (with the small-range
    /// correction: linear counting while registers are still empty).
    static func estimate(_ registers: UnsafeBufferPointer<UInt8>) -> Int {
        let m = Double(registers.count)
        var sum = 0.0, zeros = 0
        inversePowers.withUnsafeBufferPointer { inverse in
            for register in registers {
                sum += inverse[Int(register)]
                if register == 0 { zeros += 1 }
            }
        }
        let alpha = 0.7213 / (1 + 1.079 / m)
        let raw = alpha * m * m / sum
        if raw <= 2.5 * m && zeros > 0 {
            return Int((m * log(m / Double(zeros))).rounded())
        }
        return Int(raw.rounded())
    }
}
