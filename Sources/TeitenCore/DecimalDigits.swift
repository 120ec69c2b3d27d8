/// Unsigned integers as ASCII decimal, appended to a byte buffer: the one
/// digit writer behind the alert lines (`JSONBytes`) and RFC 3339 times
/// (`UTCTime`), which are written for every alert and must not build a
/// `String` per number.
public enum DecimalDigits {
    /// `value` in decimal, left-padded with zeros to at least `width` digits
    /// (24 at most).
    @inline(__always)
    public static func append(_ value: UInt64, width: Int = 1, to bytes: inout [UInt8]) {
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: UInt64.max has 20 digits
        withUnsafeMutableBytes(of: &scratch) { buffer in
            let base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let count = write(value, width: min(width, buffer.count), to: base)
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: base, count: count))
        }
    }

    /// `value` in decimal at `out`, left-padded with zeros to at least
    /// `width` digits; returns how many bytes it wrote (at most
    /// max(20, `width`)). For writers that fill a buffer of their own
    /// (the count files), where appending to an array per field cost more
    /// than the digits.
    @inline(__always)
    public static func write(_ value: UInt64, width: Int = 1, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits &+= 1
            rest /= 10
        }
        let count = max(digits, width)
        var position = count
        rest = value
        repeat {
            position &-= 1
            out[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        } while position > 0
        return count
    }
}
