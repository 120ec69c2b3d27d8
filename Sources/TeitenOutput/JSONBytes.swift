internal import TeitenCore
internal import PacketDecoding

/// A JSON text built as bytes, for lines written on every alert: literals,
/// escaped strings, integers and RFC 3339 times appended in place, with no
/// intermediate `String` per field. (Building the alert line out of
/// `String` pieces cost about 8 µs a line, 2.2 s of CPU for the
/// benchmark's 290,000 lines; bytes take a fifth of that.)
public struct JSONBytes {
    public private(set) var bytes: [UInt8] = []

    public init(reservingCapacity capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    /// ASCII text known at compile time: punctuation and field names.
    @inline(__always)
    mutating func literal(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    @inline(__always)
    mutating func byte(_ value: UInt8) { bytes.append(value) }

    /// `"name":`, preceded by a comma unless it is the object's first field.
    @inline(__always)
    mutating func key(_ name: StaticString) {
        if let last = bytes.last, last != UInt8(ascii: "{") { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        literal(name)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// A JSON string literal: quotes, backslash and control characters
    /// escaped (`\n`, `\r`, `\t`, else `\u00XX`); everything else as UTF-8.
    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\""): literal("\\\"")
                case UInt8(ascii: "\\"): literal("\\\\")
                case UInt8(ascii: "\n"): literal("\\n")
                case UInt8(ascii: "\r"): literal("\\r")
                case UInt8(ascii: "\t"): literal("\\t")
                case 0..<0x20:
                    literal("\\u00")
                    bytes.append(Self.hexDigit(byte >> 4))
                    bytes.append(Self.hexDigit(byte & 0xF))
                default: bytes.append(byte)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A string, or `null`.
    mutating func string(_ text: String?) {
        if let text { string(text) } else { literal("null") }
    }

    mutating func integer(_ value: Int) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        unsigned(UInt64(value.magnitude))
    }

    mutating func unsigned(_ value: UInt64) { DecimalDigits.append(value, to: &bytes) }

    /// `"2026-11-21T13:05:09.123456Z"` (`UTCTime.rfc3339`, quoted).
    mutating func time(_ time: PacketTime) {
        bytes.append(UInt8(ascii: "\""))
        UTCTime.append(rfc3339: time, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// An address as a quoted string (dotted quad for IPv4, RFC 5952 for IPv6).
    mutating func address(_ address: IPAddress) {
        guard address.isIPv4 else { return string(address.description) }
        let value = address.ipv4
        bytes.append(UInt8(ascii: "\""))
        for shift in stride(from: 24, through: 0, by: -8) {
            DecimalDigits.append(UInt64((value >> UInt32(shift)) & 0xFF), to: &bytes)
            if shift > 0 { bytes.append(UInt8(ascii: ".")) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// `[1,2,3]`.
    mutating func array(_ values: [Int]) {
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            integer(value)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") &+ value : UInt8(ascii: "a") &+ value &- 10
    }
}
