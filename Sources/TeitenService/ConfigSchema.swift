import TeitenCore

/// One key of the config file: where it lives, what it sets, what it accepts.
/// The table below is the single source of truth: the loader reads by it,
/// `check-config` prints by it, and docs/operations.md lists it.
public struct ConfigKey {
    /// Dotted path: "sensor_id", "capture.snaplen", "detection.flood_sources".
    public let path: String
    public let help: String
    public let value: Value

    public enum Value {
        case integer(WritableKeyPath<SensorSettings, Int>, ClosedRange<Int>)
        case real(WritableKeyPath<SensorSettings, Double>, ClosedRange<Double>)
        case flag(WritableKeyPath<SensorSettings, Bool>)
        /// Text, with a check that returns why a value is refused (nil: accepted).
        case text(WritableKeyPath<SensorSettings, String>, @Sendable (String) -> String?)
        case list(WritableKeyPath<SensorSettings, [String]>, @Sendable (String) -> String?)
    }

    /// "capture" for "capture.snaplen"; "" for top-level keys.
    public var section: String {
        guard let dot = path.lastIndex(of: ".") else { return "" }
        return String(path[..<dot])
    }

    /// "snaplen" for "capture.snaplen".
    public var name: String {
        guard let dot = path.lastIndex(of: ".") else { return path }
        return String(path[path.index(after: dot)...])
    }

    /// The type as an operator reads it in an error message.
    public var typeName: String {
        switch value {
        case .integer: "an integer"
        case .real: "a number"
        case .flag: "true or false"
        case .text: "a string"
        case .list: "an array of strings"
        }
    }
}

public enum ConfigSchema {
    public static func key(_ path: String) -> ConfigKey? { all.first { $0.path == path } }

    public static let sections = ["", "capture", "networks", "geo", "output", "service", "detection"]

    /// Every key, in the order `check-config` prints them. (Computed: key
    /// paths are not Sendable, and the table is read only at start-up.)
    public static var all: [ConfigKey] { [
        ConfigKey(path: "sensor_id", help: "This sensor's name in every alert line and hour sidecar (\"\": the host name).",
                  value: .text(\.sensorID, noCheck)),

        ConfigKey(path: "capture.interface", help: "Live interface to capture on (\"\": none; `run --interface` or `--read` also set the source).",
                  value: .text(\.capture.interface, noCheck)),
        ConfigKey(path: "capture.filter", help: "BPF filter in tcpdump syntax, applied before decoding (\"\": every packet).",
                  value: .text(\.capture.filter, noCheck)),
        ConfigKey(path: "capture.snaplen", help: "Bytes kept per packet; the default keeps every header and the start of the payload.",
                  value: .integer(\.capture.snaplen, 64...262_144)),
        ConfigKey(path: "capture.buffer_size_mib", help: "Kernel ring buffer in MiB; raise it when kernel drops are reported.",
                  value: .integer(\.capture.bufferSizeMiB, 1...2047)),
        ConfigKey(path: "capture.promiscuous", help: "Put the interface in promiscuous mode (needs CAP_NET_ADMIN).",
                  value: .flag(\.capture.promiscuous)),
        ConfigKey(path: "capture.immediate", help: "Hand each packet over at once: lower latency, lower throughput.",
                  value: .flag(\.capture.immediate)),
        ConfigKey(path: "capture.interface_addresses_local", help: "Treat the interface's own addresses as local networks (never scanners).",
                  value: .flag(\.capture.interfaceAddressesLocal)),

        ConfigKey(path: "networks.local", help: "The sensor's own live networks in CIDR form: their packets are never scans.",
                  value: .list(\.networks.local, checkPrefix)),
        ConfigKey(path: "networks.dark", help: "Address space with no live hosts (CIDR): first contacts there are failures, so sweepers are named within about 4 probes.",
                  value: .list(\.networks.dark, checkPrefix)),

        ConfigKey(path: "geo.databases", help: "Country databases: tor-geoipdb range files (IPv4 and IPv6) or one MaxMind .mmdb ([]: /usr/share/tor/geoip and geoip6).",
                  value: .list(\.geoDatabases, noCheck)),

        ConfigKey(path: "output.alerts", help: "Alert stream, JSON Lines, appended to and reopened on SIGHUP (\"-\": standard output; \"\": none).",
                  value: .text(\.output.alerts, noCheck)),
        ConfigKey(path: "output.counts_dir", help: "Directory for the hourly count files (\"\": no hourly counting).",
                  value: .text(\.output.countsDirectory, noCheck)),
        ConfigKey(path: "output.state_dir", help: "Live: checkpoints of the open hour, restored at the next start (\"\": none).",
                  value: .text(\.output.stateDirectory, noCheck)),
        ConfigKey(path: "output.checkpoint_seconds", help: "Seconds between checkpoints: the most a crash can lose.",
                  value: .integer(\.output.checkpointSeconds, 1...3600)),
        ConfigKey(path: "output.retry_seconds", help: "When the counts or state directory refuses a file (disk full, unwritable), hours stay in memory and are retried this often; failures are logged at most this often.",
                  value: .integer(\.output.retrySeconds, 1...3600)),
        ConfigKey(path: "output.hour_grace_seconds", help: "Seconds of packet time an hour stays open after it ends, for late packets.",
                  value: .integer(\.output.hourGraceSeconds, 0...3600)),

        ConfigKey(path: "service.metrics_listen", help: "host:port of the Prometheus endpoint, e.g. \"127.0.0.1:9468\" (\"\": off).",
                  value: .text(\.service.metricsListen, { $0.isEmpty || ListenAddress($0) != nil ? nil : "expected host:port, e.g. 127.0.0.1:9468 or [::1]:9468" })),
        ConfigKey(path: "service.user", help: "Started as root: the user to switch to once the capture is open, like tcpdump -Z (\"\": stay).",
                  value: .text(\.service.user, noCheck)),
        ConfigKey(path: "service.log_level", help: "Least severe message logged: trace, debug, info, notice, warning, error or critical.",
                  value: .text(\.service.logLevel, { LogLevelName.parse($0) == nil ? "expected one of \(LogLevelName.all.joined(separator: ", "))" : nil })),
    ] + detectionKeys }

