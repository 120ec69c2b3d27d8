import PacketDecoding
import Testing
@testable import TeitenCore

/// How hours hand their tables on: a new hour starts small while the hour
/// before it is in its grace, then moves into that hour's emptied tables
/// when it closes, and counts on exactly.
@Suite("Hour tables")
struct HourTablesTests {
    @Test func aNewHourMovesIntoTheClosedHoursTables() throws {
        var counter = HourlyCounter(graceSeconds: 60)
        let row = CountRow(trafficClass: .probe, transport: .tcp, port: 445, country: CountryDatabase.unknown)
        let target = IPAddress(ipv4: 0xC612_0001)
        func add(_ source: UInt32, at seconds: Int64) {
            counter.add(row, at: PacketTime(seconds: seconds, nanoseconds: 0), source: IPAddress(ipv4: source), destination: target)
        }
        for source in 0..<50_000 as Range<UInt32> { add(0x2D00_0000 + source, at: 100) }
        let busy = try #require(counter.openHours.first).checkpointState.sourcePairs.capacity
        let busyIdentity = try #require(counter.openHours.first).checkpointState.sourcePairs.tableIdentity

        for source in 0..<300 as Range<UInt32> { add(0x2E00_0000 + source, at: 3610) }  // the next hour; the first is in its grace
        let young = try #require(counter.openHours.last)
        #expect(young.hour == 1 && young.checkpointState.sourcePairs.capacity < busy, "starts small")

        counter.advance(to: PacketTime(seconds: 3661, nanoseconds: 0))  // the first hour closes
        let adopted = try #require(counter.openHours.last)
        #expect(counter.openHours.count == 1 && adopted.checkpointState.sourcePairs.capacity == busy)
        // The very table, emptied in place: while the closing hour was still
        // referenced twice, emptying it mapped a new one, and moving keys in copied it.
        #expect(adopted.checkpointState.sourcePairs.tableIdentity == busyIdentity, "took the closed hour's set, not a copy")
        #expect(adopted.sources == [300])

        for source in 200..<600 as Range<UInt32> { add(0x2E00_0000 + source, at: 3700) }  // 100 known, 300 new
        counter.finish(at: PacketTime(seconds: 3800, nanoseconds: 0))
        let hours = counter.takeFinished()
        #expect(hours.map(\.hour) == [0, 1])
        #expect(hours[0].sources == [50_000] && hours[1].sources == [600] && hours[1].packets == [700])
        #expect(hours.allSatisfy { $0.countsExact })
    }
}
