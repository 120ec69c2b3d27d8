public import PacketDecoding

/// What the detectors see of a packet: the fields they read, and the two
/// verdicts that need more of the packet than that (the scanning tool its
/// TCP SYN shows, the worm signature its ports select and whether its
/// payload carries the evidence), decided when the event is made.
///
/// Small on purpose: it fits one 64-byte cache line with room for the
/// detection thread's item kind (`DetectionWorker`), where a `PacketRecord`
/// took four. Handing a packet to the other core costs one line, not four,
/// and the detectors never touch a field they do not use.
public struct DetectionEvent: Sendable, Equatable {
    /// Packet time, nanoseconds since the Unix epoch.
    public var time = PacketTime.zero
    public var source = IPAddress.zero
    public var destination = IPAddress.zero
    /// TCP/UDP source port; 0 for other transports.
    public var sourcePort: UInt16 = 0
    /// The contract's port (`ScanDetection.servicePort`): TCP/UDP destination
    /// port, ICMP/ICMPv6 type, else 0.
    public var port: UInt16 = 0
    public var transport = TransportProtocol(rawValue: 0)
    public var trafficClass = TrafficClass.other
    /// TCP flag bits (`TCPSummary`); 0 for other transports.
    public var tcpFlags: UInt8 = 0
    /// ICMP or ICMPv6 type; 0 otherwise.
    public var icmpType: UInt8 = 0
    /// 0: not a TCP SYN probe; 1: one no tool explains; 2 + `ScanningTool.rawValue`: that tool's.
    var toolCode: UInt8 = 0
    /// 0: no worm signature selects the packet's ports; else its index in `WormSignature.table` + 1.
    var signatureCode: UInt8 = 0
    /// The selected signature's evidence is in the packet (always true for a port-only one).
    var signatureMatches = false

    public init() {}

    /// The event of a decoded, classified packet.
    @inline(__always)
    public init(_ packet: PacketRecord, as trafficClass: TrafficClass) {
        var packet = packet
        self.init(&packet, as: trafficClass, signatures: SignatureIndex.shared)
    }

    /// (`packet` is `inout` only to be passed by reference: the pipeline
    /// reads it in place in its look-ahead ring, where a by-value record
    /// was copied, 132 bytes, per packet.)
    @inline(__always)
    init(_ packet: inout PacketRecord, as trafficClass: TrafficClass, signatures: borrowing SignatureIndex) {
        time = packet.time
        source = packet.source
        destination = packet.destination
        sourcePort = packet.sourcePort
        port = ScanDetection.servicePort(packet)
        transport = packet.transport
        self.trafficClass = trafficClass
        tcpFlags = packet.tcp.flags
        icmpType = packet.icmpType
        guard trafficClass == .probe else { return }
        if packet.transport == .tcp && packet.tcp.flags & TCPSummary.syn != 0 {
            toolCode = ScanningTool.fingerprint(packet).map { $0.rawValue &+ 2 } ?? 1
        }
        if let index = signatures.candidate(packet) {
            signatureCode = UInt8(truncatingIfNeeded: index &+ 1)
            signatureMatches = signatures.evidence[index].matches(packet)
        }
    }

    /// A TCP SYN probe (its source's fingerprint tally counts it).
    var isTCPSynProbe: Bool { toolCode != 0 }

    /// The tool this TCP SYN probe's habits show, if any.
    var tool: ScanningTool? { toolCode >= 2 ? ScanningTool(rawValue: toolCode &- 2) : nil }

    /// The index in `WormSignature.table` of the signature the ports select.
    var signature: Int? { signatureCode == 0 ? nil : Int(signatureCode) &- 1 }
}
