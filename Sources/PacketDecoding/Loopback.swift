/// BSD loopback encapsulations: a 4-byte address family before the IP header.
enum Loopback {
    /// DLT_NULL: the family is in the byte order of the host that captured,
    /// which the reader cannot know; a real family value is small, so the
    /// byte order whose value fits in 16 bits is the right one.
    static func decodeNull(_ bytes: ByteCursor, into record: inout PacketRecord) -> DecodeFailure? {
        guard bytes.has(4, at: 0) else { return .linkTruncated }
        var family = bytes.u32LittleEndian(at: 0)
        if family > 0xFFFF { family = family.byteSwapped }
        return decode(family: family, bytes.dropFirst(4), into: &record)
    }

    /// DLT_LOOP: the family in network byte order.
    static func decodeLoop(_ bytes: ByteCursor, into record: inout PacketRecord) -> DecodeFailure? {
        guard bytes.has(4, at: 0) else { return .linkTruncated }
        return decode(family: bytes.u32(at: 0), bytes.dropFirst(4), into: &record)
    }

    private static func decode(family: UInt32, _ bytes: ByteCursor, into record: inout PacketRecord) -> DecodeFailure? {
        switch family {
        case 2: return FrameDecoder.decodeIP(bytes, expectedVersion: 4, into: &record)  // AF_INET everywhere
        // AF_INET6: 24 NetBSD/OpenBSD, 28 FreeBSD/DragonFly, 30 macOS, 10 Linux.
        case 10, 24, 28, 30: return FrameDecoder.decodeIP(bytes, expectedVersion: 6, into: &record)
        default: return .notIP
        }
    }
}
