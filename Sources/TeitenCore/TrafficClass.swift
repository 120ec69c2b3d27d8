public import PacketDecoding

/// What a packet is, from the sensor's point of view. The hourly count files
/// write `probe`, `backscatter` and `other` (local traffic is `other` there);
/// detectors look only at probes (scans, sweeps, worms, floods) and
/// backscatter.
public enum TrafficClass: UInt8, Sendable, CaseIterable {
    /// An unsolicited request: TCP SYN, bare ACK, or FIN/NULL/Xmas probe;
    /// UDP (but for the replies below); ICMP echo, timestamp, address-mask
    /// and information requests; ICMPv6 echo request.
    case probe
    /// A reply to a packet the receiver never sent: TCP SYN-ACK, RST,
    /// RST-ACK; ICMP echo reply, unreachable, source quench, redirect, time
    /// exceeded, parameter problem, timestamp and mask replies and their
    /// ICMPv6 kin; DNS responses from port 53 and NTP server replies from 123.
    case backscatter
    /// Sent by the sensor itself (a `--local-network` source): never a scan.
    case localOutbound
    /// Everything else: TCP with data or FIN-ACK mid-stream, later fragments,
    /// other IP protocols, ICMP types that are neither.
    case other

    /// The count files' class name.
    public var name: String {
        switch self {
        case .probe: "probe"
        case .backscatter: "backscatter"
        case .localOutbound, .other: "other"
        }
    }
}

/// Classifies decoded packets. Pure and allocation-free.
public struct Classifier: Sendable {
    /// The sensor's own addresses: their packets are `localOutbound`.
    public var localNetworks: PrefixList

    public init(localNetworks: PrefixList = PrefixList()) { self.localNetworks = localNetworks }

    @inline(__always)
    public func classify(_ packet: PacketRecord) -> TrafficClass {
        if !localNetworks.isEmpty && localNetworks.contains(packet.source) { return .localOutbound }
        if packet.fragment.offset != 0 { return .other }  // no transport header to judge by
        switch packet.transport {
        case .tcp: return Self.classifyTCP(packet)
        case .udp: return Self.classifyUDP(packet)
        case .icmp: return Self.classifyICMP(packet.icmpType)
        case .icmp6: return Self.classifyICMPv6(packet.icmpType)
        default: return .other
        }
    }

    @inline(__always)
    static func classifyTCP(_ packet: PacketRecord) -> TrafficClass {
        let flags = packet.tcp.flags
        let syn = flags & TCPSummary.syn != 0, ack = flags & TCPSummary.ack != 0
        let rst = flags & TCPSummary.rst != 0, fin = flags & TCPSummary.fin != 0
        if rst { return .backscatter }
        if syn { return ack ? .backscatter : .probe }
        if !ack { return .probe }  // FIN, NULL, Xmas: stealth probes
        // A bare ACK with nothing else is an ACK probe (nmap -sA/-PA); with
        // data or FIN it belongs to a conversation.
        return (!fin && packet.payloadLength == 0) ? .probe : .other
    }

    @inline(__always)
    static func classifyUDP(_ packet: PacketRecord) -> TrafficClass {
        // A DNS response (QR bit) from port 53, or an NTP server reply (mode 4)
        // from 123, to a darknet answers a spoofed query: backscatter.
        if packet.sourcePort == 53 && packet.capturedPayloadLength >= 3 && (packet.payloadPrefix >> 40) & 0x80 != 0 {
            return .backscatter
        }
        if packet.sourcePort == 123 && packet.capturedPayloadLength >= 1 && (packet.payloadPrefix >> 56) & 0x07 == 4 {
            return .backscatter
        }
        return .probe
    }

    @inline(__always)
    static func classifyICMP(_ type: UInt8) -> TrafficClass {
        switch type {
        case 8, 13, 15, 17: .probe                      // echo, timestamp, information, mask requests
        case 0, 3, 4, 5, 11, 12, 14, 16, 18: .backscatter  // replies and errors
        default: .other
        }
    }

    @inline(__always)
    static func classifyICMPv6(_ type: UInt8) -> TrafficClass {
        switch type {
        case 128: .probe                     // echo request
        case 1, 2, 3, 4, 129: .backscatter   // errors, echo reply
        default: .other                      // neighbour discovery, MLD, router messages
        }
    }
}
