import PacketDecoding
import Testing
import TrafficSynthesis

@Suite("TCP, UDP and payload")
struct TransportTests {
    @Test func tcpOptionsSummary() throws {
        let linux = FrameBuilder.TCPOptions.linux(timestamp: 7)
        let record = try #require(decode(FrameBuilder.ipv4(source: scanner, destination: darkHost,
                                                           transport: tcpSYN(options: linux)), as: .raw).record)
        let options = record.tcp.options
        #expect(options.mss == 1460 && options.windowScale == 7 && options.sackPermitted && options.hasTimestamp)
        // MSS, SACK permitted, timestamps, NOP, window scale: kinds in order.
        #expect(options.kinds == 0x03_01_08_04_02 && options.count == 5 && !options.incomplete)
        #expect(record.tcp.headerLength == 40)

        let windows = try #require(decode(FrameBuilder.ipv4(source: scanner, destination: darkHost,
                                                            transport: tcpSYN(options: FrameBuilder.TCPOptions.windows)), as: .raw).record)
        #expect(windows.tcp.options.windowScale == 8 && windows.tcp.options.count == 6)

        let bare = try #require(decode(FrameBuilder.ipv4(source: scanner, destination: darkHost,
                                                         transport: tcpSYN(options: [])), as: .raw).record)
        #expect(bare.tcp.options == TCPOptionsSummary())
    }

    @Test func tcpOptionsMalformedOrCut() throws {
        // An option whose length byte is 0 would loop forever in a naive walker.
        let zeroLength = try #require(decode(FrameBuilder.ipv4(source: scanner, destination: darkHost,
                                                               transport: tcpSYN(options: [2, 4, 5, 0xb4, 8, 0, 1, 1])), as: .raw).record)
        #expect(zeroLength.tcp.options.mss == 1460 && zeroLength.tcp.options.incomplete)
        // A snaplen that cuts inside the options: decoded, marked incomplete.
        let full = FrameBuilder.ipv4(source: scanner, destination: darkHost, transport: tcpSYN(options: FrameBuilder.TCPOptions.linux(timestamp: 1)))
        let cut = try #require(decode(Array(full.prefix(46)), as: .raw).record)
        #expect(cut.tcp.options.mss == 1460 && cut.tcp.options.incomplete && cut.destinationPort == 445)
    }

    @Test func tcpHeaderLies() {
        var packet = ipv4SYN()
        packet[32] = 0x40  // data offset 4 words
        #expect(decode(packet, as: .raw).failure == .tcpBadHeaderLength)
        packet = ipv4SYN()
        packet[32] = 0xF0  // data offset 60 bytes, beyond the IP payload
        #expect(decode(packet, as: .raw).failure == .tcpBadHeaderLength)
        #expect(decode(Array(ipv4SYN().prefix(30)), as: .raw).failure == .tcpTruncated)
    }

    @Test func slammerSizedUDP() throws {
        let payload: [UInt8] = [0x04] + [UInt8](repeating: 0x01, count: 375)
        let packet = FrameBuilder.ipv4(source: scanner, destination: darkHost,
                                       transport: .udp(sourcePort: 3333, destinationPort: 1434, payload: payload))
        let record = try #require(decode(packet, as: .raw).record)
        #expect(record.transport == .udp && record.destinationPort == 1434)
        #expect(record.payloadLength == 376 && record.capturedPayloadLength == 376)
        #expect(record.payloadPrefix == 0x0401_0101_0101_0101)

        // Same first 64 bytes, different tail: same digest. Different start: different digest.
        var sameStart = payload; sameStart[200] = 0xFF
        var otherStart = payload; otherStart[3] = 0xFF
        let same = try #require(decode(FrameBuilder.ipv4(source: scanner, destination: darkHost,
                                                         transport: .udp(sourcePort: 1, destinationPort: 1434, payload: sameStart)), as: .raw).record)
        let other = try #require(decode(FrameBuilder.ipv4(source: scanner, destination: darkHost,
                                                          transport: .udp(sourcePort: 1, destinationPort: 1434, payload: otherStart)), as: .raw).record)
        #expect(same.payloadDigest == record.payloadDigest)
        #expect(other.payloadDigest != record.payloadDigest)

        // A snaplen of 96 keeps the stated length and says how much was captured.
        let cut = try #require(decode(Array(packet.prefix(96)), as: .raw).record)
        #expect(cut.payloadLength == 376 && cut.capturedPayloadLength == 96 - 28)
    }

    @Test func shortPayloadPrefix() throws {
        let packet = FrameBuilder.ipv4(source: scanner, destination: darkHost,
                                       transport: .udp(sourcePort: 1, destinationPort: 53, payload: [0xAB, 0xCD, 0xEF]))
        #expect(decode(packet, as: .raw).record?.payloadPrefix == 0xABCD_EF00_0000_0000)
    }

    @Test func udpLengthLies() throws {
        var packet = FrameBuilder.ipv4(source: scanner, destination: darkHost,
                                       transport: .udp(sourcePort: 1, destinationPort: 161, payload: [1, 2, 3, 4]))
        packet[24] = 0; packet[25] = 4  // UDP length below its header
        #expect(decode(packet, as: .raw).failure == .udpBadLength)
        packet[24] = 0x40; packet[25] = 0  // UDP length far beyond the IP payload: the IP length wins
        #expect(decode(packet, as: .raw).record?.payloadLength == 4)
        #expect(decode(Array(packet.prefix(25)), as: .raw).failure == .udpTruncated)
    }
}
