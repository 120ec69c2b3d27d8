public import PacketDecoding

/// One line of the alert stream, as values. Field meanings are the
/// contract's (docs/alerts.md); JSON encoding lives in TeitenOutput.
public struct Alert: Sendable, Equatable {
    public enum Phase: String, Sendable { case start, update, end }

    public enum Kind: String, Sendable, CaseIterable {
        case verticalScan = "vertical_scan"
        case horizontalSweep = "horizontal_sweep"
        case blockScan = "block_scan"
        case worm
        case backscatter
        case flood
        case portSurge = "port_surge"
    }

    public enum Severity: String, Sendable { case low, medium, high }

    /// How the episode was recognised (an addition to the contract).
    public enum Method: String, Sendable {
        /// A distinct count crossed its threshold within a sliding window.
        case threshold
        /// Threshold Random Walk over first contacts to dark address space.
        case sequential
        /// A worm signature matched on payload or packet shape.
        case signature
        /// A port's distinct sources rose far above its moving baseline.
        case baseline
    }

    public var timestamp: PacketTime
    public var phase: Phase
    public var kind: Kind
    /// Joins the start, update and end lines of one episode (an addition).
    public var episodeID: UInt64
    public var source: IPAddress?
    /// ISO 3166-1 alpha-2 of `source`, "ZZ" when unknown.
    public var sourceCountry: String
    public var transport: TransportProtocol
    /// Sorted; at most `Tunables.maximumListedPorts` (ICMP: types).
    public var destinationPorts: [Int]
    public var destination: IPAddress?
    public var targets: Int
    public var ports: Int
    public var sources: Int?
    public var packets: UInt64
    public var firstSeen: PacketTime
    public var lastSeen: PacketTime
    public var windowSeconds: Int
    public var severity: Severity
    public var tool: String?
    public var signature: String?
    public var method: Method
    /// Backscatter: the replying service ports (an addition).
    public var sourcePorts: [Int]?
    /// False when a total above came from a HyperLogLog estimate (an addition).
    public var countsExact: Bool
    /// Port surge: the port's baseline of distinct sources per interval (an addition).
    public var baseline: Double?
}
