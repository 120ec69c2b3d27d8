import Foundation
import Testing
import TestSupport

/// Hostile and damaged capture files through the binary: each is processed
/// up to the damage, reported on one line naming the file, and exits with
/// the documented code (docs/command-line.md, "Damaged and unusual files").
@Suite("File faults")
struct FileFaultTests {
    /// A synthesised capture, edited by `edit`, read by both readers.
    private func outcome(_ format: String, _ edit: (inout [UInt8]) -> Void, extra: [String] = [])
        throws -> [(reader: String, result: TeitenProcess.Result)] {
        let scratch = ScratchDirectory()
        let original = scratch.file("original"), edited = scratch.file("edited")
        #expect(try TeitenProcess.run(["synth", "-n", "2000", "--format", format, "-o", original]).status == 0)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: original)))
        edit(&bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: edited))
        return try ["auto", "libpcap"].map { reader in
            (reader, try TeitenProcess.run(["run", "--read", edited, "--reader", reader] + extra))
        }
    }

    private static func put(_ value: UInt32, at offset: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { for (index, byte) in $0.enumerated() { bytes[offset + index] = byte } }
    }

    @Test func wrongMagicIsNotACapture() throws {
        for (reader, result) in try outcome("pcap", { $0[0...3] = [0x00, 0x11, 0x22, 0x33] }) {
            #expect(result.status == 66 && !result.crashed, "\(reader)")
            #expect(result.standardError.contains("edited: unknown file format"), "\(reader): \(result.standardError)")
            #expect(result.standardError.split(separator: "\n").count == 1)
        }
    }

    /// A snaplen of 0 or 2^32-1 in the file header: libpcap substitutes its
    /// maximum; every record (all shorter than that) is read in full.
    @Test(arguments: [UInt32(0), 0xFFFF_FFFF])
    func oddSnaplenHeaders(snaplen: UInt32) throws {
        for (reader, result) in try outcome("pcap", { Self.put(snaplen, at: 16, in: &$0) }) {
            #expect(result.status == 0 && !result.crashed, "\(reader): \(result.standardError)")
            #expect(summaryCount(result.standardError, after: "edited:") == 2000, "\(reader): \(result.standardError)")
            #expect(summaryCount(result.standardError, after: "undecoded") == 0, "\(reader)")
        }
    }

    /// A record claiming more than any snaplen: processed up to it, then a
    /// warning naming the file; exit 0, or 65 with --strict.
    @Test func recordLongerThanAnySnaplen() throws {
        for strict in [false, true] {
            let results = try outcome("pcap", { bytes in
                // The 101st record's captured length (records are 16 + caplen bytes).
                var offset = 24
                for _ in 0..<100 {
                    let caplen = Int(UInt32(bytes[offset + 8]) | UInt32(bytes[offset + 9]) << 8 | UInt32(bytes[offset + 10]) << 16 | UInt32(bytes[offset + 11]) << 24)
                    offset += 16 + caplen
                }
                Self.put(0x7FFF_FFFF, at: offset + 8, in: &bytes)
            }, extra: strict ? ["--strict"] : [])
            for (reader, result) in results {
                #expect(result.status == (strict ? 65 : 0) && !result.crashed, "\(reader): \(result.standardError)")
                #expect(summaryCount(result.standardError, after: "edited:") == 100, "\(reader): \(result.standardError)")
                #expect(result.standardError.contains("warning: ") && result.standardError.contains("bigger than"), "\(reader)")
            }
        }
    }

    /// A pcapng block whose length is absurd: the blocks before it are read.
    @Test func pcapngBadBlock() throws {
        for (reader, result) in try outcome("pcapng", { bytes in
            var offset = 0
            for _ in 0..<100 {
                offset += Int(UInt32(bytes[offset + 4]) | UInt32(bytes[offset + 5]) << 8 | UInt32(bytes[offset + 6]) << 16 | UInt32(bytes[offset + 7]) << 24)
            }
            Self.put(0x7FFF_FFF0, at: offset + 4, in: &bytes)
        }) {
            #expect(result.status == 0 && !result.crashed, "\(reader): \(result.standardError)")
            let packets = summaryCount(result.standardError, after: "edited:") ?? -1
            #expect(packets > 90 && packets < 100, "the blocks before the bad one: \(result.standardError)")
            #expect(result.standardError.contains("warning: ") && result.standardError.contains("block size"), "\(reader)")
        }
    }

    /// `--read` on a file another process is still appending to: it reads
    /// what is there when it gets to the end (a record cut by the writer is
    /// reported as truncation), exits 0, never hangs or crashes. Following a
    /// growing file is live capture's job.
    @Test(.timeLimit(.minutes(1)))
    func fileGrowingWhileRead() throws {
        let scratch = ScratchDirectory()
        let whole = scratch.file("whole.pcap"), growing = scratch.file("growing.pcap")
        #expect(try TeitenProcess.run(["synth", "-n", "200000", "-o", whole]).status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: whole))
        try bytes.prefix(bytes.count / 10).write(to: URL(fileURLWithPath: growing))
        let writer = Thread {
            guard let handle = FileHandle(forWritingAtPath: growing) else { return }
            handle.seekToEndOfFile()
            var offset = bytes.count / 10
            while offset < bytes.count {
                let end = min(offset + 65_521, bytes.count)  // not a record boundary
                handle.write(bytes[offset..<end])
                offset = end
                usleep(2_000)
            }
            try? handle.close()
        }
        writer.start()
        for reader in ["auto", "libpcap"] {
            let result = try TeitenProcess.run(["run", "--read", growing, "--reader", reader], timeout: 30)
            #expect((result.status == 0) && !result.crashed, "\(reader): \(result.standardError)")
            let packets = summaryCount(result.standardError, after: "growing.pcap:") ?? -1
            #expect(packets >= 1 && packets <= 200_000, "\(reader): \(result.standardError)")
        }
        while !writer.isFinished { usleep(10_000) }
        // Once the writer is done, the whole file reads to its end.
        let final = try TeitenProcess.run(["run", "--read", growing])
        #expect(summaryCount(final.standardError, after: "growing.pcap:") == 200_000 && !final.standardError.contains("warning"))
    }
}
