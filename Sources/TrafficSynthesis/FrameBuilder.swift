/// Builds frames byte by byte, with correct lengths and checksums, for the
/// synthesiser and for tests that need packets of a known shape. Not on any
/// hot path: clarity over speed.
public enum FrameBuilder {
    // MARK: Transport

    /// A TCP segment (header, options, payload) without its IP header.
    public struct TCPSegment: Sendable {
        public var sourcePort: UInt16
        public var destinationPort: UInt16
        public var sequence: UInt32 = 0
        public var acknowledgment: UInt32 = 0
        public var flags: UInt8 = 0x02
        public var window: UInt16 = 65535
        /// Raw options bytes; padded with EOL to a multiple of four.
        public var options: [UInt8] = []
        public var payload: [UInt8] = []

        public init(sourcePort: UInt16, destinationPort: UInt16, sequence: UInt32 = 0, acknowledgment: UInt32 = 0,
                    flags: UInt8 = 0x02, window: UInt16 = 65535, options: [UInt8] = [], payload: [UInt8] = []) {
            self.sourcePort = sourcePort
            self.destinationPort = destinationPort
            self.sequence = sequence
            self.acknowledgment = acknowledgment
            self.flags = flags
            self.window = window
            self.options = options
            self.payload = payload
        }
    }

