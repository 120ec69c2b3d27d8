import Foundation
import Synchronization
import Testing
import TestSupport
import PacketDecoding
import TeitenCore
import TeitenOutput
import TrafficSynthesis

/// The hour writer when its directory refuses files: the hours wait in
/// memory, in order, are written once the directory takes them again, the
/// failures are reported once per interval, and nothing on disk is damaged.
/// (The disk-full case, on a real small filesystem, is in EndToEndTests.)
@Suite("Hour files when the directory refuses them")
struct HourFileFaultTests {
    /// Two finished hours (15th Jan 2026, 00:00 and 01:00 UTC), three UDP probes each.
    static func twoHours() -> [HourCounts] {
        var configuration = SensorPipeline.Configuration()
        configuration.countHours = true
        configuration.hourGraceSeconds = 0
        var pipeline = SensorPipeline(linkType: .ethernet, configuration: configuration)
        for hour in 0..<2 {
            for port in 0..<3 {
                let frame = FrameBuilder.ethernet(FrameBuilder.ipv4(source: 0xC000_0201, destination: 0xC612_0001,
                    transport: .udp(sourcePort: 4000, destinationPort: UInt16(1000 + port), payload: [1])), etherType: 0x0800)
                frame.withUnsafeBytes {
                    pipeline.process(frame: $0, time: PacketTime(seconds: 1_768_435_200 + Int64(hour * 3600 + port), nanoseconds: 0),
                                     wireLength: UInt32(frame.count))
                }
            }
        }
        pipeline.finish()
        return pipeline.takeFinishedHours()
    }

    @Test func hoursWaitWhileTheDirectoryIsGoneAndAreWrittenWhenItReturns() throws {
        let scratch = ScratchDirectory()
        let directory = scratch.file("counts"), aside = scratch.file("counts-aside")
        let reports = Mutex<[String]>([])
        let writer = try HourFileWriter(directory: directory, metadata: .init(sensor: "t", geoDatabases: [], software: "test"),
                                        retrySeconds: 0.3, report: { message in reports.withLock { $0.append(message) } })
        let hours = Self.twoHours()
        #expect(hours.count == 2)

        // The first hour is written normally.
        writer.submit([hours[0]])
        let first = directory + "/2026-01-15T00Z.csv"
        try waitFor { FileManager.default.fileExists(atPath: first) }
        let firstBytes = try Data(contentsOf: URL(fileURLWithPath: first))

        // The directory goes away and a file stands in its place: writes fail.
        try FileManager.default.moveItem(atPath: directory, toPath: aside)
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: directory))
        writer.submit([hours[1]])
        try waitFor { writer.faults.writeFailures >= 3 }  // a few retries, 0.3 s apart
        #expect(writer.faults.pendingHours == 1)
        let whileFailing = reports.withLock { $0 }
        #expect(whileFailing.first?.contains("cannot be written") == true, "\(whileFailing)")
        #expect(whileFailing.count <= Int(writer.faults.writeFailures), "at most one report per attempt: \(whileFailing)")
        #expect(whileFailing.dropFirst().allSatisfy { $0.contains("still failing") })

        // The directory comes back: the waiting hour is written.
        try FileManager.default.removeItem(atPath: directory)
        try FileManager.default.moveItem(atPath: aside, toPath: directory)
        try waitFor { FileManager.default.fileExists(atPath: directory + "/2026-01-15T01Z.csv") }
        writer.close()
        #expect(writer.faults.pendingHours == 0 && writer.results.failures.isEmpty)
        #expect(reports.withLock { $0.last }?.contains("writing again") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: first)) == firstBytes, "the hour already written is untouched")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".tmp") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    /// A directory that never comes back: at close the waiting hours are
    /// named as not written, and the writer still stops.
    @Test func closeNamesTheHoursNotWritten() throws {
        let scratch = ScratchDirectory()
        let directory = scratch.file("counts")
        let reports = Mutex<[String]>([])
        let writer = try HourFileWriter(directory: directory, metadata: .init(sensor: "t", geoDatabases: [], software: "test"),
                                        retrySeconds: 60, report: { message in reports.withLock { $0.append(message) } })
        try FileManager.default.removeItem(atPath: directory)
        try Data().write(to: URL(fileURLWithPath: directory))
        writer.submit(Self.twoHours())
        writer.close()
        #expect(writer.results.failures == ["2026-01-15T00Z", "2026-01-15T01Z"])
        #expect(reports.withLock { $0 }.contains { $0.contains("not written") && $0.contains("2026-01-15T01Z") })
    }

    private func waitFor(_ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(10)
        while !condition() && Date() < deadline { usleep(20_000) }
        try #require(condition())
    }
}
