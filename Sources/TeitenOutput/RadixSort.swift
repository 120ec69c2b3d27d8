/// Least-significant-digit radix sort of 64-bit values on a range of their
/// bits, 11 bits a pass: the count-file writer sorts an hour's rows (a key
/// of 43 bits each, up to millions of rows) in four linear passes, where a
/// comparison sort took a sixth of the time the run waits for the last
/// hour's file after its last packet.
enum RadixSort {
    static let digitBits = 11

    /// Sorts `values` by their bits `bits` (as an unsigned number; other
    /// bits do not take part, and values equal there keep their order).
    static func sort(_ values: inout [UInt64], bits: Range<Int>) {
        guard values.count > 1, !bits.isEmpty else { return }
        let radix = 1 << digitBits, digitMask = UInt64(radix - 1)
        var scratch = [UInt64](repeating: 0, count: values.count)
        var starts = [Int](repeating: 0, count: radix)
        var shift = bits.lowerBound
        while shift < bits.upperBound {
            // The last digit may reach past the range: mask it to the range.
            let width = min(digitBits, bits.upperBound - shift)
            let mask = digitMask >> UInt64(digitBits - width)
            values.withUnsafeBufferPointer { source in
                scratch.withUnsafeMutableBufferPointer { target in
                    starts.withUnsafeMutableBufferPointer { starts in
                        for index in starts.indices { starts[index] = 0 }
                        for value in source { starts[Int(value >> UInt64(shift) & mask)] &+= 1 }
                        var position = 0
                        for digit in 0..<(Int(mask) + 1) {
                            let count = starts[digit]
                            starts[digit] = position
                            position &+= count
                        }
                        for value in source {
                            let digit = Int(value >> UInt64(shift) & mask)
                            target[starts[digit]] = value
                            starts[digit] &+= 1
                        }
                    }
                }
            }
            swap(&values, &scratch)
            shift += width
        }
    }
}
