import Foundation
import Testing
import TestSupport
import TrafficSynthesis

@Suite("teiten counts and teiten geo", .serialized)
struct CountsCommandTests {
    /// A capture where port rank is known: port 7000+i gets (15 − i) × 10 SYNs.
    static func knownCapture(_ path: String) throws {
        let writer = try CaptureFileWriter(path: path)
        var time: Int64 = 1_768_435_200
        for rank in 0..<15 {
            for n in 0..<((15 - rank) * 10) {
                let packet = FrameBuilder.ipv4(source: 0xC000_0200 | UInt32(n % 50), destination: 0xC612_0000 | UInt32(n),
                                               transport: .tcp(.init(sourcePort: 40000, destinationPort: UInt16(7000 + rank))))
                try writer.append(frame: FrameBuilder.ethernet(packet, etherType: 0x0800), seconds: time, nanoseconds: 0)
                time += 2
            }
        }
        try writer.close()
    }

    @Test func topPrintsTheKnownTopTen() throws {
        let scratch = ScratchDirectory()
        let capture = scratch.file("k.pcap"), counts = scratch.file("counts")
        try Self.knownCapture(capture)
        #expect(try TeitenProcess.run(["run", "--read", capture, "--counts-dir", counts]).status == 0)
        let top = try TeitenProcess.run(["counts", "top", counts, "--by", "port", "-n", "10"])
        #expect(top.status == 0, "\(top.standardError)")
        let lines = top.standardOutput.split(separator: "\n").dropFirst()
        #expect(lines.count == 10)
        let total = (0..<15).reduce(0) { $0 + (15 - $1) * 10 }
        for (index, line) in lines.enumerated() {
            let fields = line.split(separator: " ")
            #expect(fields[0] == "\(index + 1)" && fields[1] == "tcp/\(7000 + index)", "\(line)")
            let packets = (15 - index) * 10
            #expect(line.contains(" \(packets) ") || line.contains(" \(packets),"), "\(line)")
            #expect(line.contains(" \(min(50, packets)) "), "sources: \(line)")
            #expect(line.hasSuffix(Self.percent(packets, total)), "\(line)")
        }
        let byCountry = try TeitenProcess.run(["counts", "top", counts, "--by", "country"])
        #expect(byCountry.standardOutput.contains("1    JP "), "192.0.2.0/24 is JP in the test ranges: \(byCountry.standardOutput)")
    }

    static func percent(_ part: Int, _ total: Int) -> String {
        let tenths = Int((Double(part) / Double(total) * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10) %"
    }

    @Test func checkFindsWhatIsWrong() throws {
        let scratch = ScratchDirectory()
        let capture = scratch.file("k.pcap"), counts = scratch.file("counts")
        try Self.knownCapture(capture)
        #expect(try TeitenProcess.run(["run", "--read", capture, "--counts-dir", counts]).status == 0)
        let good = try TeitenProcess.run(["counts", "check", counts])
        #expect(good.status == 0 && good.standardOutput.contains("1 hour files, all as the contract says"), "\(good.standardOutput)")

        let csv = counts + "/2026-01-15T00Z.csv"
        var lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").map(String.init)
        lines.swapAt(1, 2)
        try (lines.joined(separator: "\n") + "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: counts + "/2026-01-15T00Z.json")
        let bad = try TeitenProcess.run(["counts", "check", counts])
        #expect(bad.status == 1)
        #expect(bad.standardOutput.contains("not sorted") && bad.standardOutput.contains("sidecar"), "\(bad.standardOutput)")
    }

    @Test func geoLookup() throws {
        let result = try TeitenProcess.run(["geo", "lookup", "192.0.2.7", "198.51.100.200", "10.1.2.3", "--geo-db", TeitenProcess.countryFile])
        #expect(result.status == 0)
        #expect(result.standardOutput == "192.0.2.7 JP \(TeitenProcess.countryFile)\n198.51.100.200 FR \(TeitenProcess.countryFile)\n10.1.2.3 ZZ (no range holds it)\n")
        #expect(try TeitenProcess.run(["geo", "lookup", "not-an-address", "--geo-db", TeitenProcess.countryFile]).status == 65)
    }
}
