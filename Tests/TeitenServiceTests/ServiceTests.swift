import Foundation
import Logging
import Testing
import TestSupport
@testable import TeitenService

@Suite("Daemon surroundings")
struct ServiceTests {
    @Test func journalLinesCarrySyslogPriorities() {
        #expect(JournalLogHandler.format(level: .warning, message: "disk full", metadata: [:], journal: true) == "<4>disk full")
        #expect(JournalLogHandler.format(level: .error, message: "x", metadata: [:], journal: true) == "<3>x")
        #expect(JournalLogHandler.format(level: .info, message: "a\nb", metadata: [:], journal: true) == "<6>a\n<6>b")
        #expect(JournalLogHandler.format(level: .warning, message: "disk full", metadata: ["dir": "/x"], journal: false)
            == "teiten: warning: disk full dir=/x")
        #expect(JournalLogHandler.format(level: .error, message: "eth9: no such device", metadata: [:], journal: false)
            == "teiten: eth9: no such device")
    }

    /// Priority prefixes only when standard error really is the journal stream.
    @Test func journalStreamIsCheckedAgainstStandardError() {
        var status = stat()
        #expect(fstat(2, &status) == 0)
        #expect(JournalLogHandler.standardErrorIsJournal("\(status.st_dev):\(status.st_ino)"))
        #expect(!JournalLogHandler.standardErrorIsJournal("\(status.st_dev):\(status.st_ino &+ 1)"))
        #expect(!JournalLogHandler.standardErrorIsJournal(nil))
        #expect(!JournalLogHandler.standardErrorIsJournal("garbage"))
    }

    /// A path socket and an abstract (@) one receive what the notifier sends.
    @Test(arguments: [false, true])
    func notifyReachesTheSocket(abstract: Bool) throws {
        let name = abstract ? "@teiten-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
                            : NSTemporaryDirectory() + "teiten-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let receiver = try NotifyReceiver(name)
        defer { if !abstract { unlink(name) } }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": name, "WATCHDOG_USEC": "2000000"])
        #expect(notifier.isActive && notifier.watchdogInterval == 1.0)
        notifier.ready(status: "capturing on lo")
        notifier.watchdogProgress(now: 10)
        notifier.watchdogProgress(now: 10.5)  // within half the interval: not sent
        notifier.watchdogProgress(now: 11.0)
        notifier.stopping()
        let messages = receiver.receive(count: 4)
        #expect(messages == ["READY=1\nSTATUS=capturing on lo", "WATCHDOG=1", "WATCHDOG=1",
                             "STOPPING=1\nSTATUS=stopping: writing the open hour and closing episodes"])
    }

    @Test func notifyIsANoOpWithoutASocket() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isActive && notifier.watchdogInterval == nil)
        notifier.ready(status: "x")  // must not crash or block
        #expect(SystemdNotifier.watchdogInterval(["WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"]) == nil, "meant for another process")
    }

    @Test func metricsAdvanceByDifferences() {
        let metrics = SensorMetrics(version: "9.9")
        var snapshot = MetricsSnapshot()
        snapshot.frames = 10
        snapshot.decodeErrors = [("truncated_ipv4", 2)]
        snapshot.alertsByKind = [("vertical_scan", 1)]
        snapshot.checkpointAgeSeconds = 3
        metrics.publish(snapshot)
        snapshot.frames = 25
        metrics.publish(snapshot)
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        let samples = PrometheusText.samples(text)
        #expect(samples["teiten_packets_total"] == 25)
        #expect(samples["teiten_decode_errors_total{reason=\"truncated_ipv4\"}"] == 2)
        #expect(samples["teiten_alerts_total{kind=\"vertical_scan\"}"] == 1)
        #expect(samples["teiten_checkpoint_age_seconds"] == 3)
        #expect(samples["teiten_build_info{version=\"9.9\"}"] == 1)
        #expect(text.contains("# TYPE teiten_packets_total counter"))
        #expect(text.contains("# HELP teiten_kernel_drops_total "))
    }
}

/// Parses the text exposition format into "name{labels}" -> value.
enum PrometheusText {
    static func samples(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }
}

