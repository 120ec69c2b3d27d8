import PacketDecoding
import TeitenCore
import Testing
import TrafficSynthesis

@Suite("Hour checkpoints")
struct HourCheckpointTests {
    static func openHours() -> [HourCounts] {
        var harness = DetectionHarness { $0.countHours = true }
        for n in 0..<300 {
            harness.send(Probe.syn("45.\(n % 7).0.\(n % 13)", Probe.dark(n % 50), port: UInt16([22, 445, 3389][n % 3])), after: 1)
        }
        harness.send(Probe.udp("45.9.9.9", "198.18.0.1", port: 53), after: 3310)  // 01:00:10: the next hour opens; the first stays in grace
        return harness.pipeline.openHours
    }

    @Test func roundTrip() throws {
        let hours = Self.openHours()
        #expect(hours.count == 2)
        let decoded = try HourCheckpoint.decode(HourCheckpoint.encode(hours))
        #expect(decoded.count == hours.count)
        for (restored, original) in zip(decoded, hours) {
            #expect(restored.hour == original.hour && restored.totalPackets == original.totalPackets)
            #expect(restored.rows == original.rows && restored.packets == original.packets)
            #expect(restored.sources == original.sources && restored.destinations == original.destinations)
            #expect(restored.firstPacket == original.firstPacket && restored.lastPacket == original.lastPacket)
            #expect(restored.gap)
        }
    }

    /// Every cut of a checkpoint, and garbage, is refused with a reason.
    @Test func truncatedOrCorruptIsRefused() {
        let bytes = HourCheckpoint.encode(Self.openHours())
        for length in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 500)) {
            #expect(throws: HourCheckpoint.DecodeError.self) { try HourCheckpoint.decode(Array(bytes.prefix(length))) }
        }
        var corrupt = bytes
        corrupt[8] = 99  // version
        #expect(throws: HourCheckpoint.DecodeError.self) { try HourCheckpoint.decode(corrupt) }
        #expect(throws: HourCheckpoint.DecodeError.self) { try HourCheckpoint.decode(Array("not a checkpoint at all".utf8)) }
    }
}

@Suite("Distinct counts past the pair cap")
struct PairCapTests {
    /// 2,000 distinct sources into one row with room for 100 exact pairs:
    /// the rest go to the row's HyperLogLog; the count lands within a few
    /// percent, and the hour says it is estimated.
    @Test func sketchTakesOverPastTheCap() throws {
        var harness = DetectionHarness {
            $0.countHours = true
            $0.hourPairLimit = 100
        }
        for n in 0..<2000 { harness.send(Probe.syn("45.\(n / 256).\(n % 256).1", "198.18.7.7", port: 80), after: 0.01) }
        harness.pipeline.finish()
        let hours = harness.pipeline.takeFinishedHours()
        let hour = try #require(hours.first)
        #expect(hours.count == 1 && hour.rows.count == 1)
        #expect(abs(Double(hour.sources[0]) - 2000) < 2000 * 0.05, "\(hour.sources[0])")
        #expect(hour.destinations[0] == 1 && hour.packets[0] == 2000)
        #expect(!hour.countsExact && hour.estimatedRows == 1)
    }

    @Test func underTheCapEverythingIsExact() throws {
        var harness = DetectionHarness { $0.countHours = true }
        for n in 0..<2000 { harness.send(Probe.syn("45.\(n / 256).\(n % 256).1", "198.18.7.7", port: 80), after: 0.01) }
        harness.pipeline.finish()
        let hour = try #require(harness.pipeline.takeFinishedHours().first)
        #expect(hour.sources[0] == 2000 && hour.countsExact && hour.estimatedRows == 0)
    }
}
