import Foundation
import PacketDecoding
import PcapCapture
import Testing
import TestSupport
import TrafficSynthesis

/// The hourly count files against the contract, and against counts computed
/// here, independently, from the same packets.
@Suite("Hourly count files", .serialized)
struct CountFileTests {
    /// Test country ranges for some of the synthesiser's source blocks (tor format).
    static let ranges = """
        16777216,33554431,AU
        33554432,50331647,FR
        83886080,100663295,RU
        234881024,251658239,JP
        1526726656,1543503871,DE
        2400:cb00::,2400:cb00:ffff:ffff:ffff:ffff:ffff:ffff,CN
        """ + "\n"

    /// The count files' rules, written again from the contract (not from
    /// the sensor's code): class, protocol name, port.
    static func expectedRow(_ packet: PacketRecord) -> (String, String, Int) {
        let proto: String
        switch packet.transport.rawValue { case 6: proto = "tcp"; case 17: proto = "udp"; case 1: proto = "icmp"; case 58: proto = "icmp6"; default: proto = "other" }
        var trafficClass = "other"
        if packet.fragment.offset == 0 {
            switch proto {
            case "tcp":
                let f = packet.tcp.flags
                if f & 0x04 != 0 || (f & 0x12) == 0x12 { trafficClass = "backscatter" }
                else if f & 0x02 != 0 || f & 0x10 == 0 || (f & 0x01 == 0 && packet.payloadLength == 0) { trafficClass = "probe" }
            case "udp":
                let qr = packet.sourcePort == 53 && packet.capturedPayloadLength >= 3 && (packet.payloadPrefix >> 40) & 0x80 != 0
                let ntp = packet.sourcePort == 123 && packet.capturedPayloadLength >= 1 && (packet.payloadPrefix >> 56) & 7 == 4
                trafficClass = qr || ntp ? "backscatter" : "probe"
            case "icmp":
                if [8, 13, 15, 17].contains(packet.icmpType) { trafficClass = "probe" }
                else if [0, 3, 4, 5, 11, 12, 14, 16, 18].contains(packet.icmpType) { trafficClass = "backscatter" }
            case "icmp6":
                if packet.icmpType == 128 { trafficClass = "probe" } else if [1, 2, 3, 4, 129].contains(packet.icmpType) { trafficClass = "backscatter" }
            default: break
            }
        }
        let port = proto == "tcp" || proto == "udp" ? Int(packet.destinationPort) : (proto.hasPrefix("icmp") ? Int(packet.icmpType) : 0)
        return (trafficClass, proto, port)
    }

    static func country(_ address: IPAddress) -> String {
        if address.isIPv4 {
            switch address.ipv4 >> 24 { case 1: return "AU"; case 2: return "FR"; case 5: return "RU"; case 14: return "JP"; case 91: return "DE"; default: return "ZZ" }
        }
        return address.high >> 32 == 0x2400_CB00 ? "CN" : "ZZ"
    }

