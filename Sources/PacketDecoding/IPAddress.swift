/// An IPv4 or IPv6 address as two integers, so it hashes, compares and packs
/// into table keys without allocation. IPv4 addresses are held in their
/// IPv4-mapped IPv6 form (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2).
public struct IPAddress: Sendable, Hashable, Comparable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init(ipv4 value: UInt32) {
        high = 0
        low = 0x0000_FFFF_0000_0000 | UInt64(value)
    }

    public static let zero = IPAddress(high: 0, low: 0)

    public var isIPv4: Bool { high == 0 && (low >> 32) == 0x0000_FFFF }

    /// The IPv4 address as an integer; meaningful only when `isIPv4`.
    public var ipv4: UInt32 { UInt32(truncatingIfNeeded: low) }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
    }
}

extension IPAddress: CustomStringConvertible {
    /// Dotted quad for IPv4, RFC 5952 text for IPv6 (lower case, longest run
    /// of zero groups compressed).
    public var description: String {
        if isIPv4 {
            let v = ipv4
            return "\(v >> 24).\((v >> 16) & 0xff).\((v >> 8) & 0xff).\(v & 0xff)"
        }
        var groups = SIMD8<UInt16>()  // in registers: no array per address (country files parse 550,000 of them)
        for i in 0..<4 {
            groups[i] = UInt16(truncatingIfNeeded: high >> (48 - 16 * UInt64(i)))
            groups[i + 4] = UInt16(truncatingIfNeeded: low >> (48 - 16 * UInt64(i)))
        }
        // Longest run of at least two zero groups, first one on ties (RFC 5952 §4.2).
        var bestStart = -1, bestLength = 0, runStart = -1
        for i in 0...8 {
            if i < 8 && groups[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        var text = ""
        var i = 0
        while i < 8 {
            if i == bestStart {
                text += "::"
                i += bestLength
                continue
            }
            if !text.isEmpty && !text.hasSuffix(":") { text += ":" }
            text += String(groups[i], radix: 16)
            i += 1
        }
        return text
    }
}

extension IPAddress {
    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (with `::` and an
    /// embedded dotted quad). Returns nil for anything else.
    public init?(_ text: some StringProtocol) {
        var text = String(text)
        guard let parsed = text.withUTF8({ IPAddress.parse($0) }) else { return nil }
        self = parsed
    }

    /// The same parser over bytes, for loading large range files without
    /// building a String per field.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> IPAddress? {
        guard !bytes.isEmpty else { return nil }
        if !bytes.contains(UInt8(ascii: ":")) {
            return parseIPv4(bytes, from: 0, to: bytes.count).map { IPAddress(ipv4: $0) }
        }
        // One pass, the groups shifted into a 128-bit value as they come:
        // the country files parse 550,000 of these before the first packet.
        // Groups before a "::" are set aside (`head`) and moved up past the
        // gap at the end.
        var high: UInt64 = 0, low: UInt64 = 0
        var headHigh: UInt64 = 0, headLow: UInt64 = 0, headGroups = -1  // -1: no "::"
        var groups = 0
        var index = 0
        let end = bytes.count
        if bytes[0] == UInt8(ascii: ":") {
            guard end >= 2 && bytes[1] == UInt8(ascii: ":") else { return nil }
            headGroups = 0
            index = 2
        }
        while index < end {
            let fieldStart = index
            var value: UInt64 = 0
            while index < end, let nibble = hexValue(bytes[index]) {
                value = value << 4 | UInt64(nibble)
                index += 1
            }
            var fieldGroups = 1
            if index < end && bytes[index] == UInt8(ascii: ".") {  // an embedded dotted quad ends the address
                guard let v4 = parseIPv4(bytes, from: fieldStart, to: end) else { return nil }
                value = UInt64(v4)
                fieldGroups = 2
                index = end
            } else {
                guard (1...4).contains(index - fieldStart) else { return nil }
            }
            guard groups + fieldGroups <= 8 else { return nil }
            high = high << (16 * fieldGroups) | low >> (64 - 16 * fieldGroups)
            low = low << (16 * fieldGroups) | value
            groups += fieldGroups
            guard index < end else { break }
            guard bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            if index < end && bytes[index] == UInt8(ascii: ":") {
                guard headGroups < 0 else { return nil }  // a second "::"
                headHigh = high; headLow = low; headGroups = groups
                high = 0; low = 0
                index += 1
            } else if index == end {
                return nil  // a trailing single colon
            }
        }
        if headGroups >= 0 {
            guard groups < 8 else { return nil }  // "::" stands for one group at least
            // The head's groups move up by the groups the gap and tail take.
            let shift = 16 * (8 - headGroups)
            if shift >= 64 {
                high |= headLow << (shift - 64)
            } else {
                high |= headHigh << shift | headLow >> (64 - shift)
                low |= headLow << shift
            }
        } else {
            guard groups == 8 else { return nil }
        }
        return IPAddress(high: high, low: low)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func parseIPv4(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> UInt32? {
        var value: UInt32 = 0, octet: UInt32 = 0, digits = 0, dots = 0
        for index in start..<end {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") {
                guard digits > 0, dots < 3 else { return nil }
                value = value << 8 | octet
                octet = 0; digits = 0; dots += 1
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                guard digits < 3 else { return nil }
                octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
                guard octet <= 255 else { return nil }
                digits += 1
            } else {
                return nil
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        return value << 8 | octet
    }
}
