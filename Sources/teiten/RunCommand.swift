import ArgumentParser
import PacketDecoding
import PcapCapture
import TeitenCore
import TeitenOutput
import TeitenService
import Logging
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `teiten run`: the sensor itself, on a capture file or a live interface.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the sensor on a capture file (--read) or a live interface (--interface).",
        discussion: """
            With --read, the file is processed to its end and the run exits 0; a file \
            damaged part-way is processed up to the damage and reported on standard \
            error. With --interface, capture runs until SIGTERM or SIGINT, then exits 0. \
            Either way a summary goes to standard error at the end.

            Exit codes: 0 done; 64 bad usage; 65 damaged file with --strict; 66 file \
            missing, unreadable or not a capture; 69 interface unavailable; 70 live \
            capture failed after it started; 77 no permission to capture; 78 a \
            setting, config file, filter, country database or metrics address refused.

            Settings come from built-in defaults, then the config file, then the \
            flags below (each overrides the one before); `teiten check-config` prints \
            the result. Signals: SIGTERM or SIGINT stop (open episodes closed, the open \
            hour written, exit 0); SIGHUP reopens the alert file and reloads the country \
            database; SIGUSR1 logs a statistics line. Under systemd (Type=notify) READY=1 \
            is sent once the capture is active, and the watchdog is fed while packets flow.
            """
    )

    @Option(name: .long, help: ArgumentHelp(
        "Config file (TOML; `teiten check-config` prints every key). Default for live capture: \(ConfigFile.defaultPath) when it exists; a --read replay reads none unless given one. Flags override the file.",
        valueName: "file"))
    var config: String?

    @Option(name: [.customShort("r"), .long], help: ArgumentHelp(
        "Capture file to process (pcap or pcapng, any byte order, micro- or nanosecond timestamps).",
        valueName: "file"))
    var read: String?

    @Option(name: [.customShort("i"), .long], help: ArgumentHelp(
        "Network interface to capture on live (needs root or CAP_NET_RAW). Config: capture.interface.", valueName: "name"))
    var interface: String?

    @Option(name: [.customShort("f"), .long], help: ArgumentHelp(
        "BPF filter in tcpdump syntax, applied before any decoding, e.g. 'not port 22'. Config: capture.filter.", valueName: "expression"))
    var filter: String?

    @Option(name: .long, help: ArgumentHelp(
        "Live: bytes kept per packet (default 512: every header and the start of the payload). Config: capture.snaplen.",
        valueName: "bytes"))
    var snaplen: Int?

    @Option(name: .long, help: ArgumentHelp(
        "Live: kernel ring buffer size in MiB (default 32). Raise it if the summary reports kernel drops. Config: capture.buffer_size_mib.", valueName: "MiB"))
    var bufferSize: Int?

    @Flag(inversion: .prefixedNo, help: "Live: put the interface in promiscuous mode (default: on). Config: capture.promiscuous.")
    var promiscuous: Bool?

    @Flag(inversion: .prefixedNo, help: "Live: hand each packet over at once (lower latency, lower throughput; default: off). Config: capture.immediate.")
    var immediate: Bool?

    @Option(name: .long, help: ArgumentHelp(
        "Where alerts go, as JSON Lines: a file (appended to; reopened on SIGHUP) or - for standard output. Without it, alerts are only counted in the summary. Config: output.alerts.",
        valueName: "path"))
    var alerts: String?

    @Option(name: .long, help: ArgumentHelp(
        "Directory for the hourly count files (YYYY-MM-DDTHHZ.csv and .json), created if missing. Without it, nothing is counted per hour. Config: output.counts_dir.",
        valueName: "dir"))
    var countsDir: String?

    @Option(name: .long, help: ArgumentHelp(
        "Live, with --counts-dir: directory for checkpoints of the open hour, restored at the next start so a restart or crash loses at most one checkpoint interval. Config: output.state_dir.",
        valueName: "dir"))
    var stateDir: String?

    @Option(name: .long, help: ArgumentHelp(
        "Seconds of packet time an hour stays open after it ends, for packets that arrive late (with --counts-dir; default 60). Config: output.hour_grace_seconds.",
        valueName: "seconds"))
    var hourGrace: Int?

    @Option(name: .long, help: ArgumentHelp("Seconds between checkpoints (with --state-dir; default 10). Config: output.checkpoint_seconds.", valueName: "seconds"))
    var checkpointSeconds: Int?

    @Option(name: .long, help: ArgumentHelp(
        "When the counts or state directory refuses a file (disk full, unwritable), hours stay in memory and are retried this often, in seconds (default 30); failures are logged at most this often. Config: output.retry_seconds.",
        valueName: "seconds"))
    var retrySeconds: Int?

    @Option(name: .long, help: ArgumentHelp("This sensor's name in every alert line and hour sidecar (default: the host name). Config: sensor_id.", valueName: "id"))
    var sensorID: String?

    @Option(name: .long, help: ArgumentHelp(
        "Country database (repeatable): a tor-geoipdb file of IPv4 or IPv6 ranges, or one MaxMind .mmdb. Default: /usr/share/tor/geoip and geoip6 when present. Config: geo.databases.",
        valueName: "path"))
    var geoDB: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "The sensor's own live addresses (repeatable): their packets are never scans. Live capture adds the interface's addresses. Config: networks.local.",
        valueName: "cidr"))
    var localNetwork: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Address space with no live hosts (repeatable): every first contact there is a failed one, so sweepers are named within about 4 probes. Config: networks.dark.",
        valueName: "cidr"))
    var darkNetwork: [String] = []

    @Flag(inversion: .prefixedNo, help: "Live: count the interface's own addresses as local (default: on). Turn off for testing on loopback, where every packet comes from the host itself. Config: capture.interface_addresses_local.")
    var interfaceLocal: Bool?

    @Option(name: .long, help: ArgumentHelp(
        "Serve Prometheus metrics at http://HOST:PORT/metrics, e.g. 127.0.0.1:9468 (default: off). Config: service.metrics_listen.",
        valueName: "host:port"))
    var metricsListen: String?

    @Option(name: .long, help: ArgumentHelp(
        "Started as root: switch to this user once the capture is open, like tcpdump -Z. Config: service.user.",
        valueName: "name"))
    var user: String?

    @Option(name: .long, help: ArgumentHelp(
        "Least severe message logged: trace, debug, info, notice, warning, error, critical (default: info). Config: service.log_level.",
        valueName: "level"))
    var logLevel: String?

    @Option(name: [.customShort("c"), .long], help: ArgumentHelp(
        "Stop after this many packets have been read.", valueName: "n"))
    var count: UInt64?

    @Option(name: .long, help: ArgumentHelp(
        "How to read --read files: auto (a memory mapping for plain classic pcap files, libpcap for the rest) or libpcap (always).",
        valueName: "auto|libpcap"))
    var reader: FileReader = .auto

    enum FileReader: String, ExpressibleByArgument, CaseIterable {
        case auto, libpcap
    }

    @Flag(name: .long, help: "Exit 65 instead of 0 when a capture file is damaged part-way (everything before the damage is still processed).")
    var strict = false

    @Flag(name: .long, help: "No summary at the end of the run (errors and warnings are still logged).")
    var quiet = false

    func validate() throws {
        if read != nil && interface != nil { throw ValidationError("--read and --interface exclude each other: give one.") }
        if let snaplen, !(64...262_144).contains(snaplen) { throw ValidationError("--snaplen must be 64 to 262144 (got \(snaplen)).") }
        if let bufferSize, !(1...2047).contains(bufferSize) { throw ValidationError("--buffer-size must be 1 to 2047 MiB (got \(bufferSize)).") }
        if let checkpointSeconds, !(1...3600).contains(checkpointSeconds) { throw ValidationError("--checkpoint-seconds must be 1 to 3600.") }
        if let retrySeconds, !(1...3600).contains(retrySeconds) { throw ValidationError("--retry-seconds must be 1 to 3600.") }
        if let hourGrace, !(0...3600).contains(hourGrace) { throw ValidationError("--hour-grace must be 0 to 3600 seconds.") }
        for text in localNetwork + darkNetwork where AddressPrefix(text) == nil {
            throw ValidationError("'\(text)' is not a network in CIDR form (e.g. 198.51.100.0/24 or 2001:db8::/32, host bits zero).")
        }
        if let metricsListen, !metricsListen.isEmpty, ListenAddress(metricsListen) == nil {
            throw ValidationError("--metrics-listen: expected host:port, e.g. 127.0.0.1:9468 or [::1]:9468 (got '\(metricsListen)').")
        }
        if let logLevel, LogLevelName.parse(logLevel) == nil {
            throw ValidationError("--log-level: expected one of \(LogLevelName.all.joined(separator: ", ")) (got '\(logLevel)').")
        }
    }

    /// Built-in defaults, then the config file, then the flags.
    private func effectiveSettings() throws -> (settings: SensorSettings, file: String?) {
        let file = config ?? (read == nil && access(ConfigFile.defaultPath, F_OK) == 0 ? ConfigFile.defaultPath : nil)
        var settings = SensorSettings()
        if let file {
            do {
                settings = try ConfigFile.load(path: file)
            } catch {
                log.error("\(error.description)")
                throw ExitStatus.configuration
            }
        }
        if let interface { settings.capture.interface = interface }
        if read != nil { settings.capture.interface = "" }
        if let filter { settings.capture.filter = filter }
        if let snaplen { settings.capture.snaplen = snaplen }
        if let bufferSize { settings.capture.bufferSizeMiB = bufferSize }
        if let promiscuous { settings.capture.promiscuous = promiscuous }
        if let immediate { settings.capture.immediate = immediate }
        if let interfaceLocal { settings.capture.interfaceAddressesLocal = interfaceLocal }
        if !localNetwork.isEmpty { settings.networks.local = localNetwork }
        if !darkNetwork.isEmpty { settings.networks.dark = darkNetwork }
        if !geoDB.isEmpty { settings.geoDatabases = geoDB }
        if let alerts { settings.output.alerts = alerts }
        if let countsDir { settings.output.countsDirectory = countsDir }
        if let stateDir { settings.output.stateDirectory = stateDir }
        if let hourGrace { settings.output.hourGraceSeconds = hourGrace }
        if let checkpointSeconds { settings.output.checkpointSeconds = checkpointSeconds }
        if let retrySeconds { settings.output.retrySeconds = retrySeconds }
        if let sensorID { settings.sensorID = sensorID }
        if let metricsListen { settings.service.metricsListen = metricsListen }
        if let user { settings.service.user = user }
        if let logLevel { settings.service.logLevel = logLevel }
        return (settings, file)
    }

    func run() throws {
        AllocatorPolicy.keepFreedMemory()
        let (settings, configFile) = try effectiveSettings()
        JournalLogHandler.setLevel(LogLevelName.parse(settings.service.logLevel) ?? .info)
        // A refused setting exits EX_CONFIG (78), which systemd does not
        // restart in a loop; a missing source without a config file is
        // plain bad usage (64).
        guard read != nil || !settings.capture.interface.isEmpty else {
            let hint = configFile.map { ", or set capture.interface in \($0)" } ?? ""
            log.error("no capture source: give --read FILE or --interface NAME\(hint)")
            throw configFile == nil ? ExitCode.validationFailure : ExitStatus.configuration
        }
        if let problem = SettingsCheck.problem(settings, checkingGeoFiles: false) {
            log.error("\(problem.description(file: configFile))")
            throw ExitStatus.configuration
        }

        // Everything that can be refused is checked before a packet is
        // read: a bad country file, filter, metrics port or output path
        // never costs a packet.
        var configuration = try pipelineConfiguration(settings)
        let source = try openSource(settings, configuration: &configuration)
        let metrics = try openMetricsEndpoint(settings)
        try dropPrivileges(settings)
        let outputs: (alerts: AlertStreamWriter?, hours: HourFileWriter?)
        do {
            outputs = try openOutputs(settings, geoDatabases: configuration.countries.sources)
        } catch {
            metrics?.endpoint.stop()
            throw error
        }
        configuration.countHours = outputs.hours != nil
        configuration.buildsAlertLines = outputs.alerts != nil
        configuration.hourGraceSeconds = settings.output.hourGraceSeconds

        let duties = ServiceDuties(notifier: SystemdNotifier(environment: ProcessInfo.processInfo.environment),
                                   metrics: metrics?.registry, sourceName: source.name,
                                   alerts: outputs.alerts, hours: outputs.hours, geoFiles: configuration.countries.sources)
        metrics?.endpoint.start()
        defer { metrics?.endpoint.stop() }
        switch source {
        case .mapped(let mapped):
            try run(source: mapped, breaking: nil, settings: settings, configuration: configuration, outputs: outputs, duties: duties)
        case .libpcap(let handle):
            try run(source: handle, breaking: handle, settings: settings, configuration: configuration, outputs: outputs, duties: duties)
        }
    }

    private enum OpenSource {
        case mapped(MappedCaptureFile)
        case libpcap(PcapHandle)

        var name: String {
            switch self {
            case .mapped(let file): file.name
            case .libpcap(let handle): handle.name
            }
        }
    }

    /// The pipeline's settings; country files are loaded here.
    private func pipelineConfiguration(_ settings: SensorSettings) throws -> SensorPipeline.Configuration {
        var configuration = SensorPipeline.Configuration()
        configuration.tunables = settings.tunables
        for text in settings.networks.local { configuration.localNetworks.append(AddressPrefix(text)!) }
        for text in settings.networks.dark { configuration.darkNetworks.append(AddressPrefix(text)!) }
        let countries = SettingsCheck.countries(settings)
        if let problem = countries.problem {
            log.error("\(problem.description(file: nil))")
            throw ExitStatus.configuration
        }
        configuration.countries = countries.database
        return configuration
    }

    /// The capture file or live interface, filter set.
    private func openSource(_ settings: SensorSettings, configuration: inout SensorPipeline.Configuration) throws -> OpenSource {
        let capture = settings.capture
        // The fast path: a plain classic pcap file, unfiltered, read from a
        // memory mapping. Everything else goes through libpcap.
        if let read, capture.filter.isEmpty, reader == .auto, let mapped = MappedCaptureFile.open(path: read) {
            return .mapped(mapped)
        }
        do {
            let handle: PcapHandle
            if let read {
                handle = try PcapHandle.open(file: read)
            } else {
                var options = LiveCaptureOptions()
                options.snapshotLength = Int32(capture.snaplen)
                options.bufferSize = Int32(capture.bufferSizeMiB) << 20
                options.promiscuous = capture.promiscuous
                options.immediateMode = capture.immediate
                handle = try PcapHandle.open(interface: capture.interface, options: options)
                if let warning = handle.activationWarning { log.warning("\(warning)") }
                // The sensor's own addresses never count as scanners.
                for address in PcapHandle.addresses(ofInterface: handle.name) where capture.interfaceAddressesLocal {
                    configuration.localNetworks.append(AddressPrefix(address.description)!)
                }
            }
            if !capture.filter.isEmpty { try handle.apply(filter: capture.filter) }
            return .libpcap(handle)
        } catch {
            log.error("\(error.description)")
            throw Self.exitCode(for: error)
        }
    }

    private func openMetricsEndpoint(_ settings: SensorSettings) throws -> (registry: SensorMetrics, endpoint: MetricsEndpoint)? {
        guard let address = ListenAddress(settings.service.metricsListen) else { return nil }
        let registry = SensorMetrics(version: TeitenVersion.number)
        do {
            return (registry, try MetricsEndpoint(address: address, metrics: registry))
        } catch {
            log.error("service.metrics_listen: \(error.description)")
            throw ExitStatus.configuration
        }
    }

    /// Root with a user named: become that user now that the capture is open.
    private func dropPrivileges(_ settings: SensorSettings) throws {
        let name = settings.service.user
        guard !name.isEmpty else { return }
        guard PrivilegeDrop.runningAsRoot else {
            log.info("not running as root: service.user '\(name)' needs no switch")
            return
        }
        do {
            try PrivilegeDrop.switchTo(user: name)
            log.info("capture open; now running as user '\(name)'")
        } catch {
            log.error("\(error.description)")
            throw ExitStatus.noPermission
        }
    }

    private func openOutputs(_ settings: SensorSettings, geoDatabases: [String]) throws -> (alerts: AlertStreamWriter?, hours: HourFileWriter?) {
        let sensor = SensorSettings.value(settings.sensorID) ?? Self.hostName()
        var alertStream: AlertStreamWriter?
        if let path = SensorSettings.value(settings.output.alerts) {
            do {
                // A line the alert file refuses (disk full) is logged instead: under systemd, to the journal.
                alertStream = try AlertStreamWriter(path: path, sensor: sensor) { line in
                    log.warning("alert not written to \(path), logged here instead: \(line)")
                }
            } catch {
                log.error("\(error.description)")
                throw ExitStatus.cannotCreateOutput
            }
        }
        guard let directory = SensorSettings.value(settings.output.countsDirectory) else { return (alertStream, nil) }
        do {
            let hours = try HourFileWriter(directory: directory, metadata: .init(
                sensor: sensor, geoDatabases: geoDatabases, software: TeitenVersion.description),
                retrySeconds: Double(settings.output.retrySeconds), report: { log.warning("\($0)") })
            return (alertStream, hours)
        } catch {
            alertStream?.close()
            log.error("\(error.description)")
            throw ExitStatus.cannotCreateOutput
        }
    }

    /// Runs the pipeline on an open source until it ends or a signal stops it.
    private func run<Source: FrameSource>(source: Source, breaking handle: PcapHandle?, settings: SensorSettings,
                                          configuration: SensorPipeline.Configuration,
                                          outputs: (alerts: AlertStreamWriter?, hours: HourFileWriter?),
                                          duties: ServiceDuties) throws {
        let (writer, hours) = outputs
        if case .unsupported(let dlt) = source.linkType {
            log.warning("\(source.name): link type \(dlt) is not decoded; its frames are counted as \(DecodeFailure.unsupportedLinkType.name)")
        }
        StopSignal.install(breaking: handle)
        OperatorSignals.install()
        var configuration = configuration
        configuration.detectionThread = CaptureLoop.handlesAhead(source)
        var pipeline = SensorPipeline(linkType: source.linkType, configuration: configuration)
        let checkpoint = try checkpointPath(settings, live: source.isLive)
        if let checkpoint { restoreCheckpoint(from: checkpoint, into: &pipeline) }
        let capture = settings.capture
        let description = source.isLive
            ? "capturing on \(source.name): link type \(source.linkType.name), snaplen \(handle?.snapshotLength ?? Int32(capture.snaplen)), "
                + "buffer \(capture.bufferSizeMiB) MiB\(capture.promiscuous ? ", promiscuous" : "")"
                + (capture.filter.isEmpty ? "" : ", filter \"\(capture.filter)\"")
            : "reading \(source.name)"
        // Capture active, filter set, outputs open: from here on packets are counted.
        if source.isLive && !quiet { log.info("\(description)") }
        duties.ready(description)

        let reloader = CountryReloader(paths: configuration.countries.sources)
        let loop = CaptureLoop(source: source, packetLimit: count, alerts: writer, hours: hours, countries: reloader,
                               checkpoint: checkpoint.map { ($0, Double(settings.output.checkpointSeconds)) }, duties: duties)
        let outcome = loop.run(&pipeline)
        duties.stopping()
        if let checkpoint { hours?.checkpoint(pipeline.openHours, to: checkpoint) }  // what the final files will hold
        pipeline.finish()
        loop.handOver(&pipeline)
        writer?.close()
        hours?.close()

        if !quiet {
            log.notice("\(RunSummary(name: source.name, outcome: outcome, pipeline: pipeline, writer: writer, hours: hours).text)")
        }
        if let error = writer?.statistics.lastError {
            log.warning("\(writer?.path ?? ""): \(writer?.statistics.writeErrors ?? 0) alert writes failed, last: \(error)")
        }
        if let damage = outcome.damage {
            log.warning("\(damage.description) (processed \(Format.count(outcome.packets)) packets before it)")
            if outcome.isLive { throw ExitStatus.softwareError }  // the interface failed under us
            if strict { throw ExitStatus.damagedInput }
        }
    }

    /// The checkpoint file, for live captures with --state-dir (a replay is
    /// recomputed from its file instead: restoring would count twice).
    private func checkpointPath(_ settings: SensorSettings, live: Bool) throws -> String? {
        guard let stateDir = SensorSettings.value(settings.output.stateDirectory), !settings.output.countsDirectory.isEmpty else { return nil }
        guard live else {
            log.info("note: --state-dir is for live capture; a replay is recomputed from its file")
            return nil
        }
        if mkdir(stateDir, 0o755) != 0 && errno != EEXIST || access(stateDir, W_OK) != 0 {
            log.error("\(stateDir): state directory not writable: \(String(cString: strerror(errno)))")
            throw ExitStatus.cannotCreateOutput
        }
        return stateDir + "/open-hours.checkpoint"
    }

    private func restoreCheckpoint(from path: String, into pipeline: inout SensorPipeline) {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        do {
            let hours = try HourCheckpoint.decode([UInt8](data))
            pipeline.restore(hours, now: MonotonicClock.wallTime())
            let restored = hours.map { "\(HourFileWriter.hourName($0.hour)) \(Format.count($0.totalPackets)) packets" }
            log.info("restored \(hours.count) open hour(s) from \(path): \(restored.joined(separator: ", "))")
        } catch {
            log.warning("\(path): \(error); starting the hour afresh")
        }
    }

    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "teiten" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func exitCode(for error: CaptureError) -> ExitCode {
        switch error.kind {
        case .cannotOpen: error.description.hasPrefix("interface ") ? ExitStatus.unavailable : ExitStatus.cannotOpenInput
        case .permissionDenied: ExitStatus.noPermission
        case .configuration, .filter: ExitStatus.configuration
        case .read: ExitStatus.softwareError
        }
    }
}
