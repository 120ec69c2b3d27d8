public import Prometheus

/// What the capture loop reports to the metrics endpoint, read off the
/// pipeline and the writers about once a second. Counters are running
/// totals since the start; the publisher turns them into increments.
public struct MetricsSnapshot: Sendable {
    public var frames: UInt64 = 0
    public var wireBytes: UInt64 = 0
    public var packetsByClass: [(String, UInt64)] = []
    public var packetsByProtocol: [(String, UInt64)] = []
    public var decodeErrors: [(String, UInt64)] = []
    public var kernelDrops: UInt64 = 0
    public var interfaceDrops: UInt64 = 0
    /// Alert lines by kind (start, update and end lines alike).
    public var alertsByKind: [(String, UInt64)] = []
    public var episodesOpened: UInt64 = 0
    public var episodesRefused: UInt64 = 0
    public var alertLinesSuppressed: UInt64 = 0
    public var alertLinesWritten: UInt64 = 0
    public var alertLinesDropped: UInt64 = 0
    public var alertWriteErrors: UInt64 = 0
    public var tableEvictions: UInt64 = 0
    public var hourFilesWritten: UInt64 = 0
    public var hourFileFailures: UInt64 = 0
    public var hourFilesPending: Int = 0
    public var hoursLost: UInt64 = 0
    public var checkpointFailures: UInt64 = 0
    public var alertLinesLogged: UInt64 = 0
    public var checkpointsWritten: UInt64 = 0
    /// Seconds since the last checkpoint was written; nil when there are none.
    public var checkpointAgeSeconds: Double?
    /// Seconds since the country database files were last modified.
    public var geoDatabaseAgeSeconds: Double?
    public var openEpisodes: Int = 0

    public init() {}
}

/// The sensor's Prometheus metrics, kept in swift-prometheus's registry
/// (which also writes the text exposition format). The hot path never
/// touches it: the capture loop hands a `MetricsSnapshot` over about once a
/// second, and the counters advance by the difference.
public final class SensorMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let state: Mutex<[String: UInt64]> = Mutex([:])

    public init(version: String) {
        registry.makeGauge(descriptor: Self.describe("teiten_build_info", "Always 1; the label carries the running version."),
                           labels: [("version", version)]).set(1.0)
    }

    public func publish(_ snapshot: MetricsSnapshot) {
        counter("teiten_packets_total", "Frames read from the capture.", [], snapshot.frames)
        counter("teiten_wire_bytes_total", "Bytes on the wire of the frames read.", [], snapshot.wireBytes)
        for (name, value) in snapshot.packetsByClass {
            counter("teiten_class_packets_total", "Decoded packets by traffic class.", [("class", name)], value)
        }
        for (name, value) in snapshot.packetsByProtocol {
            counter("teiten_protocol_packets_total", "Decoded packets by transport protocol.", [("proto", name)], value)
        }
        for (name, value) in snapshot.decodeErrors {
            counter("teiten_decode_errors_total", "Frames not decoded, by reason.", [("reason", name)], value)
        }
        counter("teiten_kernel_drops_total", "Packets the kernel dropped because the ring buffer was full (pcap_stats ps_drop).", [], snapshot.kernelDrops)
        counter("teiten_interface_drops_total", "Packets the interface or driver dropped (pcap_stats ps_ifdrop).", [], snapshot.interfaceDrops)
        for (name, value) in snapshot.alertsByKind {
            counter("teiten_alerts_total", "Alert lines produced, by kind.", [("kind", name)], value)
        }
        counter("teiten_episodes_total", "Episodes opened.", [], snapshot.episodesOpened)
        counter("teiten_episodes_refused_total", "Episodes not opened because the episode table was full.", [], snapshot.episodesRefused)
        counter("teiten_alert_lines_suppressed_total", "Start lines over the alert rate cap (counted, not written).", [], snapshot.alertLinesSuppressed)
        counter("teiten_alert_lines_written_total", "Alert lines written to the alert stream.", [], snapshot.alertLinesWritten)
        counter("teiten_alert_lines_dropped_total", "Alert lines dropped because the writer queue was full.", [], snapshot.alertLinesDropped)
        counter("teiten_alert_write_errors_total", "Failed writes to the alert stream.", [], snapshot.alertWriteErrors)
        counter("teiten_table_evictions_total", "Stalest entries evicted from the fixed-size detector tables.", [], snapshot.tableEvictions)
        counter("teiten_hour_files_written_total", "Hourly count files written.", [], snapshot.hourFilesWritten)
        counter("teiten_hour_file_failures_total", "Attempts to write an hour file that the directory refused (each is retried).", [], snapshot.hourFileFailures)
        gauge("teiten_hour_files_pending", "Finished hours kept in memory because the counts directory refuses them.", Double(snapshot.hourFilesPending))
        counter("teiten_hours_lost_total", "Unwritten hours given up (more than a week of them waited).", [], snapshot.hoursLost)
        counter("teiten_checkpoint_failures_total", "Checkpoints the state directory refused.", [], snapshot.checkpointFailures)
        counter("teiten_alert_lines_logged_total", "Alert lines the alert file refused, logged instead.", [], snapshot.alertLinesLogged)
        counter("teiten_checkpoints_written_total", "Checkpoints of the open hour written.", [], snapshot.checkpointsWritten)
        gauge("teiten_open_episodes", "Episodes open now.", Double(snapshot.openEpisodes))
        if let age = snapshot.checkpointAgeSeconds {
            gauge("teiten_checkpoint_age_seconds", "Seconds since the last checkpoint was written.", age)
        }
        if let age = snapshot.geoDatabaseAgeSeconds {
            gauge("teiten_geo_database_age_seconds", "Seconds since the country database files were modified.", age)
        }
    }

    /// The exposition text, as the endpoint serves it.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    private func counter(_ name: String, _ help: String, _ labels: [(String, String)], _ total: UInt64) {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        let delta: UInt64 = state.withLock { published in
            let before = published[key]
            published[key] = max(total, before ?? 0)
            return total &- min(total, before ?? 0)
        }
        // Made on first sight even at zero, so a series exists before its first event.
        let counter = registry.makeCounter(descriptor: Self.describe(name, help), labels: labels)
        if delta > 0 { counter.increment(by: Int64(clamping: delta)) }
    }

    private func gauge(_ name: String, _ help: String, _ value: Double) {
        registry.makeGauge(descriptor: Self.describe(name, help)).set(value)
    }

    private static func describe(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}

internal import Synchronization
