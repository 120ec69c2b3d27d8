import PacketDecoding
import TeitenCore
import Testing
import TrafficSynthesis

@Suite("Sensor pipeline")
struct SensorPipelineTests {
    /// A mixed batch of frames whose expected tallies the test knows from how
    /// it built them, not from the decoder.
    @Test func tallyCountsEveryFrameOnce() {
        var random = SeededGenerator(seed: 7)
        var frames: [[UInt8]] = []
        var expectedTCP = 0, expectedUDP = 0, expectedICMP = 0, expectedICMP6 = 0, expectedGRE = 0
        var expectedIPv6 = 0, expectedNotIP = 0, expectedTruncated = 0
        for index in 0..<5_000 {
            let source = 0x0100_0000 | UInt32(random.below(1 << 24))
            let destination = 0xC612_0000 | UInt32(random.below(1 << 16))
            switch random.below(8) {
            case 0, 1, 2:
                frames.append(FrameBuilder.ethernet(FrameBuilder.ipv4(source: source, destination: destination,
                    transport: .tcp(.init(sourcePort: 1, destinationPort: 445))), etherType: 0x0800))
                expectedTCP += 1
            case 3:
                frames.append(FrameBuilder.ethernet(FrameBuilder.ipv4(source: source, destination: destination,
                    transport: .udp(sourcePort: 1, destinationPort: 53, payload: [1, 2])), etherType: 0x0800, vlanTags: [(0x8100, 5)]))
                expectedUDP += 1
            case 4:
                frames.append(FrameBuilder.ethernet(FrameBuilder.ipv4(source: source, destination: destination,
                    transport: .icmp(type: 8, code: 0, body: [0, 0, 0, 0])), etherType: 0x0800))
                expectedICMP += 1
            case 5:
                let v6 = FrameBuilder.ipv6(source: FrameBuilder.ipv6Bytes(high: 0x2001_0DB8_0000_0000, low: UInt64(index)),
                                           destination: FrameBuilder.ipv6Bytes(high: 0x2001_0DB8_4000_0000, low: 1),
                                           transport: .icmp(type: 128, code: 0, body: [0, 0, 0, 0]))
                frames.append(FrameBuilder.ethernet(v6, etherType: 0x86DD))
                expectedICMP6 += 1; expectedIPv6 += 1
            case 6:
                frames.append(FrameBuilder.ethernet(FrameBuilder.ipv4(source: source, destination: destination,
                    transport: .other(protocolNumber: 47, bytes: [0, 0, 0x08, 0x00])), etherType: 0x0800))
                expectedGRE += 1
            default:
                if random.chance(0.5) {
                    frames.append(FrameBuilder.ethernet([UInt8](repeating: 0, count: 28), etherType: 0x0806))
                    expectedNotIP += 1
                } else {
                    let whole = FrameBuilder.ethernet(FrameBuilder.ipv4(source: source, destination: destination,
                        transport: .tcp(.init(sourcePort: 1, destinationPort: 80))), etherType: 0x0800)
                    frames.append(Array(whole.prefix(14 + 20 + 10)))  // TCP header cut
                    expectedTruncated += 1
                }
            }
        }
        var pipeline = SensorPipeline(linkType: .ethernet)
        for (index, frame) in frames.enumerated() {
            frame.withUnsafeBytes {
                pipeline.process(frame: $0, time: PacketTime(seconds: 1_768_435_200 + Int64(index), nanoseconds: 0),
                                 wireLength: UInt32(frame.count))
            }
        }
        pipeline.finish()
        let tally = pipeline.tally
        #expect(tally.frames == UInt64(frames.count))
        #expect(tally.count(of: .tcp) == UInt64(expectedTCP))
        #expect(tally.count(of: .udp) == UInt64(expectedUDP))
        #expect(tally.count(of: .icmp) == UInt64(expectedICMP))
        #expect(tally.count(of: .icmp6) == UInt64(expectedICMP6))
        #expect(tally.count(of: TransportProtocol(rawValue: 47)) == UInt64(expectedGRE))
        #expect(tally.otherTransport == UInt64(expectedGRE))
        #expect(tally.ipv6 == UInt64(expectedIPv6))
        #expect(tally.count(of: .notIP) == UInt64(expectedNotIP))
        #expect(tally.count(of: .tcpTruncated) == UInt64(expectedTruncated))
        #expect(tally.decoded + tally.undecoded == tally.frames)
        #expect(tally.wireBytes == frames.reduce(0) { $0 + UInt64($1.count) })
        #expect(pipeline.clock.firstPacket == PacketTime(seconds: 1_768_435_200, nanoseconds: 0))
        #expect(pipeline.clock.finished)
    }

    @Test func clockNeverRunsBackwards() {
        var clock = PacketClock()
        for seconds: Int64 in [100, 102, 101, 103, 99] {
            clock.observe(PacketTime(seconds: seconds, nanoseconds: 0))
        }
        #expect(clock.now == PacketTime(seconds: 103, nanoseconds: 0))
        #expect(clock.outOfOrderPackets == 2)
        #expect(clock.firstPacket == PacketTime(seconds: 100, nanoseconds: 0))
        #expect(clock.lastPacket == PacketTime(seconds: 99, nanoseconds: 0))
        clock.tick(wallTime: PacketTime(seconds: 90, nanoseconds: 0))
        #expect(clock.now == PacketTime(seconds: 103, nanoseconds: 0))
        clock.tick(wallTime: PacketTime(seconds: 200, nanoseconds: 0))
        #expect(clock.now == PacketTime(seconds: 200, nanoseconds: 0))
    }

    @Test(arguments: [
        (Int64(0), Int64(0), "1970-01-01T00:00:00.000000Z"),
        (1_768_435_200, 123_456_789, "2026-01-15T00:00:00.123456Z"),
        (951_782_400, 0, "2000-02-29T00:00:00.000000Z"),
        (4_107_542_399, 999_999_999, "2100-02-28T23:59:59.999999Z"),
        (-1, 500_000_000, "1969-12-31T23:59:59.500000Z"),
    ])
    func rfc3339(seconds: Int64, nanoseconds: Int64, text: String) {
        #expect(UTCTime.rfc3339(PacketTime(seconds: seconds, nanoseconds: nanoseconds)) == text)
    }
}

@Suite("Packet clock")
struct PacketClockTests {
    @Test func ticksDoNotMakePacketsOutOfOrder() {
        var clock = PacketClock()
        clock.observe(PacketTime(seconds: 100, nanoseconds: 0))
        clock.tick(wallTime: PacketTime(seconds: 100, nanoseconds: 500))
        clock.observe(PacketTime(seconds: 100, nanoseconds: 200))  // stamped before the tick, after the last packet
        #expect(clock.outOfOrderPackets == 0)
        #expect(clock.now == PacketTime(seconds: 100, nanoseconds: 500))
    }
}
