import Testing
import PacketDecoding
@testable import TeitenCore
@testable import TeitenOutput
#if canImport(Glibc)
import Glibc
#endif
import Foundation
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

    /// The radix sort orders by the bits it is given, keeps the order of
    /// values equal there, and leaves the other bits alone.
    @Test(arguments: [0..<64, 21..<64, 3..<17, 60..<64, 5..<5])
    func radixSortSortsOnItsBits(_ bits: Range<Int>) {
        var generator = SystemRandomNumberGenerator()
        for count in [0, 1, 2, 1000, 30_000] {
            // Few distinct keys among many values: ties, whose order must hold.
            let values = (0..<count).map { _ in UInt64.random(in: 0...UInt64.max, using: &generator) & (count > 100 ? 0xF0F0_0000_00FF_F0F0 : .max) }
            func key(_ value: UInt64) -> UInt64 {
                bits.isEmpty ? 0 : value >> UInt64(bits.lowerBound) & (bits.count == 64 ? .max : (1 << UInt64(bits.count)) - 1)
            }
            let expected = values.enumerated().sorted { (key($0.element), $0.offset) < (key($1.element), $1.offset) }.map(\.element)
            var sorted = values
            RadixSort.sort(&sorted, bits: bits)
            #expect(sorted == expected, "\(count) values on bits \(bits)")
        }
    }

    /// Rows in the file's order (class, protocol as their names sort, port,
    /// country), by radix sort or, for hours too big for it, by comparison.
    @Test func rowsSortAsTheirNames() {
        var generator = SystemRandomNumberGenerator()
        let countries: [UInt16] = [0x4141, 0x4144, 0x5553, 0x5A5A, 0x4A50, 0x4445]  // AA AD US ZZ JP DE
        let rows = Set((0..<5000).map { _ in
            UInt64.random(in: 0...2, using: &generator) << 40 | UInt64.random(in: 0...4, using: &generator) << 32
                | UInt64.random(in: 0..<300, using: &generator) << 16
                | UInt64(countries.randomElement(using: &generator)!)
        }).map { CountRow(packed: $0) }
        let expected = rows.indices.sorted {
            (rows[$0].className, rows[$0].protocolName, rows[$0].port, rows[$0].country)
                < (rows[$1].className, rows[$1].protocolName, rows[$1].port, rows[$1].country)
        }
        #expect(CountFileFormat.sortedRowIndices(rows) == expected)
        #expect(CountFileFormat.sortedRowIndices(rows, indexBits: 4) == expected)  // the comparison sort
    }

    /// Pieces handed to the writing thread reach the file whole and in
    /// order; a failed write is reported with the file's name.
    @Test func overlappedWritesKeepOrderAndReportFailures() throws {
        let path = NSTemporaryDirectory() + "teiten-overlapped-\(getpid()).bin"
        defer { unlink(path) }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try #require(descriptor >= 0)
        var expected: [UInt8] = []
        let writes = OverlappedWrites(descriptor: descriptor, path: path)
        for piece in 0..<200 {
            let bytes = (0..<(piece * 997 % 70_000)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ piece) }
            expected += bytes
            try bytes.withUnsafeBytes { try writes.write($0) }
        }
        try writes.finish()
        close(descriptor)
        #expect(FileManager.default.contents(atPath: path) == Data(expected))

        let readOnly = open(path, O_RDONLY)
        defer { close(readOnly) }
        let failing = OverlappedWrites(descriptor: readOnly, path: "the-file")
        var thrown: (any Error)?
        do {
            for _ in 0..<4 { try [UInt8](repeating: 1, count: 10).withUnsafeBytes { try failing.write($0) } }
        } catch { thrown = error }
        do { try failing.finish() } catch { thrown = thrown ?? error }
        #expect("\(thrown.map { "\($0)" } ?? "nothing")".hasPrefix("the-file: "))
    }
}
