internal import PacketDecoding

/// One country lookup per packet at most, and usually none: darknet sources
/// repeat, so a direct-mapped cache of recent IPv4 sources (65,536 entries,
/// a colliding source replaces the old) answers most packets without a
/// search. IPv6 sources go to the database.
struct CountryCache {
    let database: CountryDatabase
    private let keys = ZeroedStorage<UInt64>(count: 65536)
    private let codes = ZeroedStorage<UInt16>(count: 65536)

    init(database: CountryDatabase) { self.database = database }

    @inline(__always)
    func code(of address: IPAddress) -> UInt16 {
        guard address.isIPv4 else { return database.code(of: address) }
        let value = address.ipv4
        let slot = Int(truncatingIfNeeded: (UInt64(value) &* 0x9E37_79B9_7F4A_7C15) >> 48)
        let tagged = UInt64(value) | 1 << 32  // 0 means an empty slot
        if keys[slot] == tagged { return codes[slot] }
        let code = database.code(of: address)
        keys[slot] = tagged
        codes[slot] = code
        return code
    }
}
