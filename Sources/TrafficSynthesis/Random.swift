/// xoshiro256** seeded through SplitMix64 (Blackman and Vigna): fast, small
/// and the same sequence on every platform, so the same seed writes the same
/// bytes. (Swift's SystemRandomNumberGenerator is not seedable.)
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// Uniform in 0..<bound (bound > 0), by Lemire's multiply-shift; the tiny
    /// bias is irrelevant here and the result is platform-independent.
    public mutating func below(_ bound: Int) -> Int {
        Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    public mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    public mutating func u16() -> UInt16 { UInt16(truncatingIfNeeded: next()) }
    public mutating func u32() -> UInt32 { UInt32(truncatingIfNeeded: next()) }
}

/// Draws indices 0..<count with Zipf weights 1/(rank+1) (exponent 1, the
/// law port and source popularity roughly follow in darknet data), by binary
/// search over the cumulative weights. Built once; each draw is O(log n).
public struct ZipfTable: Sendable {
    private let cumulative: [Double]

    public init(count: Int) {
        precondition(count > 0)
        var total = 0.0
        var sums: [Double] = []
        sums.reserveCapacity(count)
        for rank in 0..<count {
            total += 1.0 / Double(rank + 1)
            sums.append(total)
        }
        cumulative = sums.map { $0 / total }
    }

    public func draw(_ random: inout SeededGenerator) -> Int {
        let u = random.unit()
        var low = 0, high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] > u { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