    /// The detectors' windows and thresholds (TeitenCore's `Tunables`); docs/detection.md explains each.
    static var detectionKeys: [ConfigKey] { [
        detection("vertical_scan_ports", "Vertical scan: distinct ports on one target from one source within the window.", \.verticalScanPorts, 2...Tunables.maximumWindowThreshold),
        detection("vertical_scan_window_seconds", "Vertical scan window.", \.verticalScanWindowSeconds, 1...86_400),
        detection("horizontal_sweep_targets", "Horizontal sweep: distinct targets on one port from one source within the window.", \.horizontalSweepTargets, 2...Tunables.maximumWindowThreshold),
        detection("horizontal_sweep_window_seconds", "Horizontal sweep window.", \.horizontalSweepWindowSeconds, 1...86_400),
        detection("block_scan_ports", "Block scan: at least this many distinct ports...", \.blockScanPorts, 2...Tunables.maximumWindowThreshold),
        detection("block_scan_targets", "...and this many distinct targets from one source within the window.", \.blockScanTargets, 2...Tunables.maximumWindowThreshold),
        detection("block_scan_window_seconds", "Block scan window.", \.blockScanWindowSeconds, 1...86_400),
        detection("backscatter_targets", "Backscatter: distinct destinations of one replying source within the window.", \.backscatterTargets, 2...Tunables.maximumWindowThreshold),
        detection("backscatter_window_seconds", "Backscatter window.", \.backscatterWindowSeconds, 1...86_400),
        detection("flood_sources", "Flood: distinct sources at one destination and port within the window.", \.floodSources, 2...Tunables.maximumWindowThreshold),
        detection("flood_window_seconds", "Flood window.", \.floodWindowSeconds, 1...86_400),
        detection("worm_window_seconds", "Window of the worm signatures.", \.wormWindowSeconds, 1...86_400),
        detection("surge_interval_seconds", "Port surge: interval over which distinct sources per port are compared with the baseline.", \.surgeIntervalSeconds, 60...86_400),
        detection("surge_alpha", "Port surge: weight of the newest interval in the baseline (EWMA).", \.surgeAlpha, 0.01...1),
        detection("surge_minimum_sources", "Port surge: distinct sources an interval must reach...", \.surgeMinimumSources, 1...16_777_216),
        detection("surge_factor", "...and this multiple of the baseline.", \.surgeFactor, 1...1_000_000),
        detection("surge_warmup_intervals", "Port surge: intervals of history before a baseline is trusted.", \.surgeWarmupIntervals, 0...1000),
        detection("trw_detection_probability", "Threshold Random Walk (dark networks): wanted detection probability.", \.trwDetectionProbability, 0.5...0.999_999),
        detection("trw_false_positive_probability", "Threshold Random Walk: tolerated false positive probability.", \.trwFalsePositiveProbability, 0.000_001...0.5),
        detection("trw_theta0", "Threshold Random Walk: probability that a benign source's first contact succeeds.", \.trwTheta0, 0.01...0.99),
        detection("trw_theta1", "Threshold Random Walk: probability that a scanner's first contact succeeds.", \.trwTheta1, 0.01...0.99),
        detection("fingerprint_majority", "A tool is named when more than this share of a source's TCP probes carry its fingerprint.", \.fingerprintMajority, 0...0.99),
        detection("update_interval_seconds", "An episode's update line at most this often, in packet time (0: no updates).", \.updateIntervalSeconds, 0...604_800),
        detection("alerts_per_second", "New-episode lines per second of packet time beyond which episodes are counted, not written.", \.alertsPerSecond, 1...1_000_000),
        detection("maximum_listed_ports", "Ports listed in an alert's dest_ports at most (ports holds the true count).", \.maximumListedPorts, 1...65_536),
        detection("tracked_keys", "Keys each detector table holds; the stalest are evicted beyond it, and counted.", \.trackedKeys, 256...16_777_216),
        detection("tracked_sources", "Sources the fingerprint table holds.", \.trackedSources, 256...16_777_216),
        detection("maximum_episodes", "Concurrent episodes; further ones are counted as refused.", \.maximumEpisodes, 16...4_194_304),
    ] }

    private static func detection(_ name: String, _ help: String,
                                  _ path: WritableKeyPath<Tunables, Int>, _ range: ClosedRange<Int>) -> ConfigKey {
        ConfigKey(path: "detection." + name, help: help, value: .integer(tunable(path), range))
    }

    private static func detection(_ name: String, _ help: String,
                                  _ path: WritableKeyPath<Tunables, Double>, _ range: ClosedRange<Double>) -> ConfigKey {
        ConfigKey(path: "detection." + name, help: help, value: .real(tunable(path), range))
    }

    private static func tunable<T>(_ path: WritableKeyPath<Tunables, T>) -> WritableKeyPath<SensorSettings, T> {
        (\SensorSettings.tunables as WritableKeyPath<SensorSettings, Tunables>).appending(path: path)
    }

    private static let noCheck: @Sendable (String) -> String? = { _ in nil }
    private static let checkPrefix: @Sendable (String) -> String? = {
        AddressPrefix($0) == nil ? "'\($0)' is not a network in CIDR form (e.g. 198.51.100.0/24 or 2001:db8::/32, host bits zero)" : nil
    }
}