    @Test(.timeLimit(.minutes(3)))
    func countsEqualAnIndependentComputation() throws {
        let scratch = ScratchDirectory()
        let capture = scratch.file("d.pcap"), geo = scratch.file("geo"), counts = scratch.file("counts")
        try Self.ranges.write(toFile: geo, atomically: true, encoding: .utf8)
        #expect(try TeitenProcess.run(["synth", "-n", "30000", "--hours", "3", "-o", capture]).status == 0)
        let run = try TeitenProcess.run(["run", "--read", capture, "--counts-dir", counts, "--geo-db", geo, "--sensor-id", "s1"])
        #expect(run.status == 0, "\(run.standardError)")

        // Independent counts: key "hour,class,proto,port,country" → packets, sources, destinations.
        var packets: [String: Int] = [:], sources: [String: Set<IPAddress>] = [:], destinations: [String: Set<IPAddress>] = [:]
        let handle = try PcapHandle.open(file: capture)
        var record = PacketRecord()
        while case .frame(let frame) = handle.next() {
            guard FrameDecoder.decode(frame.bytes, linkType: handle.linkType, time: frame.time, wireLength: frame.wireLength, into: &record) == nil else { continue }
            let (trafficClass, proto, port) = Self.expectedRow(record)
            let hour = record.time.seconds / 3600 * 3600
            let key = "\(Self.hourText(hour)),\(trafficClass),\(proto),\(port),\(Self.country(record.source))"
            packets[key, default: 0] += 1
            sources[key, default: []].insert(record.source)
            destinations[key, default: []].insert(record.destination)
        }

        var seen: [String: (Int, Int, Int)] = [:]
        let files = try FileManager.default.contentsOfDirectory(atPath: counts).sorted()
        #expect(files.filter { $0.hasSuffix(".csv") }.count == 3 && files.filter { $0.hasSuffix(".json") }.count == 3, "\(files)")
        for file in files where file.hasSuffix(".csv") {
            let text = try String(contentsOfFile: counts + "/" + file, encoding: .utf8)
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.removeLast().isEmpty, "ends with a newline")
            #expect(lines.removeFirst() == "hour,class,proto,port,country,packets,sources,destinations")
            var previous: (String, String, Int, String)?
            for line in lines {
                let fields = line.split(separator: ",").map(String.init)
                try #require(fields.count == 8)
                #expect(file == String(fields[0].prefix(13)) + "Z.csv", "rows belong to the file's hour")
                let sortKey = (fields[1], fields[2], Int(fields[3])!, fields[4])
                if let previous { #expect(previous < sortKey, "sorted by class, proto, port, country") }
                previous = sortKey
                seen[fields[0...4].joined(separator: ",")] = (Int(fields[5])!, Int(fields[6])!, Int(fields[7])!)
            }
        }
        #expect(seen.count == packets.count)
        for (key, expected) in packets {
            let row = try #require(seen[key], "missing row \(key)")
            #expect(row.0 == expected && row.1 == sources[key]!.count && row.2 == destinations[key]!.count, "\(key)")
        }
        #expect(seen.values.reduce(0) { $0 + $1.0 } == 30_000, "every decoded packet in exactly one row")

        let sidecar = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: counts + "/2026-01-15T01Z.json"))) as? [String: Any])
        #expect(sidecar["sensor"] as? String == "s1" && sidecar["hour"] as? String == "2026-01-15T01:00:00Z")
        #expect(sidecar["complete"] as? Bool == true && sidecar["distinct_counts_exact"] as? Bool == true)
        #expect((sidecar["packets"] as? Int ?? 0) > 9000 && sidecar["geo_database"] as? [String] == [geo])
        for key in ["first_packet", "last_packet", "undecodable", "late_packets", "kernel_drops", "interface_drops", "software"] {
            #expect(sidecar.keys.contains(key), "\(key)")
        }
        let first = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: counts + "/2026-01-15T00Z.json"))) as? [String: Any]
        let last = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: counts + "/2026-01-15T02Z.json"))) as? [String: Any]
        #expect(first?["complete"] as? Bool == false && last?["complete"] as? Bool == false, "the file starts and ends mid-hour")
    }

    static func hourText(_ seconds: Int64) -> String {
        let hour = seconds / 3600 % 24, day = seconds / 86400 - 20468  // days since 2026-01-15 in this test's captures
        return "2026-01-\(15 + day)T\(hour < 10 ? "0" : "")\(hour):00:00Z"
    }

    /// Packets a little out of order across an hour edge count in their own
    /// hour; one arriving after its hour was written is a late packet.
    @Test func outOfOrderAcrossAnHourEdge() throws {
        let scratch = ScratchDirectory()
        let capture = scratch.file("o.pcap"), counts = scratch.file("counts")
        let writer = try CaptureFileWriter(path: capture)
        let edge: Int64 = 1_768_438_800  // 2026-01-15T01:00:00Z
        let stamps: [(Int64, Int64)] = [(edge - 1, 990_000_000), (edge, 10_000_000), (edge - 1, 995_000_000),
                                       (edge + 1800, 0), (edge - 1, 999_000_000), (edge + 1801, 0)]
        for (index, (seconds, nanos)) in stamps.enumerated() {
            let packet = FrameBuilder.ipv4(source: 0x0100_0000 | UInt32(index), destination: 0xC612_0001,
                                           transport: .tcp(.init(sourcePort: 1, destinationPort: 445)))
            try writer.append(frame: FrameBuilder.ethernet(packet, etherType: 0x0800), seconds: seconds, nanoseconds: nanos)
        }
        try writer.close()
        #expect(try TeitenProcess.run(["run", "--read", capture, "--counts-dir", counts]).status == 0)
        let before = try String(contentsOfFile: counts + "/2026-01-15T00Z.csv", encoding: .utf8)
        let after = try String(contentsOfFile: counts + "/2026-01-15T01Z.csv", encoding: .utf8)
        #expect(before.contains(",probe,tcp,445,ZZ,2,2,1\n"), "\(before)")
        #expect(after.contains(",probe,tcp,445,ZZ,3,3,1\n"), "\(after)")
        let sidecar = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: counts + "/2026-01-15T01Z.json"))) as? [String: Any]
        #expect(sidecar?["late_packets"] as? Int == 1)
    }

    /// A reader polling the directory while a run writes never sees a partial file.
    @Test(.timeLimit(.minutes(2)))
    func filesAppearWhole() throws {
        let scratch = ScratchDirectory()
        let capture = scratch.file("a.pcap"), counts = scratch.file("counts")
        #expect(try TeitenProcess.run(["synth", "-n", "120000", "--hours", "12", "-o", capture]).status == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TeitenProcess.executable)
        process.arguments = TeitenProcess.arguments(["run", "--read", capture, "--counts-dir", counts, "--quiet", "--reader", "libpcap"])
        try process.run()
        var reads = 0
        repeat {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: counts)) ?? [] where !name.hasPrefix(".") {
                guard let data = FileManager.default.contents(atPath: counts + "/" + name) else { continue }
                reads += 1
                if name.hasSuffix(".json") {
                    #expect((try? JSONSerialization.jsonObject(with: data)) != nil, "\(name) parses whole")
                } else {
                    let text = String(decoding: data, as: UTF8.self)
                    #expect(text.hasPrefix("hour,class,") && text.hasSuffix("\n"), "\(name) whole")
                }
            }
        } while process.isRunning
        process.waitUntilExit()
        let files = try FileManager.default.contentsOfDirectory(atPath: counts)
        #expect(files.count == 24 && !files.contains { $0.hasPrefix(".") }, "12 hours, a CSV and a sidecar each, no temporary left: \(files.count)")
        #expect(reads > 0)
    }
}

