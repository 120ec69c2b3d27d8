/// Writes deterministic captures that resemble what a darknet sensor sees:
/// the sample for `make run`, test inputs and benchmark inputs, so no large
/// capture is ever committed. Same configuration, same bytes.
///
/// `darknet` mode mixes, per packet (shares approximate):
/// - 34 % horizontal sweepers: one port over the dark /16 in a permuted order,
///   each with a tool's habits (ZMap's IP id 54321, masscan's id and window
///   1024, Mirai's sequence = destination, nmap's window 1024 and MSS);
///   some sweep UDP 1434 with the 376-byte SQL Slammer payload (other UDP
///   1434 probes carry a 1-byte SQL browser request);
/// - 5 % vertical scanners: every port of one dark host, in order;
/// - 4 % backscatter: SYN-ACK and RST from victims of spoofed floods, and
///   ICMP unreachables and echo replies;
/// - 28 % a recurring botnet-like pool with favourite ports, 21 % one-off
///   sources (a fresh address per packet), TCP ports Zipf-like led by 445,
///   23, 22, 80, 3389, 135, 1433, 3127, 6129, 4899, UDP to 1434, 53, 123,
///   5060, ICMP echo;
/// - 2 % IPv6 SYN probes to the dark /48.
/// Sources come from allocated unicast space; destinations from
/// 198.18.0.0/16 and 2001:db8:4000::/48, ranges reserved for benchmarks and
/// documentation, so a synthetic file never names a real victim.
///
/// `flood` mode: a spoofed SYN flood where every packet has a source never
/// used before, all to one destination and port.
public struct DarknetSynthesizer {
    public enum Mode: String, Sendable, CaseIterable {
        case darknet
        case flood
    }

    public struct Configuration: Sendable {
        public var mode: Mode = .darknet
        public var packets: Int = 100_000
        public var seed: UInt64 = 1
        /// Packet time of the first packet, seconds since the epoch
        /// (default 2026-01-15T00:00:00Z).
        public var startTime: Int64 = 1_768_435_200
        /// Span of the capture in seconds; packets are spread evenly over it.
        public var durationSeconds: Int64 = 4 * 3600
        public init() {}
    }

    /// The dark IPv4 network destinations are drawn from.
    public static let darkIPv4Base: UInt32 = 0xC612_0000  // 198.18.0.0/16
    /// The dark IPv6 network (a /48) destinations are drawn from.
    public static let darkIPv6High: UInt64 = 0x2001_0DB8_4000_0000  // 2001:db8:4000::/48
    /// The flood's victim, in flood mode.
    public static let floodVictim: UInt32 = 0xC612_0707  // 198.18.7.7
    public static let floodPort: UInt16 = 80

    /// TCP destination ports by popularity (rank 0 most popular).
    public static let tcpPorts: [UInt16] = [
        445, 23, 22, 80, 3389, 135, 1433, 3127, 6129, 4899, 8080, 443, 139, 5900, 3306, 2323, 25, 21,
        8443, 5555, 7547, 81, 8888, 9200, 6379, 11211, 5432, 2375, 37215, 52869, 110, 143, 993, 17300,
        20168, 2745, 5554, 9996, 1023, 60001,
    ]

    private let configuration: Configuration
    private var random: SeededGenerator
    private let portLaw = ZipfTable(count: DarknetSynthesizer.tcpPorts.count)
    private var sweepers: [Sweeper] = []
    private let sweeperLaw: ZipfTable
    private var verticals: [VerticalScanner] = []
    private var botnet: [UInt32] = []
    private var botnetFavourite: [UInt16] = []
    private let botnetLaw: ZipfTable
    private var victims: [UInt32] = []
    private var ipv6Sources: [UInt64] = []

