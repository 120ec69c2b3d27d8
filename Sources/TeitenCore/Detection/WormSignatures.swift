public import PacketDecoding

/// Known worms and backdoor-hunting bots, as data: which packets match and
/// how much evidence an episode needs. Sources for every entry are cited in
/// docs/detection.md. Matching is by table lookup on the port (no chain of
/// ifs), then one evidence check.
public struct WormSignature: Sendable {
    public enum Evidence: Sendable {
        /// The destination port alone. Such a signature only names a sweep
        /// (25 targets by default) that no scanning tool's fingerprint
        /// explains: ZMap or masscan sweeping 445 is a scanner, not Conficker.
        case port
        /// UDP payload of exactly this length, starting with this byte.
        case payload(length: UInt32, firstByte: UInt8)
        /// UDP payload length within the range (inclusive).
        case payloadLength(ClosedRange<UInt32>)
        /// ICMP echo request whose payload is `length` bytes starting with eight `byte`s.
        case echoPayload(length: UInt32, byte: UInt8)
        /// TCP SYN whose sequence number equals the destination IPv4 address.
        case sequenceIsDestination
    }

    public let name: String
    public let transport: TransportProtocol
    /// Destination ports that select the signature (empty: see `sourcePort`, or ICMP).
    public let destinationPorts: [UInt16]
    /// A source port that selects it instead (Witty sends from UDP 4000).
    public let sourcePort: UInt16?
    public let evidence: Evidence
    /// Distinct destinations before an episode opens (signatures with
    /// evidence); port-only signatures use the sweep threshold.
    public let minimumTargets: Int

    public static let table: [WormSignature] = [
        WormSignature(name: "SQL Slammer", transport: .udp, destinationPorts: [1434], sourcePort: nil,
                      evidence: .payload(length: 376, firstByte: 0x04), minimumTargets: 1),
        WormSignature(name: "Witty", transport: .udp, destinationPorts: [], sourcePort: 4000,
                      evidence: .payloadLength(768...1279), minimumTargets: 3),
        WormSignature(name: "Welchia", transport: .icmp, destinationPorts: [], sourcePort: nil,
                      evidence: .echoPayload(length: 64, byte: 0xAA), minimumTargets: 3),
        WormSignature(name: "Mirai", transport: .tcp, destinationPorts: [23, 2323], sourcePort: nil,
                      evidence: .sequenceIsDestination, minimumTargets: 5),
        WormSignature(name: "Blaster", transport: .tcp, destinationPorts: [135], sourcePort: nil, evidence: .port, minimumTargets: 0),
        WormSignature(name: "Conficker", transport: .tcp, destinationPorts: [445], sourcePort: nil, evidence: .port, minimumTargets: 0),
        WormSignature(name: "Sasser", transport: .tcp, destinationPorts: [5554, 9996], sourcePort: nil, evidence: .port, minimumTargets: 0),
        WormSignature(name: "MyDoom backdoor", transport: .tcp, destinationPorts: [3127], sourcePort: nil, evidence: .port, minimumTargets: 0),
        WormSignature(name: "DameWare", transport: .tcp, destinationPorts: [6129], sourcePort: nil, evidence: .port, minimumTargets: 0),
        WormSignature(name: "Radmin", transport: .tcp, destinationPorts: [4899], sourcePort: nil, evidence: .port, minimumTargets: 0),
        WormSignature(name: "MS-SQL worm", transport: .tcp, destinationPorts: [1433], sourcePort: nil, evidence: .port, minimumTargets: 0),
        WormSignature(name: "NetBIOS worm", transport: .tcp, destinationPorts: [139], sourcePort: nil, evidence: .port, minimumTargets: 0),
        WormSignature(name: "Kuang2 backdoor", transport: .tcp, destinationPorts: [17300], sourcePort: nil, evidence: .port, minimumTargets: 0),
        WormSignature(name: "Lovgate", transport: .tcp, destinationPorts: [20168], sourcePort: nil, evidence: .port, minimumTargets: 0),
        WormSignature(name: "Bagle backdoor", transport: .tcp, destinationPorts: [2745], sourcePort: nil, evidence: .port, minimumTargets: 0),
    ]

    public var isPortOnly: Bool { if case .port = evidence { true } else { false } }

}

