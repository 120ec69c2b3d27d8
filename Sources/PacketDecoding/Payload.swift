/// The payload summary that signatures match on: stated length, captured
/// length, first eight bytes and a digest of the first 64.
enum Payload {
    @inline(__always)
    static func summarize(_ payload: ByteCursor, statedLength: Int, into record: inout PacketRecord) {
        let stated = max(0, statedLength)
        let captured = min(payload.count, stated)
        record.payloadLength = UInt32(clamping: stated)
        record.capturedPayloadLength = UInt32(captured)
        guard captured > 0 else { return }
        record.payloadPrefix = prefix(payload, captured: captured)
        record.payloadDigest = digest(payload, captured: captured)
    }

    /// The first eight bytes, big-endian, zero-padded.
    static func prefix(_ payload: ByteCursor, captured: Int) -> UInt64 {
        if captured >= 8 { return payload.u64(at: 0) }
        var prefix: UInt64 = 0
        for index in 0..<captured {
            prefix |= UInt64(payload.u8(at: index)) << (56 - 8 * UInt64(index))
        }
        return prefix
    }

    /// FNV-1a (64-bit prime and basis) over the first `PacketRecord.digestSpan`
    /// captured bytes, taken eight at a time (big-endian words, then the
    /// remaining bytes one by one), folded to 32 bits. Eight steps for a full
    /// span instead of 64: equal payload starts still give equal digests.
    static func digest(_ payload: ByteCursor, captured: Int) -> UInt32 {
        let span = min(captured, PacketRecord.digestSpan)
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        var offset = 0
        while offset + 8 <= span {
            hash = (hash ^ payload.u64(at: offset)) &* 0x0000_0100_0000_01B3
            offset += 8
        }
        while offset < span {
            hash = (hash ^ UInt64(payload.u8(at: offset))) &* 0x0000_0100_0000_01B3
            offset += 1
        }
        return UInt32(truncatingIfNeeded: hash ^ (hash >> 32))
    }
}
