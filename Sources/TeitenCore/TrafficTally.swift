public import PacketDecoding

/// The first counting stage: every frame counted once, by link type, by IP
/// version and transport protocol when it decoded, or by the reason it did
/// not. Fixed-size arrays, allocated once.
public struct TrafficTally: Sendable {
    public let linkType: LinkType
    public private(set) var frames: UInt64 = 0
    public private(set) var capturedBytes: UInt64 = 0
    public private(set) var wireBytes: UInt64 = 0
    /// Frames captured shorter than they were on the wire (snapshot length).
    public private(set) var truncatedBySnapshot: UInt64 = 0
    public private(set) var decoded: UInt64 = 0
    public private(set) var ipv4: UInt64 = 0
    public private(set) var ipv6: UInt64 = 0
    public private(set) var fragments: UInt64 = 0
    /// Decoded packets by IP protocol number.
    public private(set) var byTransport: [UInt64]
    /// Frames that did not decode, by `DecodeFailure.rawValue`.
    public private(set) var byFailure: [UInt64]

    public init(linkType: LinkType) {
        self.linkType = linkType
        byTransport = [UInt64](repeating: 0, count: 256)
        byFailure = [UInt64](repeating: 0, count: DecodeFailure.allCases.count)
    }

    @inline(__always)
    mutating func countFrame(capturedLength: Int, wireLength: UInt32) {
        frames &+= 1
        capturedBytes &+= UInt64(capturedLength)
        wireBytes &+= UInt64(wireLength)
        if capturedLength < Int(wireLength) { truncatedBySnapshot &+= 1 }
    }

    @inline(__always)
    mutating func count(_ record: PacketRecord) {
        decoded &+= 1
        if record.ipVersion == 4 { ipv4 &+= 1 } else { ipv6 &+= 1 }
        if record.fragment.isFragment { fragments &+= 1 }
        byTransport[Int(record.transport.rawValue)] &+= 1
    }

    @inline(__always)
    mutating func count(_ failure: DecodeFailure) {
        byFailure[Int(failure.rawValue)] &+= 1
    }

    /// Frames that did not decode, for any reason.
    public var undecoded: UInt64 { frames - decoded }

    public func count(of failure: DecodeFailure) -> UInt64 { byFailure[Int(failure.rawValue)] }

    public func count(of transport: TransportProtocol) -> UInt64 { byTransport[Int(transport.rawValue)] }

    /// Decoded packets whose transport is none of TCP, UDP, ICMP, ICMPv6.
    public var otherTransport: UInt64 {
        decoded - count(of: .tcp) - count(of: .udp) - count(of: .icmp) - count(of: .icmp6)
    }

    /// Failure reasons with a non-zero count, most frequent first.
    public var failures: [(DecodeFailure, UInt64)] {
        DecodeFailure.allCases.map { ($0, count(of: $0)) }.filter { $0.1 > 0 }.sorted { $0.1 > $1.1 }
    }
}
