/// IPv6 (RFC 8200), walking the extension-header chain to the transport:
/// hop-by-hop options, routing, fragment, destination options, and
/// authentication (RFC 4302). Other next-header values end the chain.
enum IPv6 {
    static let headerLength = 40

    /// More extension headers than any legitimate packet carries; beyond this
    /// the packet is called malformed (a classic evasion and DoS shape).
    static let maximumExtensionHeaders = 8

    static func decode(_ bytes: ByteCursor, into record: inout PacketRecord) -> DecodeFailure? {
        guard bytes.has(headerLength, at: 0) else { return .ipv6Truncated }
        var payloadLength = Int(bytes.u16(at: 4))
        if payloadLength == 0 {
            // A jumbogram (RFC 2675) or segmentation offload: use what was captured.
            payloadLength = bytes.count - headerLength
        }
        record.ipVersion = 6
        record.ipLength = UInt32(headerLength + payloadLength)
        record.ttl = bytes.u8(at: 7)
        record.source = IPAddress(high: bytes.u64(at: 8), low: bytes.u64(at: 16))
        record.destination = IPAddress(high: bytes.u64(at: 24), low: bytes.u64(at: 32))

        let packet = bytes.prefix(headerLength + payloadLength)
        var nextHeader = bytes.u8(at: 6)
        var offset = headerLength
        for _ in 0...maximumExtensionHeaders {
            switch nextHeader {
            case 0, 43, 60:  // hop-by-hop, routing, destination options: (length + 1) × 8 bytes
                guard packet.has(2, at: offset) else { return .ipv6ExtensionTruncated }
                let length = (Int(packet.u8(at: offset + 1)) + 1) * 8
                guard packet.has(length, at: offset) else { return .ipv6ExtensionTruncated }
                nextHeader = packet.u8(at: offset)
                offset += length
            case 51:  // authentication header: (length + 2) × 4 bytes
                guard packet.has(2, at: offset) else { return .ipv6ExtensionTruncated }
                let length = (Int(packet.u8(at: offset + 1)) + 2) * 4
                guard packet.has(length, at: offset) else { return .ipv6ExtensionTruncated }
                nextHeader = packet.u8(at: offset)
                offset += length
            case 44:  // fragment: fixed 8 bytes
                guard packet.has(8, at: offset) else { return .ipv6ExtensionTruncated }
                nextHeader = packet.u8(at: offset)
                let offsetAndFlags = packet.u16(at: offset + 2)
                record.fragment.offset = UInt32(offsetAndFlags >> 3) * 8
                record.fragment.moreFragments = offsetAndFlags & 0x0001 != 0
                record.ipID = packet.u32(at: offset + 4)
                offset += 8
            default:
                record.transport = TransportProtocol(rawValue: nextHeader)
                let statedPayload = max(0, headerLength + payloadLength - offset)
                if record.fragment.offset != 0 {
                    record.payloadLength = UInt32(statedPayload)
                    return nil  // a later fragment: no transport header here
                }
                return FrameDecoder.decodeTransport(packet.dropFirst(offset), statedLength: statedPayload, into: &record)
            }
        }
        return .ipv6TooManyExtensions
    }
}