    /// The transport layer of a packet to build.
    public enum Transport: Sendable {
        case tcp(TCPSegment)
        case udp(sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8])
        /// ICMP or ICMPv6 (by the IP version it is placed in): type, code, and
        /// the bytes after the checksum (identifier, sequence, data...).
        case icmp(type: UInt8, code: UInt8, body: [UInt8])
        /// Any other protocol number, bytes as given.
        case other(protocolNumber: UInt8, bytes: [UInt8])
    }

    /// Common TCP option blocks, as the tools that send them lay them out.
    public enum TCPOptions {
        public static func mss(_ value: UInt16) -> [UInt8] { [2, 4, UInt8(value >> 8), UInt8(value & 0xff)] }
        /// Linux: MSS, SACK permitted, timestamps, NOP, window scale 7 (20 bytes).
        public static func linux(timestamp: UInt32) -> [UInt8] {
            mss(1460) + [4, 2, 8, 10] + bytes32(timestamp) + [0, 0, 0, 0] + [1, 3, 3, 7]
        }
        /// Windows: MSS, NOP, window scale 8, NOP, NOP, SACK permitted (12 bytes).
        public static let windows: [UInt8] = mss(1460) + [1, 3, 3, 8, 1, 1, 4, 2]
    }

    // MARK: Network layer

    /// An IPv4 packet around `transport`. `options` are raw IPv4 option bytes
    /// (padded to 4); `fragmentOffset` in bytes (a multiple of 8).
    public static func ipv4(source: UInt32, destination: UInt32, transport: Transport,
                            ttl: UInt8 = 64, identification: UInt16 = 0, options: [UInt8] = [],
                            dontFragment: Bool = false, moreFragments: Bool = false, fragmentOffset: Int = 0) -> [UInt8] {
        let paddedOptions = pad4(options)
        let (protocolNumber, body) = transportBytes(transport, pseudoHeader: { protocolNumber, length in
            bytes32(source) + bytes32(destination) + [0, protocolNumber] + bytes16(UInt16(length))
        }, version: 4)
        let headerLength = 20 + paddedOptions.count
        var flagsAndOffset = UInt16(fragmentOffset / 8) & 0x1FFF
        if dontFragment { flagsAndOffset |= 0x4000 }
        if moreFragments { flagsAndOffset |= 0x2000 }
        var header: [UInt8] = [0x40 | UInt8(headerLength / 4), 0]
        header += bytes16(UInt16(headerLength + body.count)) + bytes16(identification) + bytes16(flagsAndOffset)
        header += [ttl, protocolNumber, 0, 0] + bytes32(source) + bytes32(destination) + paddedOptions
        let checksum = internetChecksum(header)
        header[10] = UInt8(checksum >> 8)
        header[11] = UInt8(checksum & 0xff)
        return header + body
    }

    /// An extension header for `ipv6(...)`: its type (0 hop-by-hop, 43
    /// routing, 44 fragment, 60 destination options, 51 AH) and the bytes
    /// after the next-header byte. Lengths are filled in.
    public struct ExtensionHeader: Sendable {
        public var type: UInt8
        public var body: [UInt8]
        public init(type: UInt8, body: [UInt8]) { self.type = type; self.body = body }

        /// Hop-by-hop or destination options with PadN to 8 bytes.
        public static func options(type: UInt8) -> ExtensionHeader { ExtensionHeader(type: type, body: [0, 1, 4, 0, 0, 0, 0]) }
        /// Routing header type 4 (segment routing) with one segment.
        public static func routing(segment: [UInt8]) -> ExtensionHeader {
            ExtensionHeader(type: 43, body: [0, 4, 0, 0, 0, 0, 0] + segment)
        }
        public static func fragment(offset: Int, more: Bool, identification: UInt32) -> ExtensionHeader {
            let offsetAndFlags = UInt16(offset / 8) << 3 | (more ? 1 : 0)
            return ExtensionHeader(type: 44, body: [0] + bytes16(offsetAndFlags) + bytes32(identification))
        }
    }

    /// An IPv6 packet (addresses as 16 bytes) with extension headers in order.
    public static func ipv6(source: [UInt8], destination: [UInt8], transport: Transport,
                            hopLimit: UInt8 = 64, extensionHeaders: [ExtensionHeader] = []) -> [UInt8] {
        precondition(source.count == 16 && destination.count == 16)
        let (protocolNumber, body) = transportBytes(transport, pseudoHeader: { protocolNumber, length in
            source + destination + bytes32(UInt32(length)) + [0, 0, 0, protocolNumber]
        }, version: 6)
        var chain: [UInt8] = []
        for (index, ext) in extensionHeaders.enumerated() {
            let next = index + 1 < extensionHeaders.count ? extensionHeaders[index + 1].type : protocolNumber
            var bytes = [next] + ext.body
            if ext.type == 51 {
                bytes[1] = UInt8(bytes.count / 4 - 2)
            } else if ext.type != 44 {
                bytes[1] = UInt8(bytes.count / 8 - 1)
            }
            chain += bytes
        }
        let first = extensionHeaders.first?.type ?? protocolNumber
        var header: [UInt8] = [0x60, 0, 0, 0] + bytes16(UInt16(chain.count + body.count)) + [first, hopLimit]
        header += source + destination
        return header + chain + body
    }

    // MARK: Link layer

    /// Ethernet II; `vlanTags` are (TPID, TCI) pairs, outermost first.
    public static func ethernet(_ payload: [UInt8], etherType: UInt16, vlanTags: [(UInt16, UInt16)] = [],
                                destinationMAC: [UInt8] = [0x00, 0x16, 0x3e, 0x00, 0x00, 0x01],
                                sourceMAC: [UInt8] = [0x02, 0x00, 0x5e, 0x10, 0x00, 0x01]) -> [UInt8] {
        var frame = destinationMAC + sourceMAC
        for (tpid, tci) in vlanTags { frame += bytes16(tpid) + bytes16(tci) }
        return frame + bytes16(etherType) + payload
    }

    /// The EtherType for an IP packet built above (by its version nibble).
    public static func etherType(of packet: [UInt8]) -> UInt16 { packet.first.map { $0 >> 4 == 6 } == true ? 0x86DD : 0x0800 }

    /// Linux cooked v1 (DLT 113): packet type 0 (to us), ARPHRD_ETHER.
    public static func linuxSLL(_ payload: [UInt8], protocolType: UInt16) -> [UInt8] {
        [0, 0, 0, 1, 0, 6, 0x02, 0, 0x5e, 0x10, 0, 1, 0, 0] + bytes16(protocolType) + payload
    }

    /// Linux cooked v2 (DLT 276): protocol type first, interface index 2.
    public static func linuxSLL2(_ payload: [UInt8], protocolType: UInt16) -> [UInt8] {
        bytes16(protocolType) + [0, 0] + bytes32(2) + [0, 1, 0, 6, 0x02, 0, 0x5e, 0x10, 0, 1, 0, 0] + payload
    }

    /// BSD null (DLT 0, family in host order, here little-endian) or loop
    /// (DLT 108, network order).
    public static func loopback(_ payload: [UInt8], family: UInt32, networkOrder: Bool) -> [UInt8] {
        (networkOrder ? bytes32(family) : bytes32(family).reversed()) + payload
    }

    // MARK: Helpers

    public static func bytes16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
    public static func bytes32(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)]
    }

    /// The 16 bytes of an IPv6 address given as two 64-bit halves.
    public static func ipv6Bytes(high: UInt64, low: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
    }

    /// RFC 1071 ones'-complement sum.
    public static func internetChecksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index + 1 < bytes.count {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }

    private static func pad4(_ bytes: [UInt8]) -> [UInt8] {
        bytes + [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4)
    }

    /// Transport bytes with the checksum filled in. `pseudoHeader` gives the
    /// IP pseudo-header for (protocol, transport length).
    private static func transportBytes(_ transport: Transport, pseudoHeader: (UInt8, Int) -> [UInt8],
                                       version: Int) -> (UInt8, [UInt8]) {
        func withChecksum(_ protocolNumber: UInt8, _ bytes: [UInt8], at offset: Int, pseudo: Bool) -> [UInt8] {
            var out = bytes
            let sum = internetChecksum((pseudo ? pseudoHeader(protocolNumber, bytes.count) : []) + bytes)
            out[offset] = UInt8(sum >> 8)
            out[offset + 1] = UInt8(sum & 0xff)
            return out
        }
        switch transport {
        case .tcp(let segment):
            let options = pad4(segment.options)
            let headerLength = 20 + options.count
            var bytes = bytes16(segment.sourcePort) + bytes16(segment.destinationPort)
            bytes += bytes32(segment.sequence) + bytes32(segment.acknowledgment)
            bytes += [UInt8(headerLength / 4) << 4, segment.flags] + bytes16(segment.window) + [0, 0, 0, 0]
            bytes += options + segment.payload
            return (6, withChecksum(6, bytes, at: 16, pseudo: true))
        case .udp(let sourcePort, let destinationPort, let payload):
            let bytes = bytes16(sourcePort) + bytes16(destinationPort) + bytes16(UInt16(8 + payload.count)) + [0, 0] + payload
            return (17, withChecksum(17, bytes, at: 6, pseudo: true))
        case .icmp(let type, let code, let body):
            let protocolNumber: UInt8 = version == 6 ? 58 : 1
            return (protocolNumber, withChecksum(protocolNumber, [type, code, 0, 0] + body, at: 2, pseudo: version == 6))
        case .other(let protocolNumber, let bytes):
            return (protocolNumber, bytes)
        }
    }
}
