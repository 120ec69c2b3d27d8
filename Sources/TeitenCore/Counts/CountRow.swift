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

    /// The row in 31 bits: class and protocol (5), port (16), country as a
    /// number below 676 (10 bits; two letters A to Z). The hour's distinct
    /// pairs are named by it (`HourCounts.pair`): unlike the row's index,
    /// it is known before the row is looked up, so the look-ahead can ask
    /// for a pair's line as soon as the packet's country is known. Distinct
    /// for well-formed rows.
    @inline(__always)
    var identity: UInt64 {
        let kind = (packed >> 40 & 0x3) << 3 | (packed >> 32 & 0x7)
        let first = (packed >> 8 & 0xFF) &- 65, second = (packed & 0xFF) &- 65
        return kind << 26 | (packed >> 16 & 0xFFFF) << 10 | (first &* 26 &+ second) & 0x3FF
    }

    /// Whether every field holds a value a packet can give: a class and a
    /// protocol with a name, a country of two letters A to Z (all that
    /// `CountryDatabase.pack` makes). Checkpoints read back are checked.
    var isWellFormed: Bool {
        let letters = UInt64(UInt8(ascii: "A"))...UInt64(UInt8(ascii: "Z"))
        return packed >> 40 <= 2 && packed >> 32 & 0xFF <= 4
            && letters.contains(packed >> 8 & 0xFF) && letters.contains(packed & 0xFF)
    }

    public var className: String { Self.classNames[Int(packed >> 40 & 0x3)] }
    public var protocolName: String { Self.protocolNames[Int(packed >> 32 & 0x7)] }
    public var port: UInt16 { UInt16(truncatingIfNeeded: packed >> 16) }
    public var country: String { CountryDatabase.unpack(UInt16(truncatingIfNeeded: packed)) }
}
