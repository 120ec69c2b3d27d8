import Foundation
import PacketDecoding
import TeitenCore
import Testing
import TestSupport
import TrafficSynthesis

/// The look-ahead ring (`SensorPipeline.enqueue`) and the detection thread
/// change when work is done, never what a packet does: a synthesised
/// darknet capture, with undecodable frames mixed in, gives the same alerts,
/// hours and tallies frame by frame (`process`, one thread) as through the
/// ring, drained at irregular points as a live loop drains it on quiet
/// moments, with the detectors on the caller's thread or on their own.
@Suite("Look-ahead ring and detection thread")
struct LookAheadTests {
    @Test(arguments: [false, true])
    func ringGivesWhatFrameByFrameGives(detectionThread: Bool) throws {
        let scratch = ScratchDirectory()
        var configuration = DarknetSynthesizer.Configuration()
        configuration.packets = 60_000
        configuration.durationSeconds = 2 * 3600 + 600  // three hours, two of them closed
        var synthesizer = DarknetSynthesizer(configuration)
        try synthesizer.write(to: scratch.file("darknet.pcap"))
        var frames = try Self.records(of: scratch.file("darknet.pcap"))
        for index in stride(from: 5, to: frames.count, by: 997) {  // damaged frames on the way
            frames[index].bytes = Array(frames[index].bytes.prefix(30))
        }

        var pipelineConfiguration = SensorPipeline.Configuration()
        pipelineConfiguration.countHours = true
        if FileManager.default.fileExists(atPath: CountryDatabase.defaultIPv4Path) {
            try pipelineConfiguration.countries.load(path: CountryDatabase.defaultIPv4Path)
        }
        var oneByOne = SensorPipeline(linkType: .ethernet, configuration: pipelineConfiguration)
        pipelineConfiguration.detectionThread = detectionThread
        var ahead = SensorPipeline(linkType: .ethernet, configuration: pipelineConfiguration)
        var oneByOneAlerts: [Alert] = [], aheadAlerts: [Alert] = []
        var oneByOneHours: [HourCounts] = [], aheadHours: [HourCounts] = []
        var mostWaiting = 0
        for (index, frame) in frames.enumerated() {
            frame.bytes.withUnsafeBytes { bytes in
                oneByOne.process(frame: bytes, time: frame.time, wireLength: UInt32(frame.bytes.count))
                if ahead.enqueue(frame: bytes, time: frame.time, wireLength: UInt32(frame.bytes.count)) {
                    aheadAlerts += ahead.takeAlerts()
                    aheadHours += ahead.takeFinishedHours()
                }
            }
            oneByOneAlerts += oneByOne.takeAlerts()
            oneByOneHours += oneByOne.takeFinishedHours()
            mostWaiting = max(mostWaiting, ahead.waiting)
            if index % 4_999 == 0 { ahead.drain() }
            if index % 7_919 == 0 {  // a live loop's tick, at the packet time already reached
                oneByOne.tick(wallTime: frame.time)
                ahead.tick(wallTime: frame.time)
            }
        }
        oneByOne.finish()
        ahead.finish()
        oneByOneAlerts += oneByOne.takeAlerts()
        aheadAlerts += ahead.takeAlerts()
        oneByOneHours += oneByOne.takeFinishedHours()
        aheadHours += ahead.takeFinishedHours()

        #expect(mostWaiting == SensorPipeline.lookahead, "the ring fills, and no further")
        #expect(ahead.waiting == 0)
        #expect(oneByOneAlerts.count > 20, "the capture has scans to find")
        #expect(aheadAlerts.count == oneByOneAlerts.count)
        if let first = zip(aheadAlerts, oneByOneAlerts).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {  // one line, not thousands
            Issue.record("alert \(first) differs: \(aheadAlerts[first]) against \(oneByOneAlerts[first])")
        }
        #expect(oneByOneHours.count == 3)
        #expect(aheadHours.count == oneByOneHours.count)
        for (a, b) in zip(aheadHours, oneByOneHours) {
            #expect(a.hour == b.hour && a.rows == b.rows && a.packets == b.packets)
            #expect(a.sources == b.sources && a.destinations == b.destinations && a.undecodable == b.undecodable)
        }
        #expect(ahead.tally.frames == oneByOne.tally.frames && ahead.tally.frames == UInt64(frames.count))
        let statistics = ahead.detectionStatistics, expected = oneByOne.detectionStatistics
        #expect(statistics.episodesOpened == expected.episodesOpened && statistics.alertsByKind == expected.alertsByKind)
        #expect(statistics.evictions == expected.evictions && statistics.openEpisodes == 0)
        #expect(ahead.detection.ledger.episodesOpened == expected.episodesOpened, "the final state, after finish")
        for trafficClass in TrafficClass.allCases {
            #expect(ahead.packets(of: trafficClass) == oneByOne.packets(of: trafficClass))
        }
    }

    struct Record {
        var bytes: [UInt8]
        var time: PacketTime
    }

    /// The records of a classic little-endian, microsecond pcap file (what
    /// CaptureFileWriter writes).
    static func records(of path: String) throws -> [Record] {
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func word(_ offset: Int) -> Int {
            Int(data[offset]) | Int(data[offset + 1]) << 8 | Int(data[offset + 2]) << 16 | Int(data[offset + 3]) << 24
        }
        try #require(word(0) == 0xA1B2_C3D4)
        var records: [Record] = []
        var offset = 24
        while offset + 16 <= data.count {
            let length = word(offset + 8)
            let time = PacketTime(seconds: Int64(word(offset)), nanoseconds: Int64(word(offset + 4)) * 1000)
            records.append(Record(bytes: Array(data[(offset + 16)..<(offset + 16 + length)]), time: time))
            offset += 16 + length
        }
        return records
    }
}
