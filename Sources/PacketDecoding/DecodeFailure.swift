/// Why a frame did not become a `PacketRecord`. Each is counted by name and
/// the frame skipped; none stops the sensor.
public enum DecodeFailure: UInt8, CaseIterable, Sendable, Error {
    // Not IP at all: counted, but nothing is wrong with the frame.
    /// ARP, LLDP, STP and every other non-IP payload.
    case notIP
    /// A link type the decoder does not know (the whole capture is skipped).
    case unsupportedLinkType

    // Damaged or truncated: the frame claims something its bytes do not hold.
    case linkTruncated
    /// More VLAN tags, MPLS labels or PPPoE layers than any real network stacks.
    case tooManyEncapsulations
    /// The IP version nibble is neither 4 nor 6, or contradicts the link layer's type field.
    case badIPVersion
    case ipv4Truncated
    /// IHL below 5 words.
    case ipv4BadHeaderLength
    /// Total length shorter than the header it must contain.
    case ipv4BadTotalLength
    case ipv6Truncated
    case ipv6ExtensionTruncated
    case ipv6TooManyExtensions
    case tcpTruncated
    /// Data offset below 5 words, or past the IP payload.
    case tcpBadHeaderLength
    case udpTruncated
    /// UDP length below its own 8-byte header.
    case udpBadLength
    case icmpTruncated
    case icmp6Truncated

    /// True for frames that are damaged or cut short, as opposed to frames
    /// that are fine but not IP.
    public var isMalformed: Bool { self != .notIP && self != .unsupportedLinkType }

    /// Stable name for the summary, the hour sidecar and metrics labels.
    public var name: String {
        switch self {
        case .notIP: "not-ip"
        case .unsupportedLinkType: "unsupported-link-type"
        case .linkTruncated: "link-truncated"
        case .tooManyEncapsulations: "too-many-encapsulations"
        case .badIPVersion: "bad-ip-version"
        case .ipv4Truncated: "ipv4-truncated"
        case .ipv4BadHeaderLength: "ipv4-bad-header-length"
        case .ipv4BadTotalLength: "ipv4-bad-total-length"
        case .ipv6Truncated: "ipv6-truncated"
        case .ipv6ExtensionTruncated: "ipv6-extension-truncated"
        case .ipv6TooManyExtensions: "ipv6-too-many-extensions"
        case .tcpTruncated: "tcp-truncated"
        case .tcpBadHeaderLength: "tcp-bad-header-length"
        case .udpTruncated: "udp-truncated"
        case .udpBadLength: "udp-bad-length"
        case .icmpTruncated: "icmp-truncated"
        case .icmp6Truncated: "icmp6-truncated"
        }
    }
}
