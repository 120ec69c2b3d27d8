#if canImport(Glibc)
import Glibc
#endif
import Logging
import PacketDecoding
import PcapCapture
import TeitenCore
import TeitenOutput
import TeitenService

/// What a daemon owes its surroundings, done on the capture loop's periodic
/// step (every few thousand packets, or every idle wake-up of a quiet live
/// capture): feed the systemd watchdog, refresh the status line and the
/// metrics, and answer SIGUSR1 with a statistics line.
///
/// Because the step runs on the capture thread, the watchdog is fed only
/// while the pipeline makes progress: a wedged loop stops feeding it.
final class ServiceDuties {
    let notifier: SystemdNotifier
    let metrics: SensorMetrics?
    let sourceName: String
    private let alerts: AlertStreamWriter?
    private let hours: HourFileWriter?
    private let geoFiles: [String]
    private var lastMetrics = -Double.infinity
    private var lastStatus: (time: Double, frames: UInt64)
    private var packetsPerSecond = 0.0
    private var checkpointsSeen = 0
    private var lastCheckpoint: Double?

    /// Seconds between STATUS= updates and between metric refreshes.
    static let statusInterval = 5.0
    static let metricsInterval = 1.0

    init(notifier: SystemdNotifier, metrics: SensorMetrics?, sourceName: String,
         alerts: AlertStreamWriter?, hours: HourFileWriter?, geoFiles: [String]) {
        self.notifier = notifier
        self.metrics = metrics
        self.sourceName = sourceName
        self.alerts = alerts
        self.hours = hours
        self.geoFiles = geoFiles
        lastStatus = (MonotonicClock.seconds(), 0)
    }

    /// Capture active, filter set, outputs open: tell systemd.
    func ready(_ description: String) {
        notifier.ready(status: description)
    }

    func step(_ pipeline: SensorPipeline, statistics: () -> CaptureStatistics?) {
        let now = MonotonicClock.seconds()
        notifier.watchdogProgress(now: now)
        let usr1 = OperatorSignals.take(SIGUSR1)
        let metricsDue = metrics != nil && now - lastMetrics >= Self.metricsInterval
        let statusDue = now - lastStatus.time >= Self.statusInterval
        guard metricsDue || statusDue || usr1 else { return }
        let captured = statistics()
        if let hours, hours.checkpointsWritten != checkpointsSeen {
            checkpointsSeen = hours.checkpointsWritten
            lastCheckpoint = now
        }
        if statusDue {
            packetsPerSecond = Double(pipeline.tally.frames &- lastStatus.frames) / (now - lastStatus.time)
            lastStatus = (now, pipeline.tally.frames)
            notifier.status(statusLine(pipeline, captured))
        }
        if let metrics, metricsDue {
            lastMetrics = now
            metrics.publish(snapshot(pipeline, captured, now: now))
        }
        if usr1 { log.notice("statistics: \(statusLine(pipeline, captured))") }
    }

    func stopping() { notifier.stopping() }

    /// One line: rate, totals, drops, alerts, hours. Used for STATUS= and SIGUSR1.
    func statusLine(_ pipeline: SensorPipeline, _ captured: CaptureStatistics?) -> String {
        let tally = pipeline.tally
        let detection = pipeline.detectionStatistics
        var line = "\(sourceName): \(Format.rate(packetsPerSecond)) packets/s, \(Format.count(tally.frames)) packets, "
            + "\(Format.count(tally.undecoded)) undecoded"
        if let captured {
            line += ", drops kernel \(Format.count(captured.droppedByKernel)) interface \(Format.count(captured.droppedByInterface))"
        }
        line += ", \(Format.count(detection.episodesOpened)) episodes (\(detection.openEpisodes) open)"
        if let alerts {
            let written = alerts.statistics
            line += ", \(Format.count(written.written)) alert lines written"
            if written.writeErrors > 0 { line += " (\(Format.count(written.writeErrors)) failed)" }
        }
        if let hours { line += ", \(hours.results.written.count) hour files" }
        return line
    }

    private func snapshot(_ pipeline: SensorPipeline, _ captured: CaptureStatistics?, now: Double) -> MetricsSnapshot {
        let tally = pipeline.tally
        let detection = pipeline.detectionStatistics
        var snapshot = MetricsSnapshot()
        snapshot.frames = tally.frames
        snapshot.wireBytes = tally.wireBytes
        snapshot.packetsByClass = TrafficClass.allCases.map { ($0.name, pipeline.packets(of: $0)) }
        snapshot.packetsByProtocol = [TransportProtocol.tcp, .udp, .icmp, .icmp6].map { ($0.name, tally.count(of: $0)) }
            + [("other", tally.otherTransport)]
        snapshot.decodeErrors = DecodeFailure.allCases.map { ($0.name, tally.count(of: $0)) }
        snapshot.kernelDrops = captured?.droppedByKernel ?? 0
        snapshot.interfaceDrops = captured?.droppedByInterface ?? 0
        snapshot.alertsByKind = zip(Alert.Kind.allCases, detection.alertsByKind).map { ($0.rawValue, $1) }
        snapshot.episodesOpened = detection.episodesOpened
        snapshot.episodesRefused = detection.episodesRefused
        snapshot.alertLinesSuppressed = detection.linesSuppressed
        snapshot.openEpisodes = detection.openEpisodes
        if let alerts {
            let written = alerts.statistics
            snapshot.alertLinesWritten = written.written
            snapshot.alertLinesDropped = written.dropped
            snapshot.alertWriteErrors = written.writeErrors
            snapshot.alertLinesLogged = alerts.linesFallenBack
        }
        snapshot.tableEvictions = detection.evictions
        if let hours {
            let results = hours.results
            snapshot.hourFilesWritten = UInt64(results.written.count)
            let faults = hours.faults
            snapshot.hourFileFailures = faults.writeFailures
            snapshot.hourFilesPending = faults.pendingHours
            snapshot.hoursLost = faults.hoursLost
            snapshot.checkpointFailures = faults.checkpointFailures
            snapshot.checkpointsWritten = UInt64(hours.checkpointsWritten)
            snapshot.checkpointAgeSeconds = lastCheckpoint.map { now - $0 }
        }
        snapshot.geoDatabaseAgeSeconds = geoDatabaseAge()
        return snapshot
    }

    /// Age of the stalest country database file, from its modification time.
    private func geoDatabaseAge() -> Double? {
        var oldest: Int?
        for path in geoFiles {
            var status = stat()
            guard stat(path, &status) == 0 else { continue }
            oldest = min(oldest ?? .max, status.st_mtim.tv_sec)
        }
        return oldest.map { Double(time(nil) - $0) }
    }
}
