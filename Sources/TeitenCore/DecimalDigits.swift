/// Unsigned integers as ASCII decimal, appended to a byte buffer: the one
/// digit writer behind the alert lines (`JSONBytes`) and RFC 3339 times
/// (`UTCTime`), which are written for every alert and must not build a
/// `String` per number.
public enum DecimalDigits {
    /// `value` in decimal, left-padded with zeros to at least `width` digits.
    @inline(__always)
    public static func append(_ value: UInt64, width: Int = 1, to bytes: inout [UInt8]) {
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: UInt64.max has 20 digits
        withUnsafeMutableBytes(of: &scratch) { buffer in
            let limit = max(0, buffer.count - width)
            var position = buffer.count
            var rest = value
            repeat {
                position -= 1
                buffer[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest > 0 || position > limit
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[position...]))
        }
    }
}
