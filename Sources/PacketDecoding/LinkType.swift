/// The link-layer header types the decoder understands, by the DLT value
/// libpcap's `pcap_datalink` returns (libpcap maps a file's LINKTYPE_ value
/// to the DLT_ value; the two differ only for raw IP).
public enum LinkType: Sendable, Equatable {
    case ethernet
    /// BSD loopback (DLT_NULL): 4-byte address family in the capturing host's byte order.
    case null
    /// OpenBSD loopback (DLT_LOOP): 4-byte address family in network byte order.
    case loop
    /// Raw IP, version from the first nibble (DLT_RAW: 12, 14 on OpenBSD, LINKTYPE_RAW 101).
    case raw
    case rawIPv4
    case rawIPv6
    /// Linux cooked capture v1 ("any" device, 16-byte header).
    case linuxSLL
    /// Linux cooked capture v2 (20-byte header with interface index).
    case linuxSLL2
    /// PPP (DLT_PPP), with or without the HDLC address/control bytes.
    case ppp
    case unsupported(Int32)

    public init(dlt: Int32) {
        switch dlt {
        case 1: self = .ethernet
        case 0: self = .null
        case 108: self = .loop
        case 12, 14, 101: self = .raw
        case 228: self = .rawIPv4
        case 229: self = .rawIPv6
        case 113: self = .linuxSLL
        case 276: self = .linuxSLL2
        case 9: self = .ppp
        default: self = .unsupported(dlt)
        }
    }

    /// The DLT value (for `.raw`, Linux's DLT_RAW).
    public var dlt: Int32 {
        switch self {
        case .ethernet: 1
        case .null: 0
        case .loop: 108
        case .raw: 12
        case .rawIPv4: 228
        case .rawIPv6: 229
        case .linuxSLL: 113
        case .linuxSLL2: 276
        case .ppp: 9
        case .unsupported(let value): value
        }
    }

    public var name: String {
        switch self {
        case .ethernet: "ethernet"
        case .null: "null"
        case .loop: "loop"
        case .raw: "raw"
        case .rawIPv4: "ipv4"
        case .rawIPv6: "ipv6"
        case .linuxSLL: "linux-sll"
        case .linuxSLL2: "linux-sll2"
        case .ppp: "ppp"
        case .unsupported(let value): "dlt-\(value)"
        }
    }
}
