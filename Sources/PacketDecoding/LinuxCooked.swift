/// Linux "cooked" captures, as written when capturing on the `any` device.
/// https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html and LINKTYPE_LINUX_SLL2.html
enum LinuxCooked {
    /// SLL v1: packet type, ARPHRD type, address length, 8 address bytes,
    /// then the protocol type (an EtherType for the cases that matter) at 14.
    static func decodeV1(_ bytes: ByteCursor, into record: inout PacketRecord) -> DecodeFailure? {
        guard bytes.has(16, at: 0) else { return .linkTruncated }
        return Ethernet.decodeTagged(etherType: bytes.u16(at: 14), bytes.dropFirst(16), into: &record)
    }

    /// SLL v2: the protocol type comes first, then interface index, ARPHRD
    /// type, packet type, address length and 8 address bytes: 20 bytes.
    static func decodeV2(_ bytes: ByteCursor, into record: inout PacketRecord) -> DecodeFailure? {
        guard bytes.has(20, at: 0) else { return .linkTruncated }
        return Ethernet.decodeTagged(etherType: bytes.u16(at: 0), bytes.dropFirst(20), into: &record)
    }
}
