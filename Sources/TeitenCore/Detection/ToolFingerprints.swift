public import PacketDecoding

/// Scanning tools recognised by the habits of their TCP SYN probes:
///
/// - ZMap before 4.1: IPv4 identification fixed at 54321 (zmap's probe
///   module sets `ip_id = 54321`; 4.1 randomised it).
/// - masscan: identification = (destination address ⊕ destination port ⊕
///   sequence) & 0xffff, window 1024, with no options or (since late 2023)
///   an MSS option only.
/// - Mirai and its descendants: sequence number = destination IPv4 address.
/// - nmap SYN scan (-sS): window 1024, 2048, 3072 or 4096 and a single MSS
///   option, the habits of nmap's raw SYN probes (the window varies by probe;
///   the source port and sequence stay fixed within a scan). Checked after
///   masscan, whose window and option can look the same.
public enum ScanningTool: UInt8, Sendable, CaseIterable {
    case zmap, masscan, mirai, nmap

    public var name: String {
        switch self {
        case .zmap: "zmap"
        case .masscan: "masscan"
        case .mirai: "mirai"
        case .nmap: "nmap"
        }
    }

    /// The tool whose habits this TCP SYN shows, if any.
    @inline(__always)
    public static func fingerprint(_ packet: PacketRecord) -> ScanningTool? {
        guard packet.ipVersion == 4 else {
            return nmapShape(packet) ? .nmap : nil
        }
        let destination = packet.destination.ipv4
        let masscanID = (destination ^ UInt32(packet.destinationPort) ^ packet.tcp.sequence) & 0xFFFF
        if packet.ipID == masscanID && packet.tcp.window == 1024 && (packet.tcp.options.count == 0 || onlyMSS(packet)) {
            return .masscan
        }
        if packet.ipID == 54321 { return .zmap }
        if packet.tcp.sequence == destination { return .mirai }
        return nmapShape(packet) ? .nmap : nil
    }

    @inline(__always)
    static func onlyMSS(_ packet: PacketRecord) -> Bool {
        packet.tcp.options.count == 1 && packet.tcp.options.kinds == 2
    }

    @inline(__always)
    static func nmapShape(_ packet: PacketRecord) -> Bool {
        let window = packet.tcp.window
        return onlyMSS(packet) && (window == 1024 || window == 2048 || window == 3072 || window == 4096)
    }
}

/// Per-source tallies of TCP probes and of the fingerprints they carried,
/// in a fixed direct-mapped table (a colliding source replaces the old one,
/// counted as an eviction): memory stays flat under a spoofed flood.
struct FingerprintTally {
    private struct Entry {
        var key: UInt64 = 0
        var probes: UInt32 = 0
        var hits: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
    }

    private let entries: ZeroedStorage<Entry>
    private let mask: Int
    private(set) var evictions: UInt64 = 0

    init(capacity: Int) {
        var size = 1024
        while size < capacity { size <<= 1 }
        entries = ZeroedStorage(count: size)
        mask = size - 1
    }

    @inline(__always)
    func prefetch(source key: UInt64) { entries.prefetch(Int(truncatingIfNeeded: KeyHash.mix(key)) & mask) }

    @inline(__always)
    mutating func record(source key: UInt64, tool: ScanningTool?) {
        let slot = Int(truncatingIfNeeded: KeyHash.mix(key)) & mask
        if entries[slot].key != key {
            if entries[slot].probes != 0 { evictions &+= 1 }
            entries[slot] = Entry(key: key)
        }
        entries[slot].probes &+= 1
        switch tool {
        case .zmap: entries[slot].hits.0 &+= 1
        case .masscan: entries[slot].hits.1 &+= 1
        case .mirai: entries[slot].hits.2 &+= 1
        case .nmap: entries[slot].hits.3 &+= 1
        case nil: break
        }
    }

    /// The tool carried by more than `majority` of the source's TCP probes.
    func tool(of key: UInt64, majority: Double) -> ScanningTool? {
        let entry = entries[Int(truncatingIfNeeded: KeyHash.mix(key)) & mask]
        guard entry.key == key, entry.probes > 0 else { return nil }
        let counts = [entry.hits.0, entry.hits.1, entry.hits.2, entry.hits.3]
        guard let best = counts.indices.max(by: { counts[$0] < counts[$1] }) else { return nil }
        return Double(counts[best]) > majority * Double(entry.probes) ? ScanningTool(rawValue: UInt8(best)) : nil
    }
}
