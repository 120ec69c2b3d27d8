import PacketDecoding
import Testing
import TrafficSynthesis

/// Every prefix of every valid frame decodes or reports a reason; none traps
/// (these run in debug builds, where a read past a `has` check asserts).
@Suite("Truncation and corruption")
struct TruncationTests {
    /// One valid frame per link type and header shape the decoder knows.
    static let frames: [(String, LinkType, [UInt8])] = {
        let v4 = ipv4SYN()
        let withOptions = FrameBuilder.ipv4(source: scanner, destination: darkHost,
                                            transport: tcpSYN(options: FrameBuilder.TCPOptions.linux(timestamp: 3)),
                                            options: [7, 7, 4, 0, 0, 0, 0])
        let udp = FrameBuilder.ipv4(source: scanner, destination: darkHost,
                                    transport: .udp(sourcePort: 9, destinationPort: 1434, payload: [UInt8](repeating: 4, count: 80)))
        let icmp = FrameBuilder.ipv4(source: scanner, destination: darkHost, transport: .icmp(type: 3, code: 1, body: [0, 0, 0, 0]))
        let v6 = FrameBuilder.ipv6(source: v6Source, destination: v6Destination, transport: tcpSYN(),
                                   extensionHeaders: [.options(type: 0), .routing(segment: [UInt8](repeating: 2, count: 16)),
                                                      .fragment(offset: 0, more: true, identification: 5), .options(type: 60)])
        let icmp6 = FrameBuilder.ipv6(source: v6Source, destination: v6Destination, transport: .icmp(type: 128, code: 0, body: [0, 1, 0, 1]))
        return [
            ("ethernet", .ethernet, FrameBuilder.ethernet(v4, etherType: 0x0800)),
            ("ethernet ip options", .ethernet, FrameBuilder.ethernet(withOptions, etherType: 0x0800)),
            ("qinq", .ethernet, FrameBuilder.ethernet(udp, etherType: 0x0800, vlanTags: [(0x88A8, 1), (0x8100, 2)])),
            ("mpls", .ethernet, FrameBuilder.ethernet([0, 1, 0x01, 0x40] + icmp, etherType: 0x8847)),
            ("pppoe", .ethernet, FrameBuilder.ethernet([0x11, 0, 0, 1] + FrameBuilder.bytes16(UInt16(v6.count + 2)) + [0, 0x57] + v6, etherType: 0x8864)),
            ("sll", .linuxSLL, FrameBuilder.linuxSLL(v6, protocolType: 0x86DD)),
            ("sll2", .linuxSLL2, FrameBuilder.linuxSLL2(icmp6, protocolType: 0x86DD)),
            ("null", .null, FrameBuilder.loopback(udp, family: 2, networkOrder: false)),
            ("loop", .loop, FrameBuilder.loopback(v6, family: 24, networkOrder: true)),
            ("ppp", .ppp, [0xFF, 0x03, 0x00, 0x21] + icmp),
            ("raw", .raw, withOptions),
            ("raw ipv6", .rawIPv6, icmp6),
        ]
    }()

    @Test func everyPrefixLength() {
        var failures = 0
        for (name, linkType, frame) in Self.frames {
            #expect(decode(frame, as: linkType).record != nil, "\(name) decodes whole")
            for length in 0..<frame.count {
                if case .failure(let reason) = decode(Array(frame.prefix(length)), as: linkType) {
                    #expect(reason.isMalformed, "\(name) cut at \(length): \(reason.name)")
                    failures += 1
                }
            }
        }
        #expect(failures > 0)
    }

    /// Seeded random corruption of valid frames: flipped bytes, cut tails,
    /// appended junk. 200,000 decodes; the test asserts only that each one
    /// returns (a trap fails the run), and that both outcomes occurred.
    @Test func randomCorruption() {
        var random = SeededGenerator(seed: 2026)
        var decoded = 0, rejected = 0
        for _ in 0..<200_000 {
            let (_, linkType, original) = Self.frames[random.below(Self.frames.count)]
            var frame = original
            for _ in 0..<(1 + random.below(4)) {
                frame[random.below(frame.count)] = UInt8(truncatingIfNeeded: random.next())
            }
            if random.chance(0.3) { frame = Array(frame.prefix(random.below(frame.count + 1))) }
            if random.chance(0.1) { frame += (0..<random.below(64)).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
            if decode(frame, as: linkType).record != nil { decoded += 1 } else { rejected += 1 }
        }
        #expect(decoded > 0 && rejected > 0)
    }

    @Test func emptyFrameOnEveryLinkType() {
        for linkType in [LinkType.ethernet, .null, .loop, .raw, .rawIPv4, .rawIPv6, .linuxSLL, .linuxSLL2, .ppp] {
            #expect(decode([], as: linkType).failure?.isMalformed == true)
        }
    }

    @Test func packetTimeNeverTraps() {
        #expect(PacketTime(seconds: .max, nanoseconds: 999) == .latest)
        #expect(PacketTime(seconds: .min, nanoseconds: 0) == .earliest)
        #expect(PacketTime(seconds: 9_223_372_036, nanoseconds: 999_999_999) == .latest)
        #expect(PacketTime(seconds: 1 << 40, nanoseconds: 0) == .latest, "past 2106")
        #expect(PacketTime(seconds: -(1 << 40), nanoseconds: 0) == .earliest)
        #expect(PacketTime(seconds: Int64(UInt32.max), nanoseconds: 0).seconds == Int64(UInt32.max), "2106 itself is kept")
        #expect(PacketTime(seconds: Int64(Int32.min), nanoseconds: 0).seconds == Int64(Int32.min))
        // Any two clamped times differ by less than Int64.max.
        #expect(PacketTime.latest.nanoseconds.subtractingReportingOverflow(PacketTime.earliest.nanoseconds).overflow == false)
        #expect(PacketTime(seconds: 1, nanoseconds: 5).nanoseconds == 1_000_000_005)
        #expect(PacketTime(seconds: -1, nanoseconds: 5).seconds == -1)
    }
}