    public init(_ configuration: Configuration) {
        self.configuration = configuration
        random = SeededGenerator(seed: configuration.seed)
        let sweeperCount = 48
        let botnetCount = max(200, configuration.packets / 50)
        sweeperLaw = ZipfTable(count: sweeperCount)
        botnetLaw = ZipfTable(count: botnetCount)
        for index in 0..<sweeperCount {
            let tool = Tool.allCases[index % Tool.allCases.count]
            var port = Self.tcpPorts[portLaw.draw(&random)]
            var udp = false
            if tool == .mirai { port = random.chance(0.9) ? 23 : 2323 }
            if index % 8 == 5 { udp = true; port = 1434 }  // SQL Slammer-like worm sweepers
            sweepers.append(Sweeper(source: allocatedAddress(), port: port, udp: udp, tool: tool,
                                    start: UInt32(random.below(65536)), stride: UInt32(random.below(32768)) * 2 + 1))
        }
        for _ in 0..<6 {
            verticals.append(VerticalScanner(source: allocatedAddress(),
                                             target: Self.darkIPv4Base | UInt32(random.below(65536)),
                                             nextPort: UInt16(1 + random.below(1000))))
        }
        for _ in 0..<botnetCount {
            botnet.append(allocatedAddress())
            botnetFavourite.append(random.chance(0.3) ? (random.chance(0.5) ? 23 : 2323) : Self.tcpPorts[portLaw.draw(&random)])
        }
        for _ in 0..<10 { victims.append(allocatedAddress()) }
        for _ in 0..<40 { ipv6Sources.append(Self.allocatedIPv6Prefixes[random.below(Self.allocatedIPv6Prefixes.count)] | UInt64(random.u32())) }
    }

    /// Writes the capture; returns the number of packets written.
    @discardableResult
    public mutating func write(to path: String, options: CaptureFileWriter.Options = CaptureFileWriter.Options()) throws -> Int {
        let writer = try CaptureFileWriter(path: path, options: options)
        let span = Double(configuration.durationSeconds) * 1e9
        for index in 0..<configuration.packets {
            // Evenly spread, jittered within the slot: increasing packet time.
            let offset = (Double(index) + random.unit()) * span / Double(max(1, configuration.packets))
            let nanos = configuration.startTime * 1_000_000_000 + Int64(offset)
            let packet = configuration.mode == .flood ? floodPacket(index) : darknetPacket()
            try writer.append(frame: FrameBuilder.ethernet(packet, etherType: FrameBuilder.etherType(of: packet)),
                              seconds: nanos / 1_000_000_000, nanoseconds: nanos % 1_000_000_000)
        }
        try writer.close()
        return configuration.packets
    }

    // MARK: Darknet mode

    private mutating func darknetPacket() -> [UInt8] {
        let roll = random.below(100)
        switch roll {
        case 0..<34: return sweepPacket()
        case 34..<39: return verticalPacket()
        case 39..<43: return backscatterPacket()
        case 43..<45: return ipv6Probe()
        case 45..<73:
            let member = botnetLaw.draw(&random)
            let port = random.chance(0.7) ? botnetFavourite[member] : randomTCPPort()
            return probe(from: botnet[member], port: port)
        default:
            return probe(from: allocatedAddress(), port: randomTCPPort())
        }
    }

    /// A probe from an ordinary source: mostly TCP SYN, some UDP and ICMP echo.
    private mutating func probe(from source: UInt32, port: UInt16) -> [UInt8] {
        let destination = darkAddress()
        let roll = random.below(100)
        if roll < 10 { return udpProbe(from: source, to: destination) }
        if roll < 14 {
            let body = FrameBuilder.bytes16(random.u16()) + FrameBuilder.bytes16(1)
                + (random.chance(0.5) ? [UInt8](repeating: 0x61, count: 56) : [])
            return FrameBuilder.ipv4(source: source, destination: destination,
                                     transport: .icmp(type: 8, code: 0, body: body), ttl: ttl(), identification: random.u16())
        }
        return syn(from: source, to: destination, port: port, tool: random.chance(0.5) ? .linux : .windows)
    }

