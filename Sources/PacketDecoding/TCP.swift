/// TCP (RFC 9293): ports, flags, sequence and acknowledgment numbers, window,
/// and a summary of the options block.
enum TCP {
    static let minimumHeaderLength = 20

    @inline(__always)
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
        if headerLength > minimumHeaderLength {
            summarizeOptions(bytes.prefix(headerLength).dropFirst(minimumHeaderLength),
                             statedLength: headerLength - minimumHeaderLength, into: &record.tcp.options)
        }
        Payload.summarize(bytes.dropFirst(headerLength), statedLength: statedLength - headerLength, into: &record)
        return nil
    }

    /// Walks the options block, at most one step per byte (40 at most).
    /// Kept tight: it runs for every SYN, the bulk of darknet traffic.
    static func summarizeOptions(_ options: ByteCursor, statedLength: Int, into summary: inout TCPOptionsSummary) {
        let end = options.count
        var incomplete = end < statedLength
        var kinds: UInt64 = 0
        var count = 0
        var offset = 0
        while offset < end {
            let kind = options.u8(at: offset)
            if count < 8 { kinds |= UInt64(kind) &<< UInt64(count &* 8) }
            count &+= 1
            if kind == 0 { break }                         // end of option list
            if kind == 1 { offset &+= 1; continue }        // no-operation
            // A length below 2 would never advance; past the end, the option was cut.
            guard offset &+ 1 < end else { incomplete = true; break }
            let length = Int(options.u8(at: offset &+ 1))
            guard length >= 2, length <= end &- offset else { incomplete = true; break }
            switch kind {
            case 2 where length == 4: summary.mss = options.u16(at: offset &+ 2)
            case 3 where length == 3: summary.windowScale = options.u8(at: offset &+ 2)
            case 4 where length == 2: summary.sackPermitted = true
            case 8 where length == 10: summary.hasTimestamp = true
            default: break
            }
            offset &+= length
        }
        summary.kinds = kinds
        summary.count = UInt8(truncatingIfNeeded: count)
        summary.incomplete = incomplete
    }
}
