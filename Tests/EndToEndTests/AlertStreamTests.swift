import Foundation
import Testing
import TestSupport

/// The alert stream as operators use it: a file tailed by `teiten tail`,
/// moved away by logrotate with SIGHUP, never a lost or half line.
@Suite("Alert stream", .serialized)
struct AlertStreamTests {
    static func parse(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test func tailFiltersAndFormats() throws {
        let scratch = ScratchDirectory()
        let capture = scratch.file("s.pcap"), alerts = scratch.file("alerts.jsonl")
        #expect(try TeitenProcess.run(["synth", "-n", "40000", "--hours", "2", "-o", capture]).status == 0)
        #expect(try TeitenProcess.run(["run", "--read", capture, "--alerts", alerts, "--quiet"]).status == 0)
        let all = Self.parse(try String(contentsOfFile: alerts, encoding: .utf8))
        let worms = all.filter { $0["kind"] as? String == "worm" }
        #expect(!worms.isEmpty && all.count > worms.count)

        let tail = try TeitenProcess.run(["tail", alerts, "--no-follow", "--kind", "worm"])
        #expect(tail.status == 0)
        let lines = tail.standardOutput.split(separator: "\n")
        #expect(lines.count == worms.count)
        #expect(lines.allSatisfy { $0.contains(" worm ") && !$0.contains("\u{1B}[") }, "plain when piped")

        let port445 = all.filter { ($0["dest_ports"] as? [Int] ?? []).contains(445) }
        #expect(try TeitenProcess.run(["tail", alerts, "--no-follow", "--port", "445"]).standardOutput
            .split(separator: "\n").count == port445.count)
        #expect(try TeitenProcess.run(["tail", alerts, "--kind", "nonsense"]).status == 64)
    }

