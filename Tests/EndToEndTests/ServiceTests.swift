import Foundation
import Testing
import TestSupport

/// `teiten` as a service: config file, check-config, systemd notify and
/// watchdog, signals, metrics endpoint, privilege drop.
@Suite("Service", .serialized)
struct ServiceTests {
    // MARK: Config errors

    /// Each refused config gives one line naming the file, line and key, and
    /// exit 78 (EX_CONFIG, which the unit does not restart), from
    /// `check-config` and from `run` alike.
    @Test func refusedConfigsExit78WithOneLine() throws {
        let scratch = ScratchDirectory()
        let cases: [(name: String, text: String, expected: String, viaRun: Bool)] = [
            ("unknown", "sensor_id = \"s\"\n[capture]\nsnaplenn = 96\n", "unknown.toml:3: unknown key 'capture.snaplenn'", true),
            ("type", "[detection]\nflood_sources = \"lots\"\n", "type.toml:2: detection.flood_sources: expected an integer, got a string", true),
            ("filter", "[capture]\nfilter = \"tcp and port\"\n", "filter.toml:2: capture.filter: filter \"tcp and port\"", true),
            ("geo", "[geo]\ndatabases = [\"\(scratch.file("no-such-geoip"))\"]\n", "geo.toml:2: geo.databases: \(scratch.file("no-such-geoip"))", false),
        ]
        let capture = scratch.file("s.pcap")
        #expect(try TeitenProcess.run(["synth", "-n", "100", "-o", capture]).status == 0)
        for item in cases {
            let file = scratch.file(item.name + ".toml")
            try item.text.write(toFile: file, atomically: true, encoding: .utf8)
            let checked = try TeitenProcess.run(["check-config", file])
            #expect(checked.status == 78, "\(item.name): \(checked.standardError)")
            #expect(checked.standardError.split(separator: "\n").count == 1, "\(item.name): \(checked.standardError)")
            #expect(checked.standardError.contains(item.expected), "\(item.name): \(checked.standardError)")
            if item.viaRun {
                let run = try TeitenProcess.run(["run", "--config", file, "--read", capture])
                #expect(run.status == 78 && run.standardError.contains(item.expected), "\(item.name): \(run.standardError)")
                #expect(run.standardError.split(separator: "\n").count == 1, "\(run.standardError)")
            }
        }
        // A missing country file named on the command line: the same exit.
        let run = try TeitenProcess.run(["run", "--read", capture, "--geo-db", scratch.file("absent")])
        #expect(run.status == 78 && run.standardError.contains("absent"), "\(run.standardError)")
        // A config file that is not there.
        let missing = try TeitenProcess.run(["check-config", scratch.file("nowhere.toml")])
        #expect(missing.status == 78 && missing.standardError.contains("nowhere.toml: cannot read"), "\(missing.standardError)")
    }

    @Test func checkConfigPrintsTheEffectiveConfiguration() throws {
        let scratch = ScratchDirectory()
        let file = scratch.file("t.toml"), again = scratch.file("again.toml")
        try "sensor_id = \"tokyo-1\"\n[capture]\nsnaplen = 256\n[geo]\ndatabases = [\"\(TeitenProcess.countryFile)\"]\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let checked = try TeitenProcess.run(["check-config", file])
        #expect(checked.status == 0, "\(checked.standardError)")
        let text = checked.standardOutput
        #expect(text.contains("sensor_id = \"tokyo-1\"") && text.contains("snaplen = 256"))
        #expect(text.contains("flood_sources = 100") && text.contains("buffer_size_mib = 32"), "defaults filled in")
        // The output is itself a config file that checks to the same output.
        try text.write(toFile: again, atomically: true, encoding: .utf8)
        let second = try TeitenProcess.run(["check-config", again])
        #expect(second.status == 0)
        #expect(second.standardOutput.split(separator: "\n").dropFirst() == text.split(separator: "\n").dropFirst())
        // --defaults needs no file and checks clean.
        let defaults = try TeitenProcess.run(["check-config", "--defaults"])
        try defaults.standardOutput.write(toFile: again, atomically: true, encoding: .utf8)
        #expect(try TeitenProcess.run(["check-config", again, "--quiet"]).status == 0)
    }

