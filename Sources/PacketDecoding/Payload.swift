/// The payload summary that signatures match on: stated length, captured
/// length, first eight bytes and a digest of the first 64.
enum Payload {
    static func summarize(_ payload: ByteCursor, statedLength: Int, into record: inout PacketRecord) {
        let stated = max(0, statedLength)
        let captured = min(payload.count, stated)
        record.payloadLength = UInt32(clamping: stated)
        record.capturedPayloadLength = UInt32(captured)
        guard captured > 0 else { return }

        var prefix: UInt64 = 0
        for index in 0..<min(captured, 8) {
            prefix |= UInt64(payload.u8(at: index)) << (56 - 8 * UInt64(index))
        }
        record.payloadPrefix = prefix

        // FNV-1a, 32-bit (offset basis 2166136261, prime 16777619).
        var hash: UInt32 = 2_166_136_261
        for index in 0..<min(captured, PacketRecord.digestSpan) {
            hash = (hash ^ UInt32(payload.u8(at: index))) &* 16_777_619
        }
        record.payloadDigest = hash
    }
}
