/// IPv4 (RFC 791). Options are skipped by the header length; the transport
/// is decoded only for an unfragmented packet or a first fragment.
enum IPv4 {
    static let minimumHeaderLength = 20

    @inline(__always)
    static func decode(_ bytes: ByteCursor, into record: inout PacketRecord) -> DecodeFailure? {
        guard bytes.has(minimumHeaderLength, at: 0) else { return .ipv4Truncated }
        let headerLength = Int(bytes.u8(at: 0) & 0x0F) * 4
        guard headerLength >= minimumHeaderLength else { return .ipv4BadHeaderLength }
        guard bytes.has(headerLength, at: 0) else { return .ipv4Truncated }

        var totalLength = Int(bytes.u16(at: 2))
        if totalLength == 0 {
            // Segmentation offload on the capturing host leaves 0 here in
            // outgoing packets; the captured bytes are the packet.
            totalLength = bytes.count
        }
        guard totalLength >= headerLength else { return .ipv4BadTotalLength }

        record.ipVersion = 4
        record.ipLength = UInt32(totalLength)
        record.ipID = UInt32(bytes.u16(at: 4))
        let flagsAndOffset = bytes.u16(at: 6)
        record.fragment.moreFragments = flagsAndOffset & 0x2000 != 0
        record.fragment.offset = UInt32(flagsAndOffset & 0x1FFF) * 8
        record.ttl = bytes.u8(at: 8)
        record.transport = TransportProtocol(rawValue: bytes.u8(at: 9))
        record.source = IPAddress(ipv4: bytes.u32(at: 12))
        record.destination = IPAddress(ipv4: bytes.u32(at: 16))

        let statedPayload = totalLength - headerLength
        if record.fragment.offset != 0 {
            record.payloadLength = UInt32(statedPayload)
            return nil  // a later fragment: no transport header here
        }
        // Bound the transport by the stated length, so Ethernet padding is never payload.
        let transport = bytes.prefix(totalLength).dropFirst(headerLength)
        return FrameDecoder.decodeTransport(transport, statedLength: statedPayload, into: &record)
    }
}
