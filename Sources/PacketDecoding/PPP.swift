/// PPP (RFC 1661), as DLT_PPP frames and inside PPPoE sessions.
enum PPP {
    /// DLT_PPP: optional HDLC address/control bytes (0xFF 0x03), then the
    /// protocol number, one byte when compressed (odd low byte) or two.
    static func decode(_ frame: ByteCursor, into record: inout PacketRecord) -> DecodeFailure? {
        var bytes = frame
        if bytes.has(1, at: 0) && bytes.u8(at: 0) == 0xFF {  // HDLC all-stations address
            guard bytes.has(2, at: 0) else { return .linkTruncated }
            if bytes.u8(at: 1) == 0x03 { bytes = bytes.dropFirst(2) }
        }
        guard bytes.has(1, at: 0) else { return .linkTruncated }
        if bytes.u8(at: 0) & 0x01 == 1 {  // protocol field compression
            return decode(protocolNumber: UInt16(bytes.u8(at: 0)), bytes.dropFirst(1), into: &record)
        }
        guard bytes.has(2, at: 0) else { return .linkTruncated }
        return decode(protocolNumber: bytes.u16(at: 0), bytes.dropFirst(2), into: &record)
    }

    static func decode(protocolNumber: UInt16, _ bytes: ByteCursor, into record: inout PacketRecord) -> DecodeFailure? {
        switch protocolNumber {
        case 0x0021: return FrameDecoder.decodeIP(bytes, expectedVersion: 4, into: &record)
        case 0x0057: return FrameDecoder.decodeIP(bytes, expectedVersion: 6, into: &record)
        default: return .notIP
        }
    }
}
