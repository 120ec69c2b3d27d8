import Foundation
import Testing
import TestSupport
import TrafficSynthesis

/// The sensor's outputs on a disk that fills up: a 1 MiB tmpfs the test
/// mounts (and unmounts), filled to the last byte and emptied again while
/// the sensor runs. Capture and detection go on; hours wait in memory and
/// are written when space returns; alert lines the file refuses are logged;
/// nothing already written is damaged. Needs root (mount); skipped with a
/// printed reason otherwise.
@Suite("Disk faults", .serialized)
struct DiskFaultTests {
    static let start: Int64 = 1_768_435_200  // 2026-01-15T00:00:00Z

    /// Replay through a FIFO, so the test decides when packet time moves on
    /// (an hour closes) and when the disk fills and empties.
    @Test(.timeLimit(.minutes(1)))
    func countsAndAlertsOnAFullDisk() throws {
        // Counts on one small disk, alerts on another, full from the start
        // (a file's last page has room for a few lines even on a full disk).
        guard let disk = try SmallDisk(), let alertDisk = try SmallDisk() else { return }
        try alertDisk.fill()
        let scratch = ScratchDirectory()
        let fifo = scratch.file("replay.pcap")
        try #require(mkfifo(fifo, 0o600) == 0)
        let counts = disk.path + "/counts", alerts = alertDisk.path + "/alerts.jsonl"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TeitenProcess.executable)
        process.arguments = TeitenProcess.arguments(["run", "--read", fifo, "--counts-dir", counts, "--alerts", alerts,
                                                     "--hour-grace", "0", "--retry-seconds", "1", "--sensor-id", "disk-test"])
        let errorPipe = Pipe()
        process.standardError = errorPipe
        try process.run()
        let errors = OutputCollector(errorPipe.fileHandleForReading)
        defer { if process.isRunning { process.terminate() } }
        let capture = try CaptureFileWriter(path: fifo)

        // Hour 0: a vertical scan from 192.0.2.1; a packet in hour 1 closes hour 0.
        try Self.scan(from: 0xC000_0201, hour: 0, into: capture)
        try Self.probe(hour: 1, into: capture)
        let hour0 = counts + "/2026-01-15T00Z.csv", hour0Sidecar = counts + "/2026-01-15T00Z.json"
        try Self.waitFor("hour 0: \(errors.text)") { FileManager.default.fileExists(atPath: hour0Sidecar) }
        let hour0Bytes = try Data(contentsOf: URL(fileURLWithPath: hour0)), sidecarBytes = try Data(contentsOf: URL(fileURLWithPath: hour0Sidecar))

        // The disk fills. Hour 1: another scan (its alert line is refused by
        // the file), then a packet in hour 2 closes hour 1 (refused too).
        try disk.fill()
        try Self.scan(from: 0xC000_0202, hour: 1, into: capture)
        try Self.probe(hour: 2, into: capture)
        try Self.waitFor("refused: \(errors.text)") { errors.text.contains("cannot be written") && errors.text.contains("alert not written") }
        usleep(2_500_000)  // a few retries, all refused
        #expect(!FileManager.default.fileExists(atPath: counts + "/2026-01-15T01Z.csv"))

        // Space returns: the waiting hour is written without a new packet.
        disk.empty()
        alertDisk.empty()
        try Self.waitFor("hour 1: \(errors.text)") { FileManager.default.fileExists(atPath: counts + "/2026-01-15T01Z.json") }
        try capture.close()  // end of the replay: hour 2 and the episodes' end lines
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        let output = errors.finish()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(output)")

        #expect(try Data(contentsOf: URL(fileURLWithPath: hour0)) == hour0Bytes, "hour 0 untouched")
        #expect(try Data(contentsOf: URL(fileURLWithPath: hour0Sidecar)) == sidecarBytes)
        let hour1 = try String(contentsOfFile: counts + "/2026-01-15T01Z.csv", encoding: .utf8)
        #expect(hour1.split(separator: "\n").count == 1 + 20 + 1, "header, 20 scanned ports, the hour-1 probe: \(hour1)")
        #expect(FileManager.default.fileExists(atPath: counts + "/2026-01-15T02Z.csv"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: counts).filter { $0.contains(".tmp") }
        #expect(leftovers.isEmpty, "\(leftovers)")

        // Reported, but not once per attempt: the first failure, at most one
        // line per second of retries, and the recovery.
        let reportLines = output.split(separator: "\n").filter { $0.contains("hour files in") }
        #expect(reportLines.count >= 2 && reportLines.count <= 8, "\(reportLines)")
        #expect(reportLines.last?.contains("writing again") == true)
        #expect(output.contains("attempts refused by the directory"), "summary: \(output)")

