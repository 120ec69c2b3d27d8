import Foundation
import PacketDecoding
import PcapCapture
import Testing
import TestSupport

/// `teiten` as a user runs it: exit codes, one-line errors, the summary.
@Suite("Command line", .serialized)
struct CommandLineTests {
    @Test func version() throws {
        let result = try TeitenProcess.run(["--version"])
        #expect(result.status == 0)
        #expect(result.standardOutput.hasPrefix("teiten 0.1.0 (libpcap version"))
    }

    @Test func runOnSynthesisedCapture() throws {
        let scratch = ScratchDirectory()
        let capture = scratch.file("sample.pcap")
        #expect(try TeitenProcess.run(["synth", "-n", "20000", "--hours", "3", "-o", capture]).status == 0)
        let result = try TeitenProcess.run(["run", "--read", capture])
        #expect(result.status == 0, "\(result.standardError)")
        let summary = result.standardError
        #expect(summaryCount(summary, after: "\(capture):") == 20_000)
        #expect(summaryCount(summary, after: "decoded") == 20_000)
        #expect(summaryCount(summary, after: "undecoded") == 0)
        let tcp = try #require(summaryCount(summary, after: "tcp")), udp = try #require(summaryCount(summary, after: "udp"))
        let icmp = try #require(summaryCount(summary, after: "icmp"))
        #expect(tcp > 15_000 && udp > 500 && icmp > 100 && tcp + udp + icmp == 20_000)
        #expect(summary.contains("packet time 2026-01-15T00:00:00Z to 2026-01-15T02:59:59Z"))
        #expect(!summary.contains("\r"), "no progress line when standard error is not a terminal")
    }

    @Test func synthIsDeterministic() throws {
        let scratch = ScratchDirectory()
        for (name, seed) in [("a", "3"), ("b", "3"), ("c", "4")] {
            #expect(try TeitenProcess.run(["synth", "-n", "3000", "--seed", seed, "-o", scratch.file(name)]).status == 0)
        }
        let a = try Data(contentsOf: URL(fileURLWithPath: scratch.file("a")))
        #expect(a == (try Data(contentsOf: URL(fileURLWithPath: scratch.file("b")))))
        #expect(a != (try Data(contentsOf: URL(fileURLWithPath: scratch.file("c")))))
        #expect(a.count > 24 + 3000 * 70)
    }

    @Test func everyFileFormatVariantRuns() throws {
        let scratch = ScratchDirectory()
        for variant in [["--format", "pcapng"], ["--nanosecond"], ["--big-endian"], ["--nanosecond", "--big-endian"]] {
            let path = scratch.file(variant.joined())
            #expect(try TeitenProcess.run(["synth", "-n", "500", "-o", path] + variant).status == 0)
            let result = try TeitenProcess.run(["run", "--read", path])
            #expect(result.status == 0 && summaryCount(result.standardError, after: "decoded") == 500, "\(variant)")
        }
    }

    /// Missing, empty, non-capture and directory inputs: exit 66 and one line
    /// that names the input and the reason.
    @Test func unreadableInputs() throws {
        let scratch = ScratchDirectory()
        FileManager.default.createFile(atPath: scratch.file("empty.pcap"), contents: Data())
        try Data(repeating: 0x41, count: 100).write(to: URL(fileURLWithPath: scratch.file("text.pcap")))
        for (path, reason) in [(scratch.file("missing.pcap"), "No such file or directory"),
                               (scratch.file("empty.pcap"), "empty file"),
                               (scratch.file("text.pcap"), "unknown file format"),
                               (scratch.path, "is a directory")] {
            let result = try TeitenProcess.run(["run", "--read", path])
            #expect(result.status == 66, "\(path)")
            let lines = result.standardError.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains(path) && lines[0].contains(reason), "\(result.standardError)")
        }
    }

    /// A file cut mid-record is processed up to the cut, reported, exit 0
    /// (65 with --strict).
    @Test func fileCutMidRecord() throws {
        let scratch = ScratchDirectory()
        let whole = scratch.file("whole.pcap"), cut = scratch.file("cut.pcap")
        #expect(try TeitenProcess.run(["synth", "-n", "1000", "-o", whole]).status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: whole))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))
        for extra in [[], ["--filter", "ip or ip6"], ["--strict"]] {
            let result = try TeitenProcess.run(["run", "--read", cut] + extra)
            #expect(result.status == (extra == ["--strict"] ? 65 : 0), "\(extra)")
            let processed = try #require(summaryCount(result.standardError, after: "\(cut):"))
            #expect(processed > 400 && processed < 600)
            #expect(result.standardError.contains("warning: \(cut): truncated dump file"))
        }
    }

    @Test func usageAndConfigurationErrors() throws {
        let scratch = ScratchDirectory()
        let capture = scratch.file("s.pcap")
        #expect(try TeitenProcess.run(["synth", "-n", "10", "-o", capture]).status == 0)
        let badFilter = try TeitenProcess.run(["run", "--read", capture, "--filter", "tcp port"])
        #expect(badFilter.status == 78 && badFilter.standardError.contains("filter \"tcp port\""))
        #expect(try TeitenProcess.run(["run"]).status == 64)
        #expect(try TeitenProcess.run(["run", "--read", capture, "--interface", "lo"]).status == 64)
        let noInterface = try TeitenProcess.run(["run", "--interface", "teiten-no-such0"])
        #expect(noInterface.status == 69 || noInterface.status == 77, "\(noInterface.standardError)")
        #expect(noInterface.standardError.contains("teiten-no-such0"))
    }

    /// --dark-network turns on the random walk (alerts with method
    /// "sequential"); --local-network makes the sensor's own packets never
    /// scans; a network with host bits set is refused, naming it.
    @Test func networkOptions() throws {
        let scratch = ScratchDirectory()
        let capture = scratch.file("s.pcap")
        #expect(try TeitenProcess.run(["synth", "-n", "20000", "--hours", "1", "-o", capture]).status == 0)
        func methods(_ extra: [String]) throws -> [String] {
            let result = try TeitenProcess.run(["run", "--read", capture, "--alerts", "-", "--quiet"] + extra)
            #expect(result.status == 0, "\(result.standardError)")
            return result.standardOutput.split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["method"] as? String
            }
        }
        #expect(!(try methods([])).contains("sequential"))
        #expect(try methods(["--dark-network", "198.18.0.0/16"]).contains("sequential"))
        #expect(try methods(["--local-network", "0.0.0.0/0", "--local-network", "::/0"]).isEmpty, "the sensor's own traffic is never a scan")
        let local = try TeitenProcess.run(["run", "--read", capture, "--local-network", "0.0.0.0/0"])
        #expect(summaryCount(local.standardError, after: "local") ?? 0 > 19_000, "\(local.standardError)")

        let bad = try TeitenProcess.run(["run", "--read", capture, "--dark-network", "10.0.0.1/8"])
        #expect(bad.status == 64 && bad.standardError.contains("10.0.0.1/8"))
        #expect(try TeitenProcess.run(["run", "--read", capture, "--hour-grace", "5000"]).status == 64)
    }

    @Test func packetLimit() throws {
        let scratch = ScratchDirectory()
        let capture = scratch.file("s.pcap")
        #expect(try TeitenProcess.run(["synth", "-n", "1000", "-o", capture]).status == 0)
        let result = try TeitenProcess.run(["run", "--read", capture, "-c", "250"])
        #expect(result.status == 0 && summaryCount(result.standardError, after: "decoded") == 250)
    }
}

