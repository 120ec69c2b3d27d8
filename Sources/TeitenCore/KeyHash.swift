public import PacketDecoding

/// Table keys packed into one 64-bit integer. Addresses and small fields are
/// mixed with a strong 64-bit finaliser (Stafford's variant 13 of MurmurHash3's
/// fmix64), so distinct keys collide with probability ~2^-64 per pair, far
/// below anything a table of a few hundred thousand keys could meet.
public enum KeyHash {
    @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    public static func address(_ address: IPAddress) -> UInt64 {
        address.isIPv4 ? UInt64(address.ipv4) : mix(address.high ^ mix(address.low))
    }

    /// A key from an address and a 64-bit tag (other fields packed by the caller).
    @inline(__always)
    public static func key(_ a: IPAddress, _ tag: UInt64) -> UInt64 {
        mix(address(a) &+ mix(tag ^ 0x5851_F42D_4C95_7F2D))
    }

    @inline(__always)
    public static func key(_ a: IPAddress, _ b: IPAddress, _ tag: UInt64) -> UInt64 {
        mix(address(a) ^ mix(address(b) &+ mix(tag)))
    }

    /// A 32-bit element for window tables: IPv4 exactly, IPv6 hashed.
    @inline(__always)
    public static func element(_ address: IPAddress) -> UInt32 {
        address.isIPv4 ? address.ipv4 : UInt32(truncatingIfNeeded: mix(address.high ^ mix(address.low)))
    }
}
