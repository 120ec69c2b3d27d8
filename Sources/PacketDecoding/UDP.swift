/// UDP (RFC 768): ports, the length the header states, and the payload summary.
enum UDP {
    static let headerLength = 8

    static func decode(_ bytes: ByteCursor, statedLength: Int, into record: inout PacketRecord) -> DecodeFailure? {
        guard bytes.has(headerLength, at: 0) else { return .udpTruncated }
        let udpLength = Int(bytes.u16(at: 4))
        guard udpLength >= headerLength else { return .udpBadLength }
        record.sourcePort = bytes.u16(at: 0)
        record.destinationPort = bytes.u16(at: 2)
        // A UDP length beyond the IP payload is a lie (or a crafted evasion):
        // trust the smaller of the two, as the receiving stack would.
        let payload = min(udpLength, statedLength) - headerLength
        Payload.summarize(bytes.prefix(headerLength + payload).dropFirst(headerLength), statedLength: payload, into: &record)
        return nil
    }
}