extension WormSignature.Evidence {
    /// Whether `packet` (already known to be selected by port) carries this evidence.
    @inline(__always)
    func matches(_ packet: PacketRecord) -> Bool {
        switch self {
        case .port:
            return true
        case .payload(let length, let firstByte):
            return packet.payloadLength == length && packet.capturedPayloadLength > 0
                && UInt8(truncatingIfNeeded: packet.payloadPrefix >> 56) == firstByte
        case .payloadLength(let range):
            return range.contains(packet.payloadLength)
        case .echoPayload(let length, let byte):
            let eightBytes = UInt64(byte) &* 0x0101_0101_0101_0101
            // The prefix starts after the 4-byte ICMP header: identifier and
            // sequence come first, so look at the bytes after them.
            return packet.icmpType == 8 && packet.payloadLength == length + 4
                && packet.capturedPayloadLength >= 8
                && (packet.payloadPrefix & 0xFFFF_FFFF) == eightBytes & 0xFFFF_FFFF
        case .sequenceIsDestination:
            return packet.destination.isIPv4 && packet.tcp.sequence == packet.destination.ipv4
        }
    }
}

/// Port-indexed lookup over `WormSignature.table`. Built once per process
/// (`shared`). It also keeps what the per-packet path reads of each
/// signature as plain values: reading a `WormSignature` out of the table
/// retains its name and port list, on every 445 probe.
///
/// The ports that select a signature are few (16 in the table), so they sit
/// in a small open-addressed table of 64 four-byte slots: four cache lines
/// that stay in the core's first cache. (One byte per port of each kind,
/// 192 KiB read at random, missed it on most packets: a sixth of the cost
/// of making a packet's detection event.)
struct SignatureIndex: Sendable {
    static let shared = SignatureIndex()

    /// What a port is looked up as.
    private enum Selector: UInt32 { case tcpDestination = 1, udpDestination, udpSource }
    private static let slotBits = 6
    private static let slotMask = (1 << slotBits) - 1
    /// `key << 8 | tag`, where `key` is `selector << 16 | port` (never 0)
    /// and `tag` the signature's index + 1; 0: an empty slot.
    private var slots = [UInt32](repeating: 0, count: slotMask + 1)
    private var portsHeld = 0
    private var icmpEcho: UInt8 = 0
    /// By index in the table: the evidence, whether it is the port alone, and the episode threshold.
    private(set) var evidence: [WormSignature.Evidence] = []
    private(set) var isPortOnly: [Bool] = []
    private(set) var minimumTargets: [Int] = []

    init(_ table: [WormSignature] = WormSignature.table) {
        evidence = table.map(\.evidence)
        isPortOnly = table.map(\.isPortOnly)
        minimumTargets = table.map(\.minimumTargets)
        for (index, signature) in table.enumerated() {
            let tag = UInt8(index + 1)
            if let source = signature.sourcePort { add(.udpSource, source, tag) }
            for port in signature.destinationPorts {
                add(signature.transport == .tcp ? .tcpDestination : .udpDestination, port, tag)
            }
            if signature.transport == .icmp { icmpEcho = tag }
        }
    }

    /// A port's tag; a port listed twice keeps its last signature, as a
    /// table indexed by port would.
    private mutating func add(_ selector: Selector, _ port: UInt16, _ tag: UInt8) {
        let key = selector.rawValue << 16 | UInt32(port)
        var slot = Self.home(key)
        while slots[slot] != 0 && slots[slot] >> 8 != key { slot = (slot + 1) & Self.slotMask }
        if slots[slot] == 0 { portsHeld += 1 }
        slots[slot] = key << 8 | UInt32(tag)
        precondition(portsHeld <= Self.slotMask / 2, "too many signature ports for the lookup table")
    }

    @inline(__always)
    private static func home(_ key: UInt32) -> Int { Int((key &* 0x9E37_79B1) >> UInt32(32 - slotBits)) }

    /// The tag of `port` looked up as `selector`; 0 when no signature has it.
    @inline(__always)
    private func tag(_ selector: Selector, _ port: UInt16) -> UInt8 {
        let key = selector.rawValue << 16 | UInt32(port)
        var slot = Self.home(key)
        while true {  // ends: the table is at most half full
            let held = slots[slot]
            if held == 0 { return 0 }
            if held >> 8 == key { return UInt8(truncatingIfNeeded: held) }
            slot = (slot + 1) & Self.slotMask
        }
    }

    /// The index into `WormSignature.table` of the signature this packet's
    /// ports select, if any (its evidence is checked separately).
    @inline(__always)
    func candidate(_ packet: PacketRecord) -> Int? {
        let tag: UInt8
        switch packet.transport {
        case .tcp: tag = self.tag(.tcpDestination, packet.destinationPort)
        case .udp:
            let byDestination = self.tag(.udpDestination, packet.destinationPort)
            tag = byDestination != 0 ? byDestination : self.tag(.udpSource, packet.sourcePort)
        case .icmp: tag = packet.icmpType == 8 ? icmpEcho : 0
        default: tag = 0
        }
        return tag == 0 ? nil : Int(tag) - 1
    }
}
