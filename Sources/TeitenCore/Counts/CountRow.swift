internal import PacketDecoding

/// The identity of a count-file row without its hour: class, protocol,
/// port and country, packed into one integer (class 2 bits, protocol 3 bits,
/// port 16, country 16), so a row is found with one hash of one integer.
public struct CountRow: Hashable, Sendable {
    public let packed: UInt64

    /// The contract's protocol column values, in the order of their codes.
    public static let protocolNames = ["tcp", "udp", "icmp", "icmp6", "other"]
    public static let classNames = ["probe", "backscatter", "other"]

    init(packed: UInt64) { self.packed = packed }

    @inline(__always)
    init(trafficClass: TrafficClass, transport: TransportProtocol, port: UInt16, country: UInt16) {
        let classCode: UInt64 = switch trafficClass {
        case .probe: 0
        case .backscatter: 1
        case .localOutbound, .other: 2
        }
        let protocolCode: UInt64 = switch transport {
        case .tcp: 0
        case .udp: 1
        case .icmp: 2
        case .icmp6: 3
        default: 4
        }
        packed = classCode << 40 | protocolCode << 32 | UInt64(port) << 16 | UInt64(country)
    }

    public var className: String { Self.classNames[Int(packed >> 40 & 0x3)] }
    public var protocolName: String { Self.protocolNames[Int(packed >> 32 & 0x7)] }
    public var port: UInt16 { UInt16(truncatingIfNeeded: packed >> 16) }
    public var country: String { CountryDatabase.unpack(UInt16(truncatingIfNeeded: packed)) }
}
