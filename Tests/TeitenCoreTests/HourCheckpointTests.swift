import PacketDecoding
@testable import TeitenCore
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

    /// IPv4 probes and IPv6 datagrams within the first hour, five minutes of them.
    static let firstHourPackets: [[UInt8]] = (0..<300).map { n in
        guard n % 5 != 4 else {
            let source: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [UInt8(n % 9)]
            let destination: [UInt8] = [0x20, 0x01, 0x0D, 0xB8, 0xFF] + [UInt8](repeating: 0, count: 10) + [UInt8(n % 4)]
            return FrameBuilder.ipv6(source: source, destination: destination,
                                     transport: .udp(sourcePort: 5000, destinationPort: 53, payload: [1]))
        }
        return Probe.syn("45.\(n % 7).0.\(n % 13)", Probe.dark(n % 50), port: UInt16([22, 445, 3389][n % 3]))
    }

    /// A restart within the hour: the restored hour goes on with the pairs
    /// it had, so the same packets again add packets, not sources or
    /// destinations (IPv4 and IPv6).
    @Test func restoredHourCountsEachPairOnce() throws {
        var first = DetectionHarness { $0.countHours = true }
        for packet in Self.firstHourPackets { first.send(packet, after: 1) }
        let checkpoint = HourCheckpoint.encode(first.pipeline.openHours)
        first.pipeline.finish()
        let original = try #require(first.pipeline.takeFinishedHours().first)

        var restarted = DetectionHarness { $0.countHours = true }
        restarted.pipeline.restore(try HourCheckpoint.decode(checkpoint), now: PacketTime(nanoseconds: restarted.now))
        for packet in Self.firstHourPackets { restarted.send(packet, after: 1) }
        restarted.pipeline.finish()
        let again = try #require(restarted.pipeline.takeFinishedHours().first)
        #expect(original.rows.count == 4 && again.rows == original.rows)  // tcp 22, 445, 3389; udp 53
        #expect(again.packets == original.packets.map { $0 * 2 })
        #expect(again.sources == original.sources && again.destinations == original.destinations)
        #expect(again.countsExact && again.gap)
    }

    /// `hours` in the checkpoint layout, written here independently of the
    /// encoder: version 1 named pairs by their row's index in the hour;
    /// `rows` may alter the rows written.
    static func checkpoint(_ hours: [HourCounts], version: UInt32, extraPairs: [UInt64] = [],
                           rows: ([UInt64]) -> [UInt64] = { $0 }) -> [UInt8] {
        var out = Array("TEITENCK".utf8)
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        func putArray(_ values: [UInt64]) { put(UInt64(values.count)); values.forEach { put($0) } }
        put(version)
        put(UInt32(hours.count))
        for hour in hours {
            let state = hour.checkpointState
            let index = Dictionary(uniqueKeysWithValues: hour.rows.enumerated().map { ($1.identity, UInt64($0)) })
            func named(_ pairs: PackedSet) -> [UInt64] {
                guard version == 1 else { return pairs.elements }
                return pairs.elements.map { index[$0 >> 32]! << 32 | $0 & 0xFFFF_FFFF } + extraPairs
            }
            put(UInt64(bitPattern: hour.hour))
            put(UInt64(state.pairLimit))
            put(hour.totalPackets)
            put(UInt64(bitPattern: hour.firstPacket?.nanoseconds ?? .min))
            put(UInt64(bitPattern: hour.lastPacket?.nanoseconds ?? .min))
            put(hour.latePackets)
            put(UInt32(hour.countsExact ? 1 : 0))
            putArray(hour.undecodable)
            putArray(rows(hour.rows.map(\.packed)))
            putArray(hour.packets)
            putArray(hour.sources.map(UInt64.init))
            putArray(hour.destinations.map(UInt64.init))
            putArray(named(state.sourcePairs))
            putArray(named(state.destinationPairs))
        }
        return out
    }

    static func pairs(_ hour: HourCounts) -> (sources: [UInt64], destinations: [UInt64]) {
        (hour.checkpointState.sourcePairs.elements.sorted(), hour.checkpointState.destinationPairs.elements.sorted())
    }

    /// A checkpoint written before pairs were named by row identity is
    /// still read, its IPv4 pairs renamed exactly; an IPv6 pair of then
    /// cannot be renamed, and the hour says its counts are not exact.
    @Test func versionOneIsRenamed() throws {
        let hours = Self.openHours()
        #expect(Self.checkpoint(hours, version: 2) == HourCheckpoint.encode(hours))  // the layout written here is the encoder's
        let renamed = try HourCheckpoint.decode(Self.checkpoint(hours, version: 1))
        #expect(renamed.count == hours.count)
        for (restored, original) in zip(renamed, hours) {
            #expect(restored.rows == original.rows && restored.sources == original.sources)
            #expect(Self.pairs(restored) == Self.pairs(original) && restored.countsExact)
        }
        let withIPv6 = try HourCheckpoint.decode(Self.checkpoint(hours, version: 1, extraPairs: [1 << 63 | 0x1234_5678]))
        #expect(Self.pairs(withIPv6[0]) == Self.pairs(hours[0]) && !withIPv6[0].countsExact)
        #expect(throws: HourCheckpoint.DecodeError.self) {  // a pair of a row the hour does not hold
            try HourCheckpoint.decode(Self.checkpoint(hours, version: 1, extraPairs: [UInt64(hours[0].rows.count) << 32 | 7]))
        }
    }

    /// Rows no packet could give (a class or protocol without a name, a
    /// country not of two letters) are refused: writing them would trap.
    @Test func malformedRowsAreRefused() {
        let hours = Self.openHours()
        let malformed: [(UInt64) -> UInt64] = [
            { $0 & ~(0x3 << 40) | 3 << 40 },  // class 3
            { $0 & ~(0x7 << 32) | 5 << 32 },  // protocol 5
            { $0 | 1 << 50 },  // a bit beyond the fields
            { $0 & ~0xFF | 0x3F },  // "Z?"
            { $0 & ~0xFF00 },  // a zero letter
        ]
        for alter in malformed {
            #expect(throws: HourCheckpoint.DecodeError.self) {
                try HourCheckpoint.decode(Self.checkpoint(hours, version: 2) { rows in [alter(rows[0])] + rows.dropFirst() })
            }
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
