import Testing
import PacketDecoding
import TeitenCore
import TeitenOutput
import TrafficSynthesis

/// The count-file CSV as the writer streams it: pieces of any size make
/// the same file, in the contract's row order.
@Suite("Count file format")
struct CountFileFormatTests {
    /// One hour of 3,000 rows (1,000 ports of three protocols) from three sources.
    static func busyHour() -> HourCounts {
        var configuration = SensorPipeline.Configuration()
        configuration.countHours = true
        var pipeline = SensorPipeline(linkType: .ethernet, configuration: configuration)
        var time = PacketTime(seconds: 1_768_435_200, nanoseconds: 0)
        for port in stride(from: 1000 as UInt16, to: 2000, by: 1) {
            for (index, transport) in [FrameBuilder.Transport.udp(sourcePort: 4000, destinationPort: port, payload: [1]),
                                       .tcp(.init(sourcePort: 4000, destinationPort: port, flags: 0x02)),
                                       .tcp(.init(sourcePort: 4000, destinationPort: port, flags: 0x12))].enumerated() {
                let frame = FrameBuilder.ethernet(FrameBuilder.ipv4(source: 0xC000_0201 + UInt32(index), destination: 0xC612_0001,
                                                                    transport: transport), etherType: 0x0800)
                time = PacketTime(nanoseconds: time.nanoseconds + 1_000_000)
                frame.withUnsafeBytes { _ = pipeline.process(frame: $0, time: time, wireLength: UInt32(frame.count)) }
            }
        }
        pipeline.finish()
        return pipeline.takeFinishedHours()[0]
    }

    @Test func piecesOfAnySizeMakeTheSameFile() {
        let hour = Self.busyHour()
        #expect(hour.rows.count == 3000)
        let whole = Array(CountFileFormat.csv(hour).utf8)
        let lines = whole.split(separator: UInt8(ascii: "\n"))
        #expect(lines.count == 3001 && String(decoding: lines[0], as: UTF8.self) == CountFileFormat.header)
        #expect(String(decoding: lines[1], as: UTF8.self) == "2026-01-15T00:00:00Z,backscatter,tcp,1000,ZZ,1,1,1")
        for pieceBytes in [1, 100, 4096] {
            var joined: [UInt8] = []
            var sizes: [Int] = []
            CountFileFormat.writeCSV(hour, pieceBytes: pieceBytes) { piece in
                joined += piece
                sizes.append(piece.count)
            }
            #expect(joined == whole, "pieces of \(pieceBytes) bytes")
            #expect(sizes.dropLast().allSatisfy { $0 >= pieceBytes && $0 < pieceBytes + 128 }, "\(sizes.prefix(5))")
        }
    }
}