/// A replay killed part-way and run again leaves the same hour files as an
/// uninterrupted run: hours written before the kill are equal (and kept),
/// the rest are recomputed from the file.
@Suite("Replay killed and rerun")
struct ReplayKillTests {
    @Test(.timeLimit(.minutes(2)))
    func killedReplayRerunEqualsAnUninterruptedOne() throws {
        let scratch = ScratchDirectory()
        let capture = scratch.file("r.pcap"), killed = scratch.file("killed"), whole = scratch.file("whole")
        #expect(try TeitenProcess.run(["synth", "-n", "150000", "--hours", "10", "-o", capture]).status == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TeitenProcess.executable)
        process.arguments = TeitenProcess.arguments(["run", "--read", capture, "--counts-dir", killed, "--quiet", "--reader", "libpcap"])
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline
            && ((try? FileManager.default.contentsOfDirectory(atPath: killed))?.filter { $0.hasSuffix(".json") }.count ?? 0) < 2 {
            usleep(5_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(try TeitenProcess.run(["run", "--read", capture, "--counts-dir", killed]).status == 0)
        #expect(try TeitenProcess.run(["run", "--read", capture, "--counts-dir", whole]).status == 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: whole).filter { $0.hasSuffix(".csv") }.sorted()
        #expect(names.count == 10)
        #expect(try FileManager.default.contentsOfDirectory(atPath: killed).filter { $0.hasSuffix(".csv") }.sorted() == names)
        for name in names {
            #expect(FileManager.default.contents(atPath: killed + "/" + name) == FileManager.default.contents(atPath: whole + "/" + name), "\(name)")
        }
    }
}

/// A second run later in the same hour merges into the hour's files; the
/// same capture replayed again changes nothing.
@Suite("Hour files from several runs")
struct HourMergeTests {
    static func capture(_ path: String, from start: Int64, count: Int, sourceBase: UInt32) throws {
        let writer = try CaptureFileWriter(path: path)
        for n in 0..<count {
            let packet = FrameBuilder.ipv4(source: sourceBase + UInt32(n % 40), destination: 0xC612_0000 | UInt32(n),
                                           transport: .tcp(.init(sourcePort: 1, destinationPort: 445)))
            try writer.append(frame: FrameBuilder.ethernet(packet, etherType: 0x0800), seconds: start + Int64(n), nanoseconds: 0)
        }
        try writer.close()
    }

    @Test func laterRunMergesSameCaptureIsKept() throws {
        let scratch = ScratchDirectory()
        let first = scratch.file("a.pcap"), second = scratch.file("b.pcap"), counts = scratch.file("counts")
        let hour: Int64 = 1_768_435_200
        try Self.capture(first, from: hour + 60, count: 300, sourceBase: 0x0100_0000)
        try Self.capture(second, from: hour + 1800, count: 200, sourceBase: 0x0100_0000)
        #expect(try TeitenProcess.run(["run", "--read", first, "--counts-dir", counts]).status == 0)
        #expect(try TeitenProcess.run(["run", "--read", second, "--counts-dir", counts]).status == 0)
        let again = try TeitenProcess.run(["run", "--read", first, "--counts-dir", counts])
        #expect(again.standardError.contains("1 kept"), "\(again.standardError)")

        let csv = try String(contentsOfFile: counts + "/2026-01-15T00Z.csv", encoding: .utf8)
        #expect(csv.contains(",probe,tcp,445,ZZ,500,40,300\n"), "packets add; distinct counts take the larger: \(csv)")
        let sidecar = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: counts + "/2026-01-15T00Z.json"))) as? [String: Any]
        #expect(sidecar?["packets"] as? Int == 500 && sidecar?["merged_runs"] as? Int == 2)
        #expect(sidecar?["distinct_counts_exact"] as? Bool == false && sidecar?["complete"] as? Bool == false)
        #expect(try TeitenProcess.run(["counts", "check", counts]).status == 0)
    }
}
