/// Bytes in, `PacketRecord` out. The entry point of the decoder, and the map of
/// where a frame goes: link layer (Ethernet.swift, LinuxCooked.swift,
/// Loopback.swift, PPP.swift) → network layer (IPv4.swift, IPv6.swift) →
/// transport (TCP.swift, UDP.swift, ICMP.swift) → payload (Payload.swift).
///
/// Decoding allocates nothing and never traps: every length in a header is
/// checked against the captured bytes before it is used.
public enum FrameDecoder {
    /// Decodes one captured frame into `record`. Returns nil on success, or
    /// the reason the frame is not a decodable IP packet; `record` is then
    /// partly filled and must not be used.
    ///
    /// `time` and `wireLength` come from the capture record header.
    public static func decode(
        _ frame: UnsafeRawBufferPointer,
        linkType: LinkType,
        time: PacketTime,
        wireLength: UInt32,
        into record: inout PacketRecord
    ) -> DecodeFailure? {
        record = PacketRecord()
        record.time = time
        record.wireLength = wireLength
        let bytes = ByteCursor(frame)
        switch linkType {
        case .ethernet: return Ethernet.decode(bytes, into: &record)
        case .linuxSLL: return LinuxCooked.decodeV1(bytes, into: &record)
        case .linuxSLL2: return LinuxCooked.decodeV2(bytes, into: &record)
        case .null: return Loopback.decodeNull(bytes, into: &record)
        case .loop: return Loopback.decodeLoop(bytes, into: &record)
        case .ppp: return PPP.decode(bytes, into: &record)
        case .raw: return decodeIP(bytes, into: &record)
        case .rawIPv4: return decodeIP(bytes, expectedVersion: 4, into: &record)
        case .rawIPv6: return decodeIP(bytes, expectedVersion: 6, into: &record)
        case .unsupported: return .unsupportedLinkType
        }
    }

    /// The network layer, by EtherType (Ethernet, SLL, SLL2, PPPoE all name
    /// their payload with one).
    @inline(__always)
    static func decode(etherType: UInt16, _ bytes: ByteCursor, into record: inout PacketRecord) -> DecodeFailure? {
        switch etherType {
        case EtherType.ipv4: return decodeIP(bytes, expectedVersion: 4, into: &record)
        case EtherType.ipv6: return decodeIP(bytes, expectedVersion: 6, into: &record)
        default: return .notIP
        }
    }

    /// IPv4 or IPv6 by the version nibble; `expectedVersion` (from a link
    /// layer type field) must agree with it when given.
    @inline(__always)
    static func decodeIP(_ bytes: ByteCursor, expectedVersion: UInt8? = nil, into record: inout PacketRecord) -> DecodeFailure? {
        guard bytes.has(1, at: 0) else { return expectedVersion == 6 ? .ipv6Truncated : .ipv4Truncated }
        let version = bytes.u8(at: 0) >> 4
        if let expectedVersion, expectedVersion != version { return .badIPVersion }
        switch version {
        case 4: return IPv4.decode(bytes, into: &record)
        case 6: return IPv6.decode(bytes, into: &record)
        default: return .badIPVersion
        }
    }

    /// The transport layer of a first fragment or an unfragmented packet.
    /// `bytes` starts at the transport header and ends where the IP header
    /// says the packet ends (or where the capture does, if sooner).
    @inline(__always)
    static func decodeTransport(_ bytes: ByteCursor, statedLength: Int, into record: inout PacketRecord) -> DecodeFailure? {
        switch record.transport {
        case .tcp: return TCP.decode(bytes, statedLength: statedLength, into: &record)
        case .udp: return UDP.decode(bytes, statedLength: statedLength, into: &record)
        case .icmp: return ICMP.decode(bytes, statedLength: statedLength, version: 4, into: &record)
        case .icmp6: return ICMP.decode(bytes, statedLength: statedLength, version: 6, into: &record)
        default:
            record.payloadLength = UInt32(clamping: statedLength)
            return nil
        }
    }

    /// The largest number of nested link-layer encapsulations (VLAN tags, MPLS
    /// labels, PPPoE) followed before a frame is called malformed: real
    /// networks stack two or three; a crafted frame can stack hundreds.
    static let maximumEncapsulations = 8
}

/// EtherType values the decoder follows.
enum EtherType {
    static let ipv4: UInt16 = 0x0800
    static let ipv6: UInt16 = 0x86DD
    static let vlan: UInt16 = 0x8100        // 802.1Q
    static let qinq: UInt16 = 0x88A8        // 802.1ad service tag
    static let qinqLegacy: UInt16 = 0x9100  // pre-standard Q-in-Q
    static let qinqLegacy2: UInt16 = 0x9200
    static let mplsUnicast: UInt16 = 0x8847
    static let mplsMulticast: UInt16 = 0x8848
    static let pppoeSession: UInt16 = 0x8864
}
