import PacketDecoding
import Testing
import TrafficSynthesis

@Suite("Link layers")
struct LinkLayerTests {
    @Test func ethernetIPv4() throws {
        let record = try #require(decode(FrameBuilder.ethernet(ipv4SYN(), etherType: 0x0800)).record)
        #expect(record.ipVersion == 4)
        #expect(record.source == IPAddress(ipv4: scanner))
        #expect(record.destination.description == "198.18.1.2")
        #expect(record.destinationPort == 445)
        #expect(record.time == PacketTime(nanoseconds: 42))
    }

    @Test func vlanAndQinQ() throws {
        let packet = ipv4SYN()
        let single = FrameBuilder.ethernet(packet, etherType: 0x0800, vlanTags: [(0x8100, 100)])
        let qinq = FrameBuilder.ethernet(packet, etherType: 0x0800, vlanTags: [(0x88A8, 200), (0x8100, 100)])
        let legacy = FrameBuilder.ethernet(packet, etherType: 0x0800, vlanTags: [(0x9100, 300), (0x8100, 100)])
        for frame in [single, qinq, legacy] {
            #expect(decode(frame).record?.destinationPort == 445)
        }
        let tooDeep = FrameBuilder.ethernet(packet, etherType: 0x0800, vlanTags: Array(repeating: (0x8100, 1), count: 9))
        #expect(decode(tooDeep).failure == .tooManyEncapsulations)
    }

    @Test func mplsAndPPPoE() throws {
        let packet = ipv4SYN()
        // Two labels, the second with bottom-of-stack set.
        let mpls = FrameBuilder.ethernet([0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40] + packet, etherType: 0x8847)
        #expect(decode(mpls).record?.destinationPort == 445)
        let pppoe = FrameBuilder.ethernet([0x11, 0x00, 0x00, 0x01] + FrameBuilder.bytes16(UInt16(packet.count + 2)) + [0x00, 0x21] + packet,
                                          etherType: 0x8864)
        #expect(decode(pppoe).record?.destinationPort == 445)
    }

    @Test func nonIPIsNotMalformed() {
        let arp = FrameBuilder.ethernet([UInt8](repeating: 0, count: 28), etherType: 0x0806)
        #expect(decode(arp).failure == .notIP)
        #expect(DecodeFailure.notIP.isMalformed == false)
    }

    @Test func linuxCookedV1AndV2() throws {
        let packet = FrameBuilder.ipv6(source: v6Source, destination: v6Destination, transport: tcpSYN(destinationPort: 22))
        #expect(decode(FrameBuilder.linuxSLL(packet, protocolType: 0x86DD), as: .linuxSLL).record?.destinationPort == 22)
        #expect(decode(FrameBuilder.linuxSLL2(packet, protocolType: 0x86DD), as: .linuxSLL2).record?.destinationPort == 22)
        // The link layer says IPv4 but the packet is IPv6.
        #expect(decode(FrameBuilder.linuxSLL(packet, protocolType: 0x0800), as: .linuxSLL).failure == .badIPVersion)
    }

    @Test func rawIP() throws {
        let v4 = ipv4SYN()
        let v6 = FrameBuilder.ipv6(source: v6Source, destination: v6Destination, transport: tcpSYN())
        #expect(decode(v4, as: .raw).record?.ipVersion == 4)
        #expect(decode(v6, as: .raw).record?.ipVersion == 6)
        #expect(decode(v4, as: .rawIPv4).record?.ipVersion == 4)
        #expect(decode(v6, as: .rawIPv6).record?.ipVersion == 6)
        #expect(decode(v6, as: .rawIPv4).failure == .badIPVersion)
        #expect(decode([0x50] + v4.dropFirst(), as: .raw).failure == .badIPVersion)
        #expect(LinkType(dlt: 101) == .raw && LinkType(dlt: 12) == .raw && LinkType(dlt: 228) == .rawIPv4)
    }

    @Test func bsdLoopback() throws {
        let v4 = ipv4SYN()
        let v6 = FrameBuilder.ipv6(source: v6Source, destination: v6Destination, transport: tcpSYN())
        #expect(decode(FrameBuilder.loopback(v4, family: 2, networkOrder: false), as: .null).record?.ipVersion == 4)
        // A big-endian host wrote DLT_NULL: the family reads byte-swapped and is recognised anyway.
        #expect(decode(FrameBuilder.loopback(v4, family: 2, networkOrder: true), as: .null).record?.ipVersion == 4)
        for family: UInt32 in [10, 24, 28, 30] {
            #expect(decode(FrameBuilder.loopback(v6, family: family, networkOrder: false), as: .null).record?.ipVersion == 6)
        }
        #expect(decode(FrameBuilder.loopback(v6, family: 24, networkOrder: true), as: .loop).record?.ipVersion == 6)
        #expect(decode(FrameBuilder.loopback(v4, family: 7, networkOrder: true), as: .loop).failure == .notIP)
    }

    @Test func ppp() throws {
        let v4 = ipv4SYN()
        #expect(decode([0xFF, 0x03, 0x00, 0x21] + v4, as: .ppp).record?.ipVersion == 4)
        #expect(decode([0x00, 0x21] + v4, as: .ppp).record?.ipVersion == 4)
        #expect(decode([0x21] + v4, as: .ppp).record?.ipVersion == 4)  // compressed protocol field
        #expect(decode([0xFF, 0x03, 0xC0, 0x21, 1, 2, 3, 4], as: .ppp).failure == .notIP)  // LCP
    }

    @Test func unsupportedLinkType() {
        #expect(decode(ipv4SYN(), as: LinkType(dlt: 127)).failure == .unsupportedLinkType)
    }

    /// A frame written out byte by byte (as tcpdump -xx shows it), so the
    /// decoder is also checked against bytes no code of ours produced.
    @Test func literalFrame() throws {
        let frame: [UInt8] = [
            0x00, 0x16, 0x3e, 0x00, 0x00, 0x01, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, 0x08, 0x00,  // Ethernet
            0x45, 0x00, 0x00, 0x2c, 0xd4, 0x31, 0x00, 0x00, 0x39, 0x06, 0x00, 0x00,              // IPv4, id 54321, ttl 57
            0xcb, 0x00, 0x71, 0x05, 0xc6, 0x12, 0x01, 0x02,                                      // 203.0.113.5 > 198.18.1.2
            0x9c, 0x40, 0x0c, 0xea, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00,              // 40000 > 3306, seq
            0x60, 0x02, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,              // SYN, win 1024, MSS 1460
            0x00, 0x00,                                                                          // Ethernet padding
        ]
        let record = try #require(decode(frame).record)
        #expect(record.source.description == "203.0.113.5")
        #expect(record.sourcePort == 40000 && record.destinationPort == 3306)
        #expect(record.ipID == 54321 && record.ttl == 57 && record.ipLength == 44)
        #expect(record.tcp.flags == TCPSummary.syn && record.tcp.window == 1024 && record.tcp.sequence == 0x0102_0304)
        #expect(record.tcp.options.mss == 1460 && record.tcp.options.count == 1)
        #expect(record.payloadLength == 0, "Ethernet padding is not payload")
    }
}
