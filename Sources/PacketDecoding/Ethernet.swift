/// Ethernet II, with any stack of 802.1Q / 802.1ad (Q-in-Q) tags, MPLS labels
/// and PPPoE sessions between the MAC header and IP.
enum Ethernet {
    static let headerLength = 14

    @inline(__always)
    static func decode(_ bytes: ByteCursor, into record: inout PacketRecord) -> DecodeFailure? {
        guard bytes.has(headerLength, at: 0) else { return .linkTruncated }
        return decodeTagged(etherType: bytes.u16(at: 12), bytes.dropFirst(headerLength), into: &record)
    }

    /// Peels tags until an EtherType that names a network layer. Bounded by
    /// `FrameDecoder.maximumEncapsulations`.
    static func decodeTagged(etherType first: UInt16, _ payload: ByteCursor, into record: inout PacketRecord) -> DecodeFailure? {
        var etherType = first
        var bytes = payload
        for _ in 0..<FrameDecoder.maximumEncapsulations {
            switch etherType {
            case EtherType.vlan, EtherType.qinq, EtherType.qinqLegacy, EtherType.qinqLegacy2:
                // Tag control information (2 bytes), then the inner EtherType.
                guard bytes.has(4, at: 0) else { return .linkTruncated }
                etherType = bytes.u16(at: 2)
                bytes = bytes.dropFirst(4)
            case EtherType.mplsUnicast, EtherType.mplsMulticast:
                return MPLS.decode(bytes, into: &record)
            case EtherType.pppoeSession:
                // Version/type, code, session id, length (6 bytes), then a PPP protocol number.
                guard bytes.has(8, at: 0) else { return .linkTruncated }
                let pppoeLength = Int(bytes.u16(at: 4))
                return PPP.decode(protocolNumber: bytes.u16(at: 6), bytes.dropFirst(8).prefix(pppoeLength - 2), into: &record)
            default:
                return FrameDecoder.decode(etherType: etherType, bytes, into: &record)
            }
        }
        return .tooManyEncapsulations
    }
}

/// MPLS label stack (RFC 3032). The payload type is not signalled; like
/// tcpdump and Suricata, it is guessed from the first nibble after the label
/// with the bottom-of-stack bit.
enum MPLS {
    static func decode(_ payload: ByteCursor, into record: inout PacketRecord) -> DecodeFailure? {
        var bytes = payload
        for _ in 0..<FrameDecoder.maximumEncapsulations {
            guard bytes.has(4, at: 0) else { return .linkTruncated }
            let bottomOfStack = bytes.u8(at: 2) & 0x01 != 0
            bytes = bytes.dropFirst(4)
            if bottomOfStack {
                guard bytes.has(1, at: 0) else { return .linkTruncated }
                switch bytes.u8(at: 0) >> 4 {
                case 4, 6: return FrameDecoder.decodeIP(bytes, into: &record)
                default: return .notIP  // pseudowire (Ethernet over MPLS) and others
                }
            }
        }
        return .tooManyEncapsulations
    }
}
