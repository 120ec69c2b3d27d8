import PacketDecoding
import Testing
import TrafficSynthesis

@Suite("IPv4 and IPv6")
struct NetworkLayerTests {
    @Test func ipv4Options() throws {
        // Record route (7) with room for one address, plus end-of-list padding: IHL 8.
        let packet = FrameBuilder.ipv4(source: scanner, destination: darkHost, transport: tcpSYN(destinationPort: 23),
                                       options: [7, 7, 4, 0, 0, 0, 0])
        #expect(packet[0] & 0x0F == 7)
        let record = try #require(decode(packet, as: .raw).record)
        #expect(record.destinationPort == 23)
    }

    @Test func ipv4Fragments() throws {
        let first = FrameBuilder.ipv4(source: scanner, destination: darkHost, transport: tcpSYN(destinationPort: 80),
                                      identification: 77, moreFragments: true)
        let firstRecord = try #require(decode(first, as: .raw).record)
        #expect(firstRecord.fragment.isFragment && firstRecord.fragment.offset == 0)
        #expect(firstRecord.destinationPort == 80, "ports come from the first fragment")

        // A later fragment whose bytes happen to look like a TCP header: no ports from it.
        let later = FrameBuilder.ipv4(source: scanner, destination: darkHost, transport: tcpSYN(destinationPort: 80),
                                      identification: 77, fragmentOffset: 1480)
        let laterRecord = try #require(decode(later, as: .raw).record)
        #expect(laterRecord.fragment.offset == 1480 && laterRecord.fragment.isFragment)
        #expect(laterRecord.destinationPort == 0 && laterRecord.sourcePort == 0)
        #expect(laterRecord.transport == .tcp)
    }

    @Test func ipv4HeaderLies() {
        var packet = ipv4SYN()
        packet[0] = 0x44  // IHL 4 words: less than the fixed header
        #expect(decode(packet, as: .raw).failure == .ipv4BadHeaderLength)
        packet = ipv4SYN()
        packet[2] = 0; packet[3] = 10  // total length below the header
        #expect(decode(packet, as: .raw).failure == .ipv4BadTotalLength)
        packet = ipv4SYN()
        packet[0] = 0x4F  // IHL 60 bytes, more than captured
        #expect(decode(Array(packet.prefix(40)), as: .raw).failure == .ipv4Truncated)
    }

    @Test func ipv4TotalLengthZeroMeansCaptured() throws {
        var packet = ipv4SYN()
        packet[2] = 0; packet[3] = 0  // as written by segmentation offload
        let record = try #require(decode(packet, as: .raw).record)
        #expect(record.destinationPort == 445 && Int(record.ipLength) == packet.count)
    }

    @Test(arguments: [
        [FrameBuilder.ExtensionHeader.options(type: 0)],
        [.routing(segment: [UInt8](repeating: 0x20, count: 16))],
        [.options(type: 60)],
        [.fragment(offset: 0, more: true, identification: 0xDEAD_BEEF)],
        [.options(type: 0), .routing(segment: [UInt8](repeating: 1, count: 16)), .options(type: 60)],
        [FrameBuilder.ExtensionHeader(type: 51, body: [4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])],
    ])
    func ipv6ExtensionHeaders(chain: [FrameBuilder.ExtensionHeader]) throws {
        let packet = FrameBuilder.ipv6(source: v6Source, destination: v6Destination,
                                       transport: .udp(sourcePort: 5353, destinationPort: 1434, payload: [4, 1, 1, 1]),
                                       hopLimit: 50, extensionHeaders: chain)
        let record = try #require(decode(packet, as: .raw).record)
        #expect(record.transport == .udp)
        #expect(record.destinationPort == 1434 && record.payloadLength == 4)
        #expect(record.ttl == 50)
        #expect(record.source.description == "2001:db8:0:1::7")
        if chain.contains(where: { $0.type == 44 }) { #expect(record.ipID == 0xDEAD_BEEF) }
    }

    @Test func ipv6LaterFragmentHasNoPorts() throws {
        let packet = FrameBuilder.ipv6(source: v6Source, destination: v6Destination, transport: tcpSYN(),
                                       extensionHeaders: [.fragment(offset: 1232, more: false, identification: 9)])
        let record = try #require(decode(packet, as: .raw).record)
        #expect(record.fragment.offset == 1232 && record.destinationPort == 0 && record.transport == .tcp)
    }

    @Test func ipv6ExtensionAbuse() {
        let many = [FrameBuilder.ExtensionHeader](repeating: .options(type: 60), count: 12)
        let packet = FrameBuilder.ipv6(source: v6Source, destination: v6Destination, transport: tcpSYN(), extensionHeaders: many)
        #expect(decode(packet, as: .raw).failure == .ipv6TooManyExtensions)

        var lying = FrameBuilder.ipv6(source: v6Source, destination: v6Destination, transport: tcpSYN(),
                                      extensionHeaders: [.options(type: 0)])
        lying[41] = 200  // hop-by-hop claims 1608 bytes
        #expect(decode(lying, as: .raw).failure == .ipv6ExtensionTruncated)
    }

    @Test func icmpAndICMPv6() throws {
        let echo = FrameBuilder.ipv4(source: scanner, destination: darkHost, transport: .icmp(type: 8, code: 0, body: [0, 1, 0, 1]))
        let v4 = try #require(decode(echo, as: .raw).record)
        #expect(v4.transport == .icmp && v4.icmpType == 8 && v4.icmpCode == 0 && v4.destinationPort == 0)
        let unreachable = FrameBuilder.ipv6(source: v6Source, destination: v6Destination,
                                            transport: .icmp(type: 1, code: 4, body: [0, 0, 0, 0]))
        let v6 = try #require(decode(unreachable, as: .raw).record)
        #expect(v6.transport == .icmp6 && v6.icmpType == 1 && v6.icmpCode == 4)
        #expect(decode(Array(echo.prefix(22)), as: .raw).failure == .icmpTruncated)
    }

    @Test func addressText() {
        for text in ["198.18.0.1", "::", "::1", "2001:db8::1", "2001:db8:0:1::7", "fe80::1:2:3:4", "1:2:3:4:5:6:7:8", "2001:db8::"] {
            #expect(IPAddress(text)?.description == text, "\(text)")
        }
        #expect(IPAddress("2001:DB8:0:0:1:0:0:1")?.description == "2001:db8::1:0:0:1")
        #expect(IPAddress("::ffff:198.18.0.1")?.isIPv4 == true)
        for bad in ["", "1.2.3", "1.2.3.256", "1::2::3", "12345::", "1.2.3.4.5", "g::1", ":::"] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
    }
}
