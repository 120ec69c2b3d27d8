/// ICMP (RFC 792) and ICMPv6 (RFC 4443): type and code; the rest of the
/// message is payload (echo data, or the offending packet of an error).
enum ICMP {
    static let headerLength = 4  // type, code, checksum

    static func decode(_ bytes: ByteCursor, statedLength: Int, version: UInt8, into record: inout PacketRecord) -> DecodeFailure? {
        guard bytes.has(headerLength, at: 0) else { return version == 4 ? .icmpTruncated : .icmp6Truncated }
        record.icmpType = bytes.u8(at: 0)
        record.icmpCode = bytes.u8(at: 1)
        Payload.summarize(bytes.dropFirst(headerLength), statedLength: statedLength - headerLength, into: &record)
        return nil
    }
}