    /// Flags override the config file, which overrides the defaults.
    @Test func flagsOverrideTheConfigFile() throws {
        let scratch = ScratchDirectory()
        let capture = scratch.file("s.pcap"), file = scratch.file("t.toml")
        let fromConfig = scratch.file("config-alerts.jsonl"), fromFlag = scratch.file("flag-alerts.jsonl")
        #expect(try TeitenProcess.run(["synth", "-n", "20000", "--hours", "1", "-o", capture]).status == 0)
        try "sensor_id = \"from-config\"\n[output]\nalerts = \"\(fromConfig)\"\n[detection]\nvertical_scan_ports = 255\nvertical_scan_window_seconds = 1\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try TeitenProcess.run(["run", "--config", file, "--read", capture, "--quiet"]).status == 0)
        let lines = AlertStreamTests.parse(try String(contentsOfFile: fromConfig, encoding: .utf8))
        #expect(!lines.isEmpty && lines.allSatisfy { $0["sensor"] as? String == "from-config" })
        #expect(!lines.contains { $0["kind"] as? String == "vertical_scan" }, "threshold from the config file")

        #expect(try TeitenProcess.run(["run", "--config", file, "--read", capture, "--quiet",
                                       "--sensor-id", "from-flag", "--alerts", fromFlag]).status == 0)
        let flagged = AlertStreamTests.parse(try String(contentsOfFile: fromFlag, encoding: .utf8))
        #expect(!flagged.isEmpty && flagged.allSatisfy { $0["sensor"] as? String == "from-flag" })
        #expect(AlertStreamTests.parse(try String(contentsOfFile: fromConfig, encoding: .utf8)).count == lines.count, "config path untouched")
    }

    /// --log-level: the summary (notice) is left out at "error", errors still
    /// show; an unknown level is bad usage.
    @Test func logLevelFiltersMessages() throws {
        let scratch = ScratchDirectory()
        let capture = scratch.file("s.pcap")
        #expect(try TeitenProcess.run(["synth", "-n", "1000", "-o", capture]).status == 0)
        let quiet = try TeitenProcess.run(["run", "--read", capture, "--log-level", "error"])
        #expect(quiet.status == 0 && quiet.standardError.isEmpty, "\(quiet.standardError)")
        let chatty = try TeitenProcess.run(["run", "--read", capture, "--log-level", "info"])
        #expect(chatty.standardError.contains("s.pcap: 1,000 packets"), "\(chatty.standardError)")
        let missing = try TeitenProcess.run(["run", "--read", scratch.file("absent.pcap"), "--log-level", "error"])
        #expect(missing.status == 66 && missing.standardError.contains("absent.pcap"))
        #expect(try TeitenProcess.run(["run", "--read", capture, "--log-level", "loud"]).status == 64)
    }

    // MARK: systemd notify

    /// Type=notify: READY=1 once capture is active (packets sent right after
    /// it are all counted), WATCHDOG=1 while the loop runs, STOPPING=1 on
    /// SIGTERM, then exit 0 with the open hour written, marked incomplete.
    @Test(.timeLimit(.minutes(1)))
    func notifyProtocol() throws {
        guard geteuid() == 0 else { print("notify test: skipped, live capture needs root"); return }
        let scratch = ScratchDirectory()
        let socketName = "@teiten-test-notify-\(getpid())"
        let receiver = try NotifyReceiver(socketName)
        let counts = scratch.file("counts")
        let sensor = try LiveSensor(["--no-interface-local", "--counts-dir", counts, "--filter", LoopbackTraffic.filter(basePort: 47400)],
                                    environment: ["NOTIFY_SOCKET": socketName, "WATCHDOG_USEC": "400000"])
        try #require(sensor.started, "\(sensor.errors.text)")
        var messages: [String] = []
        while !messages.contains(where: { $0.hasPrefix("READY=1") }), let message = receiver.next() { messages.append(message) }
        #expect(messages.contains { $0.hasPrefix("READY=1\nSTATUS=capturing on lo") }, "\(messages)")

        LoopbackTraffic.udpScan(host: 2, basePort: 47400)  // 20 datagrams, right after READY
        let deadline = Date().addingTimeInterval(1.5)
        while Date() < deadline { if let message = receiver.next() { messages.append(message) } }
        #expect(messages.filter { $0 == "WATCHDOG=1" }.count >= 3, "fed every 0.2 s: \(messages)")

        kill(sensor.process.processIdentifier, SIGUSR1)
        usleep(600_000)
        let output = sensor.stop()
        while let message = receiver.next() { messages.append(message) }
        #expect(output.contains("statistics: lo: "), "SIGUSR1 line: \(output)")
        #expect(sensor.process.terminationReason == .exit && sensor.process.terminationStatus == 0, "\(output)")
        let stopping = messages.firstIndex { $0.hasPrefix("STOPPING=1") }
        let ready = messages.firstIndex { $0.hasPrefix("READY=1") }
        #expect(stopping != nil && ready != nil && stopping! > ready!, "\(messages)")
        let summary = output.range(of: "teiten: lo: ").map { String(output[$0.lowerBound...]) } ?? output
        #expect(summaryCount(summary, after: "udp") == 20, "every packet after READY counted: \(output)\n\(messages)")

        let sidecars = try FileManager.default.contentsOfDirectory(atPath: counts).filter { $0.hasSuffix(".json") }
        #expect(sidecars.count == 1, "\(sidecars)")
        let sidecar = try String(contentsOfFile: counts + "/" + (sidecars.first ?? ""), encoding: .utf8)
        #expect(sidecar.contains("\"complete\": false") || sidecar.contains("\"complete\":false"), "\(sidecar)")
    }

    // MARK: Rotation

    /// logrotate while traffic flows: rename the alert file, SIGHUP; every
    /// alert line is in exactly one of the two files.
    @Test(.timeLimit(.minutes(1)))
    func rotationWhileTrafficFlows() throws {
        guard geteuid() == 0 else { print("rotation test: skipped, live capture needs root"); return }
        let scratch = ScratchDirectory()
        let path = scratch.file("alerts.jsonl")
        let sensor = try LiveSensor(["--no-interface-local", "--alerts", path, "--filter", LoopbackTraffic.filter(basePort: 47500)])
        try #require(sensor.started, "\(sensor.errors.text)")
        let hosts: [UInt8] = Array(2...41)
        let sender = Thread {
            for host in hosts { LoopbackTraffic.udpScan(host: host, basePort: 47500) }
        }
        sender.start()
        usleep(300_000)  // a few scans in
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        kill(sensor.process.processIdentifier, SIGHUP)
        while !sender.isFinished { usleep(50_000) }
        usleep(500_000)
        let output = sensor.stop()

        let rotated = (try? String(contentsOfFile: path + ".1", encoding: .utf8)) ?? ""
        let fresh = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        #expect(rotated.hasSuffix("\n") && fresh.hasSuffix("\n"), "whole lines only")
        let all = AlertStreamTests.parse(rotated) + AlertStreamTests.parse(fresh)
        #expect(AlertStreamTests.parse(rotated).count > 0 && AlertStreamTests.parse(fresh).count > 0, "the rotation fell mid-traffic")
        // An episode is its kind, source, target and ports; each has one start and one end.
        let keys = all.map { "\($0["phase"] as? String ?? "?") \($0["dest_ip"] as? String ?? "-") \($0["kind"] as? String ?? "?") \($0["dest_ports"] as? [Int] ?? [])" }
        #expect(Set(keys).count == keys.count, "no line twice: \(keys.sorted())")
        for host in hosts {
            let episode = "127.0.0.\(host) vertical_scan"
            #expect(keys.contains { $0.hasPrefix("start \(episode)") } && keys.contains { $0.hasPrefix("end \(episode)") }, "\(episode)\n\(output)")
        }
        #expect(rotated.split(separator: "\n").count + fresh.split(separator: "\n").count == all.count, "every line parses")
    }

    // MARK: Metrics

    @Test(.timeLimit(.minutes(1)))
    func metricsEndpointIsScraped() throws {
        guard geteuid() == 0 else { print("metrics test: skipped, live capture needs root"); return }
        let port = freeLocalPort()
        let sensor = try LiveSensor(["--no-interface-local", "--metrics-listen", "127.0.0.1:\(port)",
                                     "--filter", LoopbackTraffic.filter(basePort: 47600)])
        try #require(sensor.started, "\(sensor.errors.text)")
        LoopbackTraffic.udpScan(host: 2, basePort: 47600)
        usleep(1_500_000)  // metrics refresh once a second
        let response = httpGet(port: port, path: "/metrics")
        let missing = httpGet(port: port, path: "/")
        _ = sensor.stop()

        #expect(response.hasPrefix("HTTP/1.0 200 OK"), "\(response)")
        #expect(response.contains("Content-Type: text/plain; version=0.0.4"))
        #expect(missing.hasPrefix("HTTP/1.0 404"))
        let body = response.components(separatedBy: "\r\n\r\n").dropFirst().joined()
        let samples = PrometheusSamples(body)
        #expect(samples["teiten_packets_total"] == 20, "\(body)")
        #expect(samples["teiten_protocol_packets_total{proto=\"udp\"}"] == 20)
        #expect(samples["teiten_class_packets_total{class=\"probe\"}"] == 20)
        #expect(samples["teiten_alerts_total{kind=\"vertical_scan\"}"] == 1)
        #expect(samples["teiten_kernel_drops_total"] == 0)
        #expect(samples["teiten_decode_errors_total{reason=\"ipv4-truncated\"}"] == 0)
        #expect(samples.keys.contains("teiten_geo_database_age_seconds"))
        #expect(samples.keys.contains("teiten_table_evictions_total"))
        // Every sample line is name{labels} value, with a TYPE line for the name.
        for line in body.split(separator: "\n") where !line.hasPrefix("#") {
            let name = line.prefix { $0 != "{" && $0 != " " }
            #expect(body.contains("# TYPE \(name) "), "\(line)")
            #expect(Double(line.split(separator: " ").last ?? "") != nil, "\(line)")
        }
    }

    // MARK: Privileges

    /// As root with --user: the capture opens, then the process runs as
    /// that user, and still writes its outputs and stops cleanly.
    @Test(.timeLimit(.minutes(1)))
    func dropsToTheConfiguredUser() throws {
        guard geteuid() == 0 else { print("privilege test: skipped, needs root"); return }
        guard let nobody = getpwnam("nobody") else { print("privilege test: skipped, no user nobody"); return }
        let scratch = ScratchDirectory()
        chmod(scratch.path, 0o777)
        let counts = scratch.file("counts"), alerts = scratch.file("alerts.jsonl")
        let sensor = try LiveSensor(["--no-interface-local", "--user", "nobody", "--counts-dir", counts, "--alerts", alerts,
                                     "--filter", LoopbackTraffic.filter(basePort: 47700)])
        try #require(sensor.started, "\(sensor.errors.text)")
        let status = try String(contentsOfFile: "/proc/\(sensor.process.processIdentifier)/status", encoding: .utf8)
        let uidLine = status.split(separator: "\n").first { $0.hasPrefix("Uid:") } ?? ""
        let uids = uidLine.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().compactMap { UInt32($0) }
        #expect(uids.count == 4 && uids.allSatisfy { $0 == nobody.pointee.pw_uid }, "real, effective, saved, fs: \(uidLine)")
        let capabilities = status.split(separator: "\n").first { $0.hasPrefix("CapEff:") } ?? ""
        #expect(capabilities.hasSuffix("0000000000000000"), "no capabilities left: \(capabilities)")
        LoopbackTraffic.udpScan(host: 2, basePort: 47700)
        usleep(500_000)
        let output = sensor.stop()
        #expect(sensor.process.terminationStatus == 0, "\(output)")
        #expect(output.contains("now running as user 'nobody'"))
        #expect(AlertStreamTests.parse((try? String(contentsOfFile: alerts, encoding: .utf8)) ?? "").count == 2, "\(output)")
        var info = stat()
        #expect(stat(alerts, &info) == 0 && info.st_uid == nobody.pointee.pw_uid, "written as nobody")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: counts)) ?? []).contains { $0.hasSuffix(".csv") })
    }
}

/// Parses the Prometheus text exposition format into "name{labels}" -> value.
func PrometheusSamples(_ text: String) -> [String: Double] {
    var samples: [String: Double] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
        samples[String(line[..<space])] = value
    }
    return samples
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
func freeLocalPort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length); return getsockname(fd, $0, &length) }
    }
    return UInt16(bigEndian: address.sin_port)
}

/// A plain HTTP/1.0 GET to 127.0.0.1:`port`; the whole response, or "".
func httpGet(port: UInt16, path: String) -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return "" }
    let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var response: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { break }
        response += chunk[0..<count]
    }
    return String(decoding: response, as: UTF8.self)
}