@Suite("Synthesiser")
struct SynthesiserTests {
    /// Flood mode: every packet from a source never used before, all to one
    /// victim and port; checked by decoding the file here.
    @Test func floodHasAFreshSourcePerPacket() throws {
        let scratch = ScratchDirectory()
        let path = scratch.file("flood.pcap")
        #expect(try TeitenProcess.run(["synth", "--mode", "flood", "-n", "20000", "-o", path]).status == 0)
        let handle = try PcapHandle.open(file: path)
        var sources = Set<IPAddress>(), destinations = Set<String>(), packets = 0
        var record = PacketRecord()
        while case .frame(let frame) = handle.next() {
            #expect(FrameDecoder.decode(frame.bytes, linkType: handle.linkType, time: frame.time,
                                        wireLength: frame.wireLength, into: &record) == nil)
            sources.insert(record.source)
            destinations.insert("\(record.destination):\(record.destinationPort)")
            #expect(record.tcp.flags == 0x02)
            packets += 1
        }
        #expect(packets == 20_000 && sources.count == 20_000)
        #expect(destinations == ["198.18.7.7:80"])
        #expect(sources.allSatisfy { $0.isIPv4 && !($0.ipv4 >> 24 == 10 || $0.ipv4 >> 24 == 127 || $0.ipv4 >> 24 >= 224) })
    }

    /// Darknet mode holds what the sensor must recognise: backscatter,
    /// Slammer-sized UDP 1434, ZMap's IP id, Mirai's sequence = destination,
    /// IPv6, and several hours of packet time.
    @Test func darknetMixHasTheExpectedShapes() throws {
        let scratch = ScratchDirectory()
        let path = scratch.file("darknet.pcap")
        #expect(try TeitenProcess.run(["synth", "-n", "30000", "--hours", "5", "-o", path]).status == 0)
        let handle = try PcapHandle.open(file: path)
        var record = PacketRecord()
        var synAck = 0, rst = 0, slammer = 0, zmap = 0, mirai = 0, ipv6 = 0, port445 = 0
        var hours = Set<Int64>()
        while case .frame(let frame) = handle.next() {
            guard FrameDecoder.decode(frame.bytes, linkType: handle.linkType, time: frame.time,
                                      wireLength: frame.wireLength, into: &record) == nil else { continue }
            hours.insert(record.time.seconds / 3600)
            if record.ipVersion == 6 { ipv6 += 1 }
            if record.transport == .tcp {
                if record.tcp.flags == 0x12 { synAck += 1 }
                if record.tcp.flags & 0x04 != 0 { rst += 1 }
                if record.tcp.flags == 0x02 && record.ipID == 54321 { zmap += 1 }
                if record.tcp.flags == 0x02 && record.destination.isIPv4 && record.tcp.sequence == record.destination.ipv4 { mirai += 1 }
                if record.destinationPort == 445 { port445 += 1 }
            }
            if record.transport == .udp && record.destinationPort == 1434 && record.payloadLength == 376 { slammer += 1 }
        }
        #expect(synAck > 100 && rst > 50 && slammer > 100 && zmap > 100 && mirai > 50 && ipv6 > 200)
        #expect(port445 > 1000, "445 leads the port mix")
        #expect(hours.count == 5)
    }
}
