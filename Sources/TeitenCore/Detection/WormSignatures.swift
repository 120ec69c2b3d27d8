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

/// Port-indexed lookup over `WormSignature.table`: one array read per packet.
/// Built once per process (`shared`). It also keeps what the per-packet path
/// reads of each signature as plain values: reading a `WormSignature` out of
/// the table retains its name and port list, on every 445 probe.
struct SignatureIndex: Sendable {
    static let shared = SignatureIndex()

    private var tcpByDestination = [UInt8](repeating: 0, count: 65536)
    private var udpByDestination = [UInt8](repeating: 0, count: 65536)
    private var udpBySource = [UInt8](repeating: 0, count: 65536)
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
            if let source = signature.sourcePort { udpBySource[Int(source)] = tag }
            for port in signature.destinationPorts {
                if signature.transport == .tcp { tcpByDestination[Int(port)] = tag } else { udpByDestination[Int(port)] = tag }
            }
            if signature.transport == .icmp { icmpEcho = tag }
        }
    }

    /// The index into `WormSignature.table` of the signature this packet's
    /// ports select, if any (its evidence is checked separately).
    @inline(__always)
    func candidate(_ packet: PacketRecord) -> Int? {
        let tag: UInt8
        switch packet.transport {
        case .tcp: tag = tcpByDestination[Int(packet.destinationPort)]
        case .udp:
            let byDestination = udpByDestination[Int(packet.destinationPort)]
            tag = byDestination != 0 ? byDestination : udpBySource[Int(packet.sourcePort)]
        case .icmp: tag = packet.icmpType == 8 ? icmpEcho : 0
        default: tag = 0
        }
        return tag == 0 ? nil : Int(tag) - 1
    }
}
