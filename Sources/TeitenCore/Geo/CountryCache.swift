internal import PacketDecoding

/// One country lookup per packet at most, and usually none: darknet sources
/// repeat, so a direct-mapped cache of recent IPv4 sources (65,536 entries,
/// a colliding source replaces the old) answers most packets without a
/// search. IPv6 sources have a cache of their own (16,384 whole addresses),
/// since their search runs over 276,000 ranges of 16-byte bounds.
///
/// A slot is one word: the address tagged with bit 32 (0 means empty) in
/// the high bits, the country code in the low 16, so a hit costs one load.
///
/// A database that answers IPv4 in one load (its /24 table, no MaxMind
/// file behind it) is asked directly: the cache would only add a line.
struct CountryCache {
    let database: CountryDatabase
    private let slots = ZeroedStorage<UInt64>(count: 65536)
    private let direct: Bool

    private struct IPv6Slot {
        var high: UInt64 = 0
        var low: UInt64 = 0
        var code: UInt16 = 0
        var used = false
    }
    private let ipv6Slots = ZeroedStorage<IPv6Slot>(count: 16384)

    init(database: CountryDatabase) {
        self.database = database
        direct = database.answersIPv4Directly
    }

    /// Look-ahead (SensorPipeline): the line of `address`'s slot, and
    /// where the database's search would start should the slot not hold it
    /// (a one-off source, the commonest kind on a darknet).
    @inline(__always)
    func prefetch(_ address: IPAddress) {
        guard address.isIPv4 else {
            ipv6Slots.prefetch(Self.slot(ipv6: address))
            return
        }
        if !direct { slots.prefetch(Self.slot(address.ipv4)) }
        database.prefetch(address)
    }

    /// Look-ahead, later steps (2 and 3): what the database's step before
    /// leads to (its /24 table's lines), when the database is asked directly.
    @inline(__always)
    func prefetch(_ address: IPAddress, step: Int) {
        if direct { database.prefetch(address, step: step) }
    }

    @inline(__always)
    func code(of address: IPAddress) -> UInt16 {
        guard address.isIPv4 else { return ipv6Code(of: address) }
        guard !direct else { return database.code(of: address) }
        let value = address.ipv4
        let slot = Self.slot(value)
        let tag = (UInt64(value) | 1 << 32) << 16
        let held = slots[slot]
        if held & ~0xFFFF == tag { return UInt16(truncatingIfNeeded: held) }
        let code = database.code(of: address)
        slots[slot] = tag | UInt64(code)
        return code
    }

    @inline(__always)
    private func ipv6Code(of address: IPAddress) -> UInt16 {
        let slot = ipv6Slots.base + Self.slot(ipv6: address)
        if slot.pointee.used && slot.pointee.high == address.high && slot.pointee.low == address.low { return slot.pointee.code }
        let code = database.code(of: address)
        slot.pointee = IPv6Slot(high: address.high, low: address.low, code: code, used: true)
        return code
    }

    @inline(__always)
    private static func slot(ipv6 address: IPAddress) -> Int {
        Int(truncatingIfNeeded: KeyHash.mix(address.high &+ address.low &* 0x9E37_79B9_7F4A_7C15) >> 50)
    }

    @inline(__always)
    private static func slot(_ value: UInt32) -> Int {
        Int(truncatingIfNeeded: (UInt64(value) &* 0x9E37_79B9_7F4A_7C15) >> 48)
    }
}
