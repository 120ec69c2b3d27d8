/// TCP (RFC 9293): ports, flags, sequence and acknowledgment numbers, window,
/// and a summary of the options block.
enum TCP {
    static let minimumHeaderLength = 20

    static func decode(_ bytes: ByteCursor, statedLength: Int, into record: inout PacketRecord) -> DecodeFailure? {
        guard bytes.has(minimumHeaderLength, at: 0) else { return .tcpTruncated }
        let headerLength = Int(bytes.u8(at: 12) >> 4) * 4
        guard headerLength >= minimumHeaderLength, headerLength <= statedLength else { return .tcpBadHeaderLength }

        record.sourcePort = bytes.u16(at: 0)
        record.destinationPort = bytes.u16(at: 2)
        record.tcp.sequence = bytes.u32(at: 4)
        record.tcp.acknowledgment = bytes.u32(at: 8)
        record.tcp.flags = bytes.u8(at: 13)
        record.tcp.window = bytes.u16(at: 14)
        record.tcp.headerLength = UInt8(headerLength)
        // Options cut short by a small snaplen still leave a usable packet:
        // summarise what was captured and say it is incomplete.
        record.tcp.options = summarizeOptions(bytes.prefix(headerLength).dropFirst(minimumHeaderLength),
                                              statedLength: headerLength - minimumHeaderLength)
        Payload.summarize(bytes.dropFirst(headerLength), statedLength: statedLength - headerLength, into: &record)
        return nil
    }

    /// Walks the options block, at most one step per byte (40 at most).
    static func summarizeOptions(_ options: ByteCursor, statedLength: Int) -> TCPOptionsSummary {
        var summary = TCPOptionsSummary()
        summary.incomplete = options.count < statedLength
        var offset = 0
        while options.has(1, at: offset) {
            let kind = options.u8(at: offset)
            if summary.count < 8 { summary.kinds |= UInt64(kind) << (8 * UInt64(summary.count)) }
            summary.count &+= 1
            if kind == 0 { break }  // end of option list
            if kind == 1 { offset += 1; continue }  // no-operation
            guard options.has(2, at: offset) else { summary.incomplete = true; break }
            let length = Int(options.u8(at: offset + 1))
            guard length >= 2 else { summary.incomplete = true; break }  // would loop forever
            guard options.has(length, at: offset) else { summary.incomplete = true; break }
            switch (kind, length) {
            case (2, 4): summary.mss = options.u16(at: offset + 2)
            case (3, 3): summary.windowScale = options.u8(at: offset + 2)
            case (4, 2): summary.sackPermitted = true
            case (8, 10): summary.hasTimestamp = true
            default: break
            }
            offset += length
        }
        return summary
    }
}
