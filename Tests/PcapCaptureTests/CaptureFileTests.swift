import Foundation
import PacketDecoding
import PcapCapture
import TestSupport
import Testing
import TrafficSynthesis

@Suite("Capture files")
struct CaptureFileTests {
    static let variants: [(String, CaptureFileWriter.Options)] = {
        var variants: [(String, CaptureFileWriter.Options)] = []
        for format in CaptureFileFormat.allCases {
            for nano in [false, true] {
                for bigEndian in [false, true] where format == .pcap || (!nano && !bigEndian) {
                    var options = CaptureFileWriter.Options()
                    options.format = format
                    options.nanosecondTimestamps = nano
                    options.bigEndian = bigEndian
                    variants.append(("\(format.rawValue) \(nano ? "ns" : "us") \(bigEndian ? "BE" : "LE")", options))
                }
            }
        }
        return variants
    }()

    /// Classic pcap in both byte orders with micro- and nanosecond stamps,
    /// and pcapng: every frame and timestamp comes back as written, through
    /// libpcap and (classic pcap) through the mapped reader.
    @Test func everyFormatReadsBack() throws {
        let scratch = ScratchDirectory()
        for (name, options) in Self.variants {
            let path = scratch.file("\(name.replacingOccurrences(of: " ", with: "-")).cap")
            let written = try writeSampleCapture(path, count: 50, options: options)

            var readers: [any FrameSource] = [try PcapHandle.open(file: path)]
            if options.format == .pcap { readers.append(try #require(MappedCaptureFile.open(path: path), "\(name)")) }
            #expect(MappedCaptureFile.open(path: path) == nil || options.format == .pcap, "pcapng goes through libpcap")
            for reader in readers {
                let result = readAll(reader)
                #expect(result.error == nil, "\(name)")
                #expect(result.frames.count == written.count, "\(name)")
                #expect(reader.linkType == .ethernet)
                for (read, original) in zip(result.frames, written) {
                    #expect(read.bytes == original.frame, "\(name)")
                    let expectedNanos = options.nanosecondTimestamps || options.format == .pcapng
                        ? original.nanoseconds : original.nanoseconds / 1000 * 1000
                    #expect(read.time == PacketTime(seconds: original.seconds, nanoseconds: expectedNanos), "\(name)")
                    #expect(read.wireLength == UInt32(original.frame.count))
                }
            }
        }
    }

    /// A file cut inside a record: every record before the cut is returned,
    /// then a "truncated" error; both readers agree.
    @Test func fileCutMidRecord() throws {
        let scratch = ScratchDirectory()
        let path = scratch.file("whole.pcap")
        try writeSampleCapture(path, count: 20)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        let recordSize = 16 + sampleFrames(count: 1)[0].frame.count
        for cut in [24 + 10 * recordSize + 7, 24 + 10 * recordSize + 20, whole.count - 1] {
            let cutPath = scratch.file("cut-\(cut).pcap")
            try whole.prefix(cut).write(to: URL(fileURLWithPath: cutPath))
            for reader in [try PcapHandle.open(file: cutPath) as any FrameSource, try #require(MappedCaptureFile.open(path: cutPath))] {
                let result = readAll(reader)
                #expect(result.frames.count == (cut - 24) / recordSize)
                let error = try #require(result.error)
                #expect(error.description.contains(cutPath) && error.description.contains("truncated"))
            }
        }
    }

    @Test func unreadableInputsGiveOneLineErrors() throws {
        let scratch = ScratchDirectory()
        let empty = scratch.file("empty.pcap")
        FileManager.default.createFile(atPath: empty, contents: Data())
        let text = scratch.file("notes.txt")
        try Data("this is not a capture file, it is a note about one\n".utf8).write(to: URL(fileURLWithPath: text))
        let cases: [(String, String)] = [
            (scratch.file("missing.pcap"), "No such file"),
            (empty, "empty file"),
            (text, "unknown file format"),
            (scratch.path, "directory"),
        ]
        for (path, reason) in cases {
            #expect(MappedCaptureFile.open(path: path) == nil)
            do {
                _ = try PcapHandle.open(file: path)
                Issue.record("\(path) opened")
            } catch {
                #expect(error.kind == .cannotOpen)
                #expect(error.description.hasPrefix(path + ": "))
                #expect(error.description.contains(reason), "\(error.description)")
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test func headerOnlyFileHasNoFrames() throws {
        let scratch = ScratchDirectory()
        let path = scratch.file("header-only.pcap")
        try CaptureFileWriter(path: path).close()
        #expect(readAll(try PcapHandle.open(file: path)).frames.isEmpty)
        #expect(readAll(try #require(MappedCaptureFile.open(path: path))).frames.isEmpty)
    }

    @Test func filters() throws {
        let scratch = ScratchDirectory()
        let path = scratch.file("f.pcap")
        try writeSampleCapture(path, count: 100)
        let handle = try PcapHandle.open(file: path)
        try handle.apply(filter: "tcp dst port 1 or tcp dst port 2")
        #expect(readAll(handle).frames.count == 2)
        do {
            try PcapHandle.open(file: path).apply(filter: "tcp dst port 80 and and")
            Issue.record("a bad filter was accepted")
        } catch {
            #expect(error.kind == .filter && error.description.contains("tcp dst port 80 and and") && error.description.contains("syntax error"))
        }
    }
}