    private mutating func udpProbe(from source: UInt32, to destination: UInt32) -> [UInt8] {
        let roll = random.below(100)
        let port: UInt16
        let payload: [UInt8]
        switch roll {
        case 0..<30: port = 1434; payload = [0x02]  // SQL Server Resolution Protocol browse request
        case 30..<50: port = 53; payload = Self.dnsQuery(id: random.u16())
        case 50..<65: port = 123; payload = [0x23] + [UInt8](repeating: 0, count: 47)  // NTP v4 client
        case 65..<80: port = 5060; payload = Array("OPTIONS sip:nm SIP/2.0\r\nVia: SIP/2.0/UDP nm;branch=foo\r\n\r\n".utf8)
        default:
            port = UInt16(1 + random.below(65535))
            payload = (0..<random.below(33)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        }
        return FrameBuilder.ipv4(source: source, destination: destination,
                                 transport: .udp(sourcePort: UInt16(1024 + random.below(64511)), destinationPort: port, payload: payload),
                                 ttl: ttl(), identification: random.u16())
    }

    private mutating func sweepPacket() -> [UInt8] {
        let index = sweeperLaw.draw(&random)
        let destination = Self.darkIPv4Base | (sweepers[index].start &+ sweepers[index].count &* sweepers[index].stride) & 0xFFFF
        sweepers[index].count &+= 1
        let sweeper = sweepers[index]
        if sweeper.udp {
            return FrameBuilder.ipv4(source: sweeper.source, destination: destination,
                                     transport: .udp(sourcePort: UInt16(1024 + random.below(64511)), destinationPort: sweeper.port,
                                                     payload: Self.slammerPayload),
                                     ttl: ttl(), identification: random.u16())
        }
        return syn(from: sweeper.source, to: destination, port: sweeper.port, tool: sweeper.tool)
    }

    private mutating func verticalPacket() -> [UInt8] {
        let index = random.below(verticals.count)
        let port = verticals[index].nextPort
        verticals[index].nextPort = port == 65535 ? 1 : port + 1
        return syn(from: verticals[index].source, to: verticals[index].target, port: port, tool: .nmap)
    }

    /// Replies from a victim of a spoofed-source attack to addresses it
    /// believes contacted it: SYN-ACK, RST, and ICMP replies and errors.
    private mutating func backscatterPacket() -> [UInt8] {
        let victim = victims[random.below(victims.count)]
        let destination = darkAddress()
        let roll = random.below(100)
        if roll < 15 {
            let type: UInt8 = random.chance(0.5) ? 0 : 3  // echo reply, destination unreachable
            return FrameBuilder.ipv4(source: victim, destination: destination,
                                     transport: .icmp(type: type, code: type == 3 ? 3 : 0, body: [0, 0, 0, 0] + [UInt8](repeating: 0, count: 28)),
                                     ttl: ttl(), identification: random.u16())
        }
        let servicePort: UInt16 = [80, 443, 53, 22][random.below(4)]
        let segment = FrameBuilder.TCPSegment(
            sourcePort: servicePort, destinationPort: UInt16(1024 + random.below(64511)),
            sequence: random.u32(), acknowledgment: random.u32(),
            flags: roll < 70 ? 0x12 : 0x14,  // SYN-ACK, else RST-ACK
            window: roll < 70 ? 64240 : 0, options: roll < 70 ? FrameBuilder.TCPOptions.mss(1460) : [])
        return FrameBuilder.ipv4(source: victim, destination: destination, transport: .tcp(segment),
                                 ttl: ttl(), identification: random.u16())
    }

    private mutating func ipv6Probe() -> [UInt8] {
        let source = ipv6Sources[random.below(ipv6Sources.count)]
        let destinationLow = random.next()
        let segment = FrameBuilder.TCPSegment(sourcePort: UInt16(1024 + random.below(64511)), destinationPort: randomTCPPort(),
                                              sequence: random.u32(), window: 64800, options: FrameBuilder.TCPOptions.mss(1440))
        return FrameBuilder.ipv6(source: FrameBuilder.ipv6Bytes(high: source, low: 0x1000 | UInt64(random.below(256))),
                                 destination: FrameBuilder.ipv6Bytes(high: Self.darkIPv6High | UInt64(random.below(65536)), low: destinationLow),
                                 transport: .tcp(segment), hopLimit: ttl())
    }

    // MARK: Flood mode

    private mutating func floodPacket(_ index: Int) -> [UInt8] {
        let segment = FrameBuilder.TCPSegment(sourcePort: UInt16(1024 + random.below(64511)), destinationPort: Self.floodPort,
                                              sequence: random.u32(), window: UInt16(truncatingIfNeeded: random.next() | 512))
        return FrameBuilder.ipv4(source: Self.distinctAllocatedAddress(index), destination: Self.floodVictim,
                                 transport: .tcp(segment), ttl: ttl(), identification: random.u16())
    }

    /// The `index`-th of a sequence of distinct allocated addresses: a /8
    /// from the allocated list in turn, and within it an odd-multiplier
    /// permutation of the low 24 bits (a bijection), so no address repeats
    /// for the first `allocatedSlash8.count` × 2^24 indices.
    static func distinctAllocatedAddress(_ index: Int) -> UInt32 {
        let blocks = allocatedSlash8.count
        let block = allocatedSlash8[index % blocks]
        let within = UInt32(truncatingIfNeeded: (index / blocks) &* 0x9E3779B1 &+ 0x5bd1e995) & 0xFFFFFF
        return UInt32(block) << 24 | within
    }

    // MARK: Packet habits of scanning tools

    enum Tool: CaseIterable {
        case zmap, masscan, mirai, nmap, linux, windows
    }

    private mutating func syn(from source: UInt32, to destination: UInt32, port: UInt16, tool: Tool) -> [UInt8] {
        let sourcePort = UInt16(1024 + random.below(64511))
        var sequence = random.u32()
        var identification = random.u16()
        var window: UInt16 = 64240
        var options: [UInt8] = []
        switch tool {
        case .zmap:
            identification = 54321; window = 65535
        case .masscan:
            window = 1024
            if random.chance(0.5) { options = FrameBuilder.TCPOptions.mss(1460) }  // masscan ≥ 2023 adds MSS
            identification = UInt16(truncatingIfNeeded: destination ^ UInt32(port) ^ sequence)
        case .mirai:
            sequence = destination; window = UInt16(truncatingIfNeeded: random.next() | 1)
        case .nmap:
            window = 1024; options = FrameBuilder.TCPOptions.mss(1460)
        case .linux:
            options = FrameBuilder.TCPOptions.linux(timestamp: random.u32())
        case .windows:
            window = 8192; options = FrameBuilder.TCPOptions.windows
        }
        let segment = FrameBuilder.TCPSegment(sourcePort: sourcePort, destinationPort: port, sequence: sequence,
                                              flags: 0x02, window: window, options: options)
        return FrameBuilder.ipv4(source: source, destination: destination, transport: .tcp(segment),
                                 ttl: ttl(), identification: identification, dontFragment: tool == .linux)
    }

    // MARK: Draws

    private mutating func randomTCPPort() -> UInt16 {
        random.chance(0.12) ? UInt16(1 + random.below(65535)) : Self.tcpPorts[portLaw.draw(&random)]
    }

    private mutating func darkAddress() -> UInt32 { Self.darkIPv4Base | UInt32(random.below(65536)) }

    private mutating func allocatedAddress() -> UInt32 {
        UInt32(Self.allocatedSlash8[random.below(Self.allocatedSlash8.count)]) << 24 | UInt32(random.below(1 << 24))
    }

    /// Initial TTLs of 64, 128 or 255 less a path of 5–25 hops.
    private mutating func ttl() -> UInt8 {
        let initial: [UInt8] = [64, 128, 255]
        return initial[random.below(3)] - UInt8(5 + random.below(21))
    }

    /// /8 blocks allocated to the regional registries and in use, avoiding
    /// every special-purpose range (RFC 6890: 0, 10, 100.64, 127, 169.254,
    /// 172.16, 192.0.0, 192.0.2, 192.168, 198.18, 198.51.100, 203.0.113, 224+).
    static let allocatedSlash8: [UInt8] = [
        1, 2, 5, 14, 27, 31, 36, 37, 39, 41, 42, 43, 45, 46, 49, 58, 59, 60, 61, 62, 77, 78, 79, 80, 81,
        82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 101, 103, 106, 110, 111, 112, 113, 114,
        115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 175, 176, 177, 178, 179, 180, 181, 182,
        183, 185, 186, 187, 188, 189, 190, 191, 193, 194, 195, 196, 197, 200, 201, 202, 210, 211, 212,
        213, 217, 218, 219, 220, 221, 222, 223,
    ]

    /// Upper 64 bits of /32s from the registries' IPv6 allocations (2400::/12
    /// APNIC, 2600::/12 ARIN, 2a00::/12 RIPE NCC, 2800::/12 LACNIC, 2c00::/12 AFRINIC).
    static let allocatedIPv6Prefixes: [UInt64] = [
        0x2400_CB00_0000_0000, 0x2406_DA00_0000_0000, 0x2604_A880_0000_0000, 0x2607_F8B0_0000_0000,
        0x2A01_04F8_0000_0000, 0x2A03_B0C0_0000_0000, 0x2800_03F0_0000_0000, 0x2C0F_F248_0000_0000,
    ]

    /// A 376-byte UDP payload with SQL Slammer's shape: the 0x04 "CLNT_UCAST_INST"
    /// request byte, then filler. Not the worm's code: length and first byte
    /// are what signatures match on.
    static let slammerPayload: [UInt8] = [0x04] + [UInt8](repeating: 0x01, count: 95) + [UInt8](repeating: 0x90, count: 280)

    static func dnsQuery(id: UInt16) -> [UInt8] {
        // A query for "example.com" A IN.
        FrameBuilder.bytes16(id) + [0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
            + [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0, 0, 1, 0, 1]
    }
}

private struct Sweeper {
    let source: UInt32
    let port: UInt16
    let udp: Bool
    let tool: DarknetSynthesizer.Tool
    let start: UInt32
    let stride: UInt32
    var count: UInt32 = 0
}

private struct VerticalScanner {
    let source: UInt32
    let target: UInt32
    var nextPort: UInt16
}
