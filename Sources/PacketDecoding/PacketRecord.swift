/// One decoded IP packet: everything later stages need, as trivial fields, so
/// it is copied by value, never allocated, and cheap to hand down the pipeline.
///
/// Lengths are as the headers state them (what was on the wire); the
/// `captured*` values say how much of it libpcap actually kept.
public struct PacketRecord: Sendable, Equatable {
    /// Packet time (not wall time): nanoseconds since the Unix epoch.
    public var time: PacketTime = .zero
    /// Frame length on the wire, as libpcap reports it.
    public var wireLength: UInt32 = 0

    public var ipVersion: UInt8 = 0
    public var source = IPAddress.zero
    public var destination = IPAddress.zero
    /// IP protocol number of the transport, after IPv6 extension headers.
    public var transport = TransportProtocol(rawValue: 0)
    /// IPv4 TTL or IPv6 hop limit.
    public var ttl: UInt8 = 0
    /// IPv4 identification, or the IPv6 fragment header's identification (0 without one).
    public var ipID: UInt32 = 0
    /// Total IP packet length from the header (IPv4 total length, IPv6 40 + payload length).
    public var ipLength: UInt32 = 0
    public var fragment = FragmentInfo()

    /// TCP/UDP ports; 0 for other transports and for non-first fragments.
    public var sourcePort: UInt16 = 0
    public var destinationPort: UInt16 = 0
    /// ICMP or ICMPv6 type and code; 0 otherwise.
    public var icmpType: UInt8 = 0
    public var icmpCode: UInt8 = 0
    /// TCP fields; all zero for other transports.
    public var tcp = TCPSummary()

    /// Transport payload length as the headers state it (UDP length, IP length
    /// minus headers for TCP and ICMP), whether or not it was all captured.
    public var payloadLength: UInt32 = 0
    /// Payload bytes actually captured (at most `payloadLength`).
    public var capturedPayloadLength: UInt32 = 0
    /// The first eight payload bytes, big-endian, zero-padded: a cheap prefix
    /// for signatures ("does it start with 0x04 0x01 0x01 0x01...").
    public var payloadPrefix: UInt64 = 0
    /// A 32-bit hash of the first `PacketRecord.digestSpan` captured payload
    /// bytes (FNV-1a over 8-byte words, see Payload.swift): equal payload
    /// starts have equal digests, for worm and tool signatures.
    public var payloadDigest: UInt32 = 0

    /// How many payload bytes `payloadDigest` covers at most.
    public static let digestSpan = 64

    public init() {}
}

/// Packet time in nanoseconds since the Unix epoch. Every window, hour and
/// timeout in Teiten runs on this clock, so a replay gives what live capture gave.
public struct PacketTime: Sendable, Hashable, Comparable {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static let zero = PacketTime(nanoseconds: 0)
    public static let nanosecondsPerSecond: Int64 = 1_000_000_000

    /// The range every packet time is clamped to: from the most negative
    /// classic pcap timestamp (signed 32-bit seconds, as libpcap reads them,
    /// 1901) to the end of unsigned 32-bit seconds (2106). Any two times in
    /// it differ by less than `Int64.max` nanoseconds, so the window, hour
    /// and timeout arithmetic downstream cannot overflow, whatever a file
    /// says (a pcapng timestamp can be any 64-bit value).
    public static let earliest = PacketTime(nanoseconds: -(Int64(1) << 31) * nanosecondsPerSecond)
    public static let latest = PacketTime(nanoseconds: (Int64(1) << 32) * nanosecondsPerSecond)

    /// From a pcap timestamp (`seconds`, sub-second part in nanoseconds),
    /// clamped to `earliest...latest`: a hostile capture file can put any
    /// value in its record headers, and an overflow here must not trap.
    public init(seconds: Int64, nanoseconds fraction: Int64) {
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: Self.nanosecondsPerSecond)
        let (sum, overflowAdding) = scaled.addingReportingOverflow(fraction)
        if overflow || overflowAdding {
            self = (overflow ? seconds : fraction) < 0 ? Self.earliest : Self.latest
            return
        }
        self = PacketTime(nanoseconds: sum).clamped
    }

    /// This time, moved into `earliest...latest`.
    @inline(__always)
    public var clamped: PacketTime {
        PacketTime(nanoseconds: min(max(nanoseconds, Self.earliest.nanoseconds), Self.latest.nanoseconds))
    }

    /// Whole seconds since the epoch (floor).
    public var seconds: Int64 {
        let (q, r) = nanoseconds.quotientAndRemainder(dividingBy: Self.nanosecondsPerSecond)
        return r < 0 ? q - 1 : q
    }

    public static func < (a: PacketTime, b: PacketTime) -> Bool { a.nanoseconds < b.nanoseconds }
}

/// IP fragmentation state. Ports are read only from a first fragment (offset 0).
public struct FragmentInfo: Sendable, Equatable {
    /// Fragment offset in bytes.
    public var offset: UInt32 = 0
    public var moreFragments = false
    /// True for any fragment: a first one (offset 0 with more to come) or a later one.
    public var isFragment: Bool { offset != 0 || moreFragments }
    public init() {}
}

/// The transport protocol, as an IP protocol number.
public struct TransportProtocol: RawRepresentable, Sendable, Hashable {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    // Computed and inlinable, not stored: a stored static is reached through
    // a lazy-initialisation check in every other module, several per packet.
    @inlinable public static var icmp: TransportProtocol { TransportProtocol(rawValue: 1) }
    @inlinable public static var tcp: TransportProtocol { TransportProtocol(rawValue: 6) }
    @inlinable public static var udp: TransportProtocol { TransportProtocol(rawValue: 17) }
    @inlinable public static var icmp6: TransportProtocol { TransportProtocol(rawValue: 58) }

    /// The contract's protocol names: `tcp`, `udp`, `icmp`, `icmp6`, else `other`.
    public var name: String {
        switch self {
        case .tcp: "tcp"
        case .udp: "udp"
        case .icmp: "icmp"
        case .icmp6: "icmp6"
        default: "other"
        }
    }
}

/// The TCP header fields scan detection and tool fingerprints look at.
public struct TCPSummary: Sendable, Equatable {
    /// Flag bits: FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80.
    public var flags: UInt8 = 0
    public var sequence: UInt32 = 0
    public var acknowledgment: UInt32 = 0
    public var window: UInt16 = 0
    /// Header length in bytes (data offset × 4).
    public var headerLength: UInt8 = 0
    public var options = TCPOptionsSummary()

    public static let fin: UInt8 = 0x01
    public static let syn: UInt8 = 0x02
    public static let rst: UInt8 = 0x04
    public static let psh: UInt8 = 0x08
    public static let ack: UInt8 = 0x10
    public static let urg: UInt8 = 0x20

    public init() {}
}

/// What a TCP options block held, in the order it held it: enough for
/// fingerprints such as "MSS only" (masscan since 2023) or nmap's option set.
public struct TCPOptionsSummary: Sendable, Equatable {
    /// Maximum segment size; 0 when absent.
    public var mss: UInt16 = 0
    /// Window scale shift; `nil` when absent.
    public var windowScale: UInt8? = nil
    public var sackPermitted = false
    public var hasTimestamp = false
    /// The option kinds in order, one per byte, first option in the low byte
    /// (at most eight; NOP counts as a kind). 0 when there were no options.
    public var kinds: UInt64 = 0
    /// Number of options seen, including NOPs beyond the eight kept in `kinds`.
    public var count: UInt8 = 0
    /// True when the options block ran past the captured bytes or an option's
    /// length was malformed: the summary holds what came before.
    public var incomplete = false
    public init() {}
}
