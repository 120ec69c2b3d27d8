import Foundation
import Testing
import TestSupport

/// `teiten run --interface lo` sees traffic the test itself sends to
/// 127.0.0.x: a few hundred UDP datagrams and refused TCP connections, no
/// other address, bounded in packets and time.
@Suite("Live capture on loopback", .serialized)
struct LiveCaptureTests {
    static let udpPort: UInt16 = 47809
    static let tcpPort: UInt16 = 47810  // nothing listens: every connect is a SYN answered by a RST
    static let datagrams = 300
    static let connections = 50

    @Test(.timeLimit(.minutes(1)))
    func loopbackCaptureSeesTestTraffic() throws {
        guard geteuid() == 0 else {
            print("live capture: skipped, not running as root (capture needs CAP_NET_RAW)")
            return
        }
        let sensor = try LiveSensor(["--immediate", "--filter", "udp dst port \(Self.udpPort) or tcp port \(Self.tcpPort)"])
        if !sensor.process.isRunning && sensor.errors.text.contains("ermission") {
            print("live capture: skipped, capture not permitted here: \(sensor.errors.text)")
            return
        }
        try #require(sensor.started, "no start line: \(sensor.errors.text)")

        sendUDP(count: Self.datagrams)
        let refused = connectRefused(count: Self.connections)
        usleep(500_000)  // let the last packets through the ring
        let output = sensor.stop()
        let process = sensor.process

        // The summary starts at its own first line, after the start line.
        let summary = output.range(of: "teiten: lo: ").map { String(output[$0.lowerBound...]) } ?? output
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(summary)")
        #expect(summary.contains("stopped by signal 15"))
        #expect(summaryCount(summary, after: "udp") == Self.datagrams, "\(summary)")
        // A SYN and a RST for each refused connection.
        #expect((summaryCount(summary, after: "tcp") ?? 0) >= 2 * refused, "\(summary)")
        #expect(refused == Self.connections)
        #expect(summary.contains("dropped by kernel 0"), "\(summary)")
    }

    private func sendUDP(count: Int) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = loopbackAddress(last: 2, port: Self.udpPort)
        let payload = [UInt8](repeating: 0x54, count: 64)
        for _ in 0..<count {
            _ = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, payload, payload.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            usleep(200)
        }
    }

    /// Connects to a closed port; returns how many were refused (as expected).
    private func connectRefused(count: Int) -> Int {
        var refused = 0
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = loopbackAddress(last: 3, port: Self.tcpPort)
            let result = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if result != 0 && errno == ECONNREFUSED { refused += 1 }
            close(fd)
        }
        return refused
    }

    private func loopbackAddress(last: UInt8, port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = (UInt32(127) << 24 | UInt32(last)).bigEndian
        return address
    }
}

/// Reads a pipe to its end on a background thread; `text` is what has
/// arrived so far.
final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.lock(); data.append(chunk); lock.unlock()
            }
            done.signal()
        }
    }

    var text: String {
        lock.lock(); defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }

    /// Waits (at most 10 s) for the end of the output and returns all of it.
    func finish() -> String {
        _ = done.wait(timeout: .now() + 10)
        return text
    }
}

/// A real scanner: nmap SYN-scans 127.0.0.2 (ports 1–1000) and sweeps port
/// 8080 across 127.0.1.0/24 while `teiten run --interface lo` watches.
/// Bounded: nmap with no retries and a host timeout, each run killed after 90 s.
@Suite("nmap against loopback", .serialized)
struct NmapLiveTests {
    @Test(.timeLimit(.minutes(5)))
    func nmapScansAreNamed() throws {
        guard geteuid() == 0 else { print("nmap test: skipped, not running as root"); return }
        guard let nmap = Self.findOrInstallNmap() else { print("nmap test: skipped, nmap is not installed and could not be installed"); return }
        let scratch = ScratchDirectory()
        let alertFile = scratch.file("alerts.jsonl")
        let sensor = try LiveSensor(["--no-interface-local", "--alerts", alertFile,
                                     "--filter", "tcp and (host 127.0.0.2 or net 127.0.1.0/24)"])
        try #require(sensor.started, "no start line: \(sensor.errors.text)")

        let common = ["-n", "-Pn", "-sS", "--max-retries", "0", "-T4", "--host-timeout", "60s"]
        _ = try Self.run(nmap, common + ["-p", "1-1000", "127.0.0.2"])
        _ = try Self.run(nmap, common + ["-p", "8080", "127.0.1.0/24"])
        usleep(500_000)
        let summary = sensor.stop()
        #expect(sensor.process.terminationStatus == 0, "\(summary)")

        let lines = (try? String(contentsOfFile: alertFile, encoding: .utf8))?.split(separator: "\n") ?? []
        let alerts = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let starts = alerts.filter { $0["phase"] as? String == "start" }
        let vertical = starts.filter { $0["kind"] as? String == "vertical_scan" }
        #expect(vertical.count == 1, "\(starts)\n\(summary)")
        #expect(vertical.first?["src_ip"] as? String == "127.0.0.1" && vertical.first?["dest_ip"] as? String == "127.0.0.2")
        #expect(vertical.first?["tool"] as? String == "nmap")
        let sweeps = starts.filter { $0["kind"] as? String == "horizontal_sweep" }
        #expect(sweeps.count == 1, "\(starts)")
        #expect(sweeps.first?["src_ip"] as? String == "127.0.0.1" && (sweeps.first?["dest_ports"] as? [Int]) == [8080])
        let ends = alerts.filter { $0["phase"] as? String == "end" && $0["kind"] as? String == "horizontal_sweep" }
        #expect((ends.first?["targets"] as? Int ?? 0) >= 250, "the sweep's end line holds its final totals")
    }

    static func findOrInstallNmap() -> String? {
        for path in ["/usr/bin/nmap", "/usr/local/bin/nmap"] where FileManager.default.isExecutableFile(atPath: path) { return path }
        _ = try? run("/usr/bin/env", ["DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq", "nmap"], timeout: 180)
        return FileManager.default.isExecutableFile(atPath: "/usr/bin/nmap") ? "/usr/bin/nmap" : nil
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], timeout: TimeInterval = 90) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// `teiten run --interface lo ...` started for a test: waits (15 s at most)
/// for the start line, which comes once capture is active and the pipeline
/// ready. `stop()` sends SIGTERM and returns all of standard error.
final class LiveSensor {
    let process = Process()
    let errors: OutputCollector

    /// `arguments` follow `run --interface lo`; `environment` is added to this process's.
    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: TeitenProcess.executable)
        process.arguments = TeitenProcess.arguments(["run", "--interface", "lo"] + arguments)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        errors = OutputCollector(pipe.fileHandleForReading)
        let deadline = Date().addingTimeInterval(15)
        while !errors.text.contains("capturing on lo") && Date() < deadline && process.isRunning { usleep(20_000) }
    }

    var started: Bool { errors.text.contains("capturing on lo") }

    /// SIGTERM, as systemd stops it; waits up to 10 s, then kills.
    func stop() -> String {
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return errors.finish()
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}