        // Every alert line is in the file or in the log, exactly once, whole.
        let fileText = try String(contentsOfFile: alerts, encoding: .utf8)
        #expect(fileText.isEmpty || fileText.hasSuffix("\n"))
        let logged = output.split(separator: "\n").compactMap { line -> Substring? in
            guard let range = line.range(of: "logged here instead: ") else { return nil }
            return line[range.upperBound...]
        }
        #expect(!logged.isEmpty, "the refused lines went to the log: \(output)")
        let all = AlertStreamTests.parse(fileText) + AlertStreamTests.parse(logged.joined(separator: "\n"))
        let keys = all.map { "\($0["phase"] as? String ?? "") \($0["src_ip"] as? String ?? "")" }
        #expect(keys.sorted() == ["end 192.0.2.1", "end 192.0.2.2", "start 192.0.2.1", "start 192.0.2.2"], "\(keys)")
    }

    /// Live, with checkpoints on a disk that fills: capture goes on, the
    /// failures are counted in the metrics and logged once per interval,
    /// and checkpoints resume when space returns.
    @Test(.timeLimit(.minutes(1)))
    func checkpointsOnAFullDisk() throws {
        guard geteuid() == 0, let disk = try SmallDisk() else { print("checkpoint disk test: skipped, needs root"); return }
        let port = freeLocalPort()
        let state = disk.path + "/state"
        let sensor = try LiveSensor(["--no-interface-local", "--counts-dir", disk.path + "/counts", "--state-dir", state,
                                     "--checkpoint-seconds", "1", "--retry-seconds", "2", "--metrics-listen", "127.0.0.1:\(port)",
                                     "--filter", LoopbackTraffic.filter(basePort: 47300)])
        try #require(sensor.started, "\(sensor.errors.text)")
        try disk.fill()
        try? FileManager.default.removeItem(atPath: state + "/open-hours.checkpoint")  // so that a new one shows
        LoopbackTraffic.udpScan(host: 2, basePort: 47300)
        usleep(4_500_000)  // four checkpoint attempts, all refused
        let failing = PrometheusSamples(httpGet(port: port, path: "/metrics").components(separatedBy: "\r\n\r\n").dropFirst().joined())
        disk.empty()
        try Self.waitFor { FileManager.default.fileExists(atPath: state + "/open-hours.checkpoint") }
        usleep(1_200_000)
        let recovered = PrometheusSamples(httpGet(port: port, path: "/metrics").components(separatedBy: "\r\n\r\n").dropFirst().joined())
        let output = sensor.stop()

        #expect(sensor.process.terminationStatus == 0, "\(output)")
        #expect((failing["teiten_checkpoint_failures_total"] ?? 0) >= 3, "\(failing)")
        #expect(failing["teiten_protocol_packets_total{proto=\"udp\"}"] == 20, "capture went on")
        #expect((recovered["teiten_checkpoint_age_seconds"] ?? 99) < 3, "\(recovered)")
        let reportLines = output.split(separator: "\n").filter { $0.contains("checkpoints") && ($0.contains("fail") || $0.contains("cannot")) }
        #expect(reportLines.count >= 1 && reportLines.count <= 3, "once per 2 s interval, not once per second: \(reportLines)")
        #expect(output.contains("checkpoints: writing again"))
    }

    /// A vertical scan: 20 UDP ports of 198.18.0.1 from `source`, in `hour`.
    static func scan(from source: UInt32, hour: Int64, into capture: CaptureFileWriter) throws {
        for port in 0..<20 {
            let frame = FrameBuilder.ethernet(FrameBuilder.ipv4(source: source, destination: 0xC612_0001,
                transport: .udp(sourcePort: 40000, destinationPort: UInt16(2000 + port), payload: [1])), etherType: 0x0800)
            try capture.append(frame: frame, seconds: start + hour * 3600 + 10 + Int64(port), nanoseconds: 0)
        }
        try capture.flush()
    }

    /// One probe from 203.0.113.9 at the start of `hour`.
    static func probe(hour: Int64, into capture: CaptureFileWriter) throws {
        let frame = FrameBuilder.ethernet(FrameBuilder.ipv4(source: 0xCB00_7109, destination: 0xC612_0002,
            transport: .udp(sourcePort: 40000, destinationPort: 9999, payload: [1])), etherType: 0x0800)
        try capture.append(frame: frame, seconds: start + hour * 3600 + 1, nanoseconds: 0)
        try capture.flush()
    }

    static func waitFor(_ what: @autoclosure () -> String = "", _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(15)
        while !condition() && Date() < deadline { usleep(20_000) }
        try #require(condition(), "\(what())")
    }
}

/// A 1 MiB tmpfs mounted on a scratch directory, for filling. Nil (with a
/// printed reason) where mounting is not allowed.
final class SmallDisk {
    let path: String
    private let scratch = ScratchDirectory()
    private var filler: String { path + "/filler" }

    init?() throws {
        path = scratch.file("disk")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard geteuid() == 0,
              (try? NmapLiveTests.run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m,mode=0777", "tmpfs", path], timeout: 10)) == 0 else {
            print("disk fault test: skipped, cannot mount a tmpfs here (needs root)")
            return nil
        }
    }

    /// Writes a filler file until the filesystem says it is full.
    func fill() throws {
        let fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(fd) }
        let block = [UInt8](repeating: 0xAA, count: 4096)
        while block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
        #expect(errno == ENOSPC)
    }

    func empty() { unlink(filler) }

    deinit {
        _ = try? NmapLiveTests.run("/bin/umount", ["-l", path], timeout: 10)
    }
}