    /// tail -F behaviour: lines appended after start, then a rotation.
    @Test(.timeLimit(.minutes(1)))
    func tailFollowsThroughRotation() throws {
        let scratch = ScratchDirectory()
        let path = scratch.file("alerts.jsonl")
        let line = #"{"timestamp":"2026-01-15T00:00:00.000000Z","event_type":"scan","phase":"start","kind":"flood","sensor":"t","src_ip":null,"src_country":"ZZ","proto":"tcp","dest_ports":[80],"dest_ip":"198.18.7.7","targets":1,"ports":1,"sources":100,"packets":100,"first_seen":"2026-01-15T00:00:00.000000Z","last_seen":"2026-01-15T00:00:00.000000Z","window_seconds":60,"severity":"high","tool":null,"signature":null}"#
        try (line + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TeitenProcess.executable)
        process.arguments = ["tail", path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        usleep(600_000)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        handle.write(Data((line.replacingOccurrences(of: "198.18.7.7", with: "198.18.7.8") + "\n").utf8))
        try handle.close()
        usleep(600_000)
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try (line.replacingOccurrences(of: "198.18.7.7", with: "198.18.7.9") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        usleep(800_000)
        process.terminate()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(!text.contains("198.18.7.7 "), "started at the end of the file")
        #expect(text.contains("198.18.7.8") && text.contains("198.18.7.9"), "\(text)")
    }

    /// SIGHUP while capturing: the alert file is reopened; the lines before
    /// and after are whole and none is lost.
    @Test(.timeLimit(.minutes(1)))
    func sighupReopensTheAlertFile() throws {
        guard geteuid() == 0 else { print("SIGHUP test: skipped, live capture needs root"); return }
        let scratch = ScratchDirectory()
        let path = scratch.file("alerts.jsonl")
        let sensor = try LiveSensor(["--no-interface-local", "--immediate", "--alerts", path,
                                     "--filter", LoopbackTraffic.filter(basePort: 47100)])
        try #require(sensor.started, "no start line: \(sensor.errors.text)")

        func lineCount(_ file: String) -> Int { Self.parse((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").count }

        LoopbackTraffic.udpScan(host: 2, basePort: 47100)
        let firstDeadline = Date().addingTimeInterval(5)
        while lineCount(path) < 1 && Date() < firstDeadline { usleep(50_000) }
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")  // logrotate
        kill(sensor.process.processIdentifier, SIGHUP)
        usleep(500_000)
        LoopbackTraffic.udpScan(host: 3, basePort: 47100)
        usleep(500_000)
        _ = sensor.stop()

        let rotated = (try? String(contentsOfFile: path + ".1", encoding: .utf8)) ?? ""
        let fresh = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        #expect(rotated.hasSuffix("\n") && fresh.hasSuffix("\n"), "whole lines only")
        let before = Self.parse(rotated), after = Self.parse(fresh)
        #expect(before.count == 1 && before.first?["dest_ip"] as? String == "127.0.0.2", "\(rotated)")
        #expect(after.count == 3, "the second start and both ends: \(fresh)")
        #expect(after.contains { $0["phase"] as? String == "start" && $0["dest_ip"] as? String == "127.0.0.3" })
    }

    /// SIGHUP reloads the country database while capturing: alerts after it
    /// carry the new country, and capture goes on meanwhile.
    @Test(.timeLimit(.minutes(1)))
    func sighupReloadsTheCountryDatabase() throws {
        guard geteuid() == 0 else { print("SIGHUP reload test: skipped, live capture needs root"); return }
        let scratch = ScratchDirectory()
        let alerts = scratch.file("alerts.jsonl"), geo = scratch.file("geoip")
        try "2130706432,2130706687,AU\n".write(toFile: geo, atomically: true, encoding: .utf8)  // 127.0.0.0/24
        let sensor = try LiveSensor(["--no-interface-local", "--immediate", "--alerts", alerts, "--geo-db", geo,
                                     "--filter", LoopbackTraffic.filter(basePort: 48000)])
        try #require(sensor.started, "no start line: \(sensor.errors.text)")

        LoopbackTraffic.udpScan(host: 2, basePort: 48000)
        try "2130706432,2130706687,NZ\n".write(toFile: geo, atomically: true, encoding: .utf8)
        kill(sensor.process.processIdentifier, SIGHUP)
        let reloadDeadline = Date().addingTimeInterval(10)
        while !sensor.errors.text.contains("reloaded the country database") && Date() < reloadDeadline { usleep(50_000) }
        LoopbackTraffic.udpScan(host: 3, basePort: 48000)
        usleep(500_000)
        let summary = sensor.stop()
        let starts = Self.parse((try? String(contentsOfFile: alerts, encoding: .utf8)) ?? "").filter { $0["phase"] as? String == "start" }
        #expect(starts.map { $0["src_country"] as? String ?? "" } == ["AU", "NZ"], "\(starts)\n\(summary)")
    }
}

/// Test traffic on the loopback interface only.
enum LoopbackTraffic {
    /// UDP datagrams from this host to 127.0.0.`host`, ports `basePort` to
    /// `basePort`+19: a vertical scan of 20 ports. Each live test has its own
    /// `basePort` (and filter), since tests of different suites run at once
    /// on the same loopback interface.
    static func udpScan(host: UInt8, basePort: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        for port in basePort..<basePort + 20 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = (UInt32(127) << 24 | UInt32(host)).bigEndian
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, [1, 2, 3], 3, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            usleep(1000)
        }
    }

    /// The capture filter that sees only a test's own scans.
    /// The test's scans only (they go to 127.0.0.2 and above). 127.0.0.1 is
    /// left out: once, in a full parallel run, a checkpoint test counted 11
    /// packets more than it sent, and ephemeral UDP ports of other local
    /// traffic can fall in any test's range.
    static func filter(basePort: UInt16) -> String {
        "udp and dst portrange \(basePort)-\(basePort + 99) and not dst host 127.0.0.1"
    }
}
