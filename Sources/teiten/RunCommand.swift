import ArgumentParser
import PacketDecoding
import PcapCapture
import TeitenCore
import TeitenOutput
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
            setting or filter refused.
            """
    )

    @Option(name: [.customShort("r"), .long], help: ArgumentHelp(
        "Capture file to process (pcap or pcapng, any byte order, micro- or nanosecond timestamps).",
        valueName: "file"))
    var read: String?

    @Option(name: [.customShort("i"), .long], help: ArgumentHelp(
        "Network interface to capture on live (needs root or CAP_NET_RAW).", valueName: "name"))
    var interface: String?

    @Option(name: [.customShort("f"), .long], help: ArgumentHelp(
        "BPF filter in tcpdump syntax, applied before any decoding, e.g. 'not port 22'.", valueName: "expression"))
    var filter: String?

    @Option(name: .long, help: ArgumentHelp(
        "Live: bytes kept per packet. The default keeps every header and the start of the payload.",
        valueName: "bytes"))
    var snaplen: Int32 = LiveCaptureOptions().snapshotLength

    @Option(name: .long, help: ArgumentHelp(
        "Live: kernel ring buffer size in MiB. Raise it if the summary reports kernel drops.", valueName: "MiB"))
    var bufferSize: Int32 = LiveCaptureOptions().bufferSize >> 20

    @Flag(name: .long, help: "Live: do not put the interface in promiscuous mode.")
    var noPromiscuous = false

    @Flag(name: .long, help: "Live: hand each packet over at once (lower latency, lower throughput).")
    var immediate = false

    @Option(name: .long, help: ArgumentHelp(
        "Where alerts go, as JSON Lines: a file (appended to; reopened on SIGHUP) or - for standard output. Without it, alerts are only counted in the summary.",
        valueName: "path"))
    var alerts: String?

    @Option(name: .long, help: ArgumentHelp(
        "Directory for the hourly count files (YYYY-MM-DDTHHZ.csv and .json), created if missing. Without it, nothing is counted per hour.",
        valueName: "dir"))
    var countsDir: String?

    @Option(name: .long, help: ArgumentHelp(
        "Live, with --counts-dir: directory for checkpoints of the open hour, restored at the next start so a restart or crash loses at most one checkpoint interval.",
        valueName: "dir"))
    var stateDir: String?

    @Option(name: .long, help: ArgumentHelp(
        "Seconds of packet time an hour stays open after it ends, for packets that arrive late (with --counts-dir).",
        valueName: "seconds"))
    var hourGrace: Int = 60

    @Option(name: .long, help: ArgumentHelp("Seconds between checkpoints (with --state-dir).", valueName: "seconds"))
    var checkpointSeconds: Int = 10

    @Option(name: .long, help: ArgumentHelp("This sensor's name in every alert line and hour sidecar (default: the host name).", valueName: "id"))
    var sensorID: String?

    @Option(name: .long, help: ArgumentHelp(
        "Country database: a tor-geoipdb file of IPv4 or IPv6 ranges (repeat for both). Default: /usr/share/tor/geoip and geoip6 when present.",
        valueName: "path"))
    var geoDB: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "The sensor's own live addresses (repeatable): their packets are never scans. Live capture adds the interface's addresses.",
        valueName: "cidr"))
    var localNetwork: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Address space with no live hosts (repeatable): every first contact there is a failed one, so sweepers are named within about 4 probes.",
        valueName: "cidr"))
    var darkNetwork: [String] = []

    @Flag(name: .long, help: "Live: do not count the interface's own addresses as local. For testing on loopback, where every packet comes from the host itself.")
    var noInterfaceLocal = false

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

    @Flag(name: .long, help: "No summary on standard error at the end of the run (errors and warnings are still printed).")
    var quiet = false

    func validate() throws {
        switch (read, interface) {
        case (nil, nil): throw ValidationError("Give a capture file with --read FILE or an interface with --interface NAME.")
        case (.some, .some): throw ValidationError("--read and --interface exclude each other: give one.")
        default: break
        }
        guard snaplen > 0 else { throw ValidationError("--snaplen must be positive (got \(snaplen)).") }
        guard bufferSize > 0, bufferSize <= 2047 else { throw ValidationError("--buffer-size must be 1 to 2047 MiB (got \(bufferSize)).") }
        guard checkpointSeconds >= 1 else { throw ValidationError("--checkpoint-seconds must be at least 1.") }
        guard (0...3600).contains(hourGrace) else { throw ValidationError("--hour-grace must be 0 to 3600 seconds.") }
        if stateDir != nil && countsDir == nil { throw ValidationError("--state-dir checkpoints hourly counts: give --counts-dir too.") }
        for text in localNetwork + darkNetwork where AddressPrefix(text) == nil {
            throw ValidationError("'\(text)' is not a network in CIDR form (e.g. 198.51.100.0/24 or 2001:db8::/32, host bits zero).")
        }
    }

    /// The pipeline's settings from the options; country files are loaded here.
    private func pipelineConfiguration() throws -> SensorPipeline.Configuration {
        var configuration = SensorPipeline.Configuration()
        for text in localNetwork { configuration.localNetworks.append(AddressPrefix(text)!) }
        for text in darkNetwork { configuration.darkNetworks.append(AddressPrefix(text)!) }
        let geoPaths = geoDB.isEmpty
            ? CountryDatabase.installedDefaultPaths
            : geoDB
        do {
            for path in geoPaths { try configuration.countries.load(path: path) }
        } catch {
            StandardError.line(error.description)
            throw ExitStatus.configuration
        }
        return configuration
    }

    func run() throws {
        // Everything that can be refused is checked before the capture opens:
        // a bad country file or alert path never costs a packet.
        var configuration = try pipelineConfiguration()
        let writer = try openAlertStream()
        let hours = try openCountsDirectory(geoDatabases: configuration.countries.sources)
        configuration.countHours = hours != nil
        configuration.hourGraceSeconds = hourGrace

        // The fast path: a plain classic pcap file, unfiltered, read from a
        // memory mapping. Everything else goes through libpcap.
        if let read, filter == nil, reader == .auto, let mapped = MappedCaptureFile.open(path: read) {
            return try run(source: mapped, breaking: nil, configuration: configuration, writer: writer, hours: hours)
        }
        let handle: PcapHandle
        do {
            if let read {
                handle = try PcapHandle.open(file: read)
            } else {
                var options = LiveCaptureOptions()
                options.snapshotLength = snaplen
                options.bufferSize = bufferSize << 20
                options.promiscuous = !noPromiscuous
                options.immediateMode = immediate
                handle = try PcapHandle.open(interface: interface!, options: options)
                if let warning = handle.activationWarning { StandardError.line("warning: \(warning)") }
                // The sensor's own addresses never count as scanners.
                for address in PcapHandle.addresses(ofInterface: handle.name) where !noInterfaceLocal {
                    configuration.localNetworks.append(AddressPrefix(address.description)!)
                }
            }
            if let filter { try handle.apply(filter: filter) }
        } catch {
            writer?.close()
            hours?.close()
            StandardError.line(error.description)
            throw Self.exitCode(for: error)
        }
        try run(source: handle, breaking: handle, configuration: configuration, writer: writer, hours: hours)
    }

    /// Runs the pipeline on an open source until it ends or a signal stops it.
    private func run<Source: FrameSource>(source: Source, breaking handle: PcapHandle?,
                                          configuration: SensorPipeline.Configuration, writer: AlertStreamWriter?,
                                          hours: HourFileWriter?) throws {
        if case .unsupported(let dlt) = source.linkType {
            StandardError.line("warning: \(source.name): link type \(dlt) is not decoded; its frames are counted as \(DecodeFailure.unsupportedLinkType.name)")
        }
        StopSignal.install(breaking: handle)
        HangupSignal.install()
        var pipeline = SensorPipeline(linkType: source.linkType, configuration: configuration)
        if source.isLive && !quiet {
            // Capture active, filter set, pipeline ready: from here on packets are counted.
            StandardError.line("capturing on \(source.name): link type \(source.linkType.name), snaplen \(handle?.snapshotLength ?? snaplen), "
                + "buffer \(bufferSize) MiB\(noPromiscuous ? "" : ", promiscuous")\(filter.map { ", filter \"\($0)\"" } ?? "")")
        }
        let reloader = CountryReloader(paths: configuration.countries.sources)
        let checkpoint = try checkpointPath(live: source.isLive)
        if let checkpoint { restoreCheckpoint(from: checkpoint, into: &pipeline) }
        let loop = CaptureLoop(source: source, packetLimit: count, alerts: writer, hours: hours, countries: reloader,
                               checkpoint: checkpoint.map { ($0, Double(checkpointSeconds)) })
        let outcome = loop.run(&pipeline)
        if let checkpoint { hours?.checkpoint(pipeline.openHours, to: checkpoint) }  // what the final files will hold
        pipeline.finish()
        loop.handOver(&pipeline)
        writer?.close()
        hours?.close()

        if !quiet {
            StandardError.write(RunSummary(name: source.name, outcome: outcome, pipeline: pipeline, writer: writer, hours: hours).text)
        }
        for failure in hours?.results.failures ?? [] { StandardError.line("warning: hour file \(failure)") }
        if let error = writer?.statistics.lastError {
            StandardError.line("warning: \(alerts ?? ""): \(writer?.statistics.writeErrors ?? 0) alert writes failed, last: \(error)")
        }
        if let damage = outcome.damage {
            StandardError.line("warning: \(damage.description) (processed \(Format.count(outcome.packets)) packets before it)")
            if outcome.isLive { throw ExitStatus.softwareError }  // the interface failed under us
            if strict { throw ExitStatus.damagedInput }
        }
    }

    /// The checkpoint file, for live captures with --state-dir (a replay is
    /// recomputed from its file instead: restoring would count twice).
    private func checkpointPath(live: Bool) throws -> String? {
        guard let stateDir, countsDir != nil else { return nil }
        guard live else {
            StandardError.line("note: --state-dir is for live capture; a replay is recomputed from its file")
            return nil
        }
        if mkdir(stateDir, 0o755) != 0 && errno != EEXIST || access(stateDir, W_OK) != 0 {
            StandardError.line("\(stateDir): state directory not writable: \(String(cString: strerror(errno)))")
            throw ExitStatus.cannotCreateOutput
        }
        return stateDir + "/open-hours.checkpoint"
    }

    private func restoreCheckpoint(from path: String, into pipeline: inout SensorPipeline) {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        do {
            let hours = try HourCheckpoint.decode([UInt8](data))
            pipeline.restore(hours, now: MonotonicClock.wallTime())
            StandardError.line("restored \(hours.count) open hour(s) from \(path): "
                + hours.map { "\(HourFileWriter.hourName($0.hour)) \(Format.count($0.totalPackets)) packets" }.joined(separator: ", "))
        } catch {
            StandardError.line("warning: \(path): \(error); starting the hour afresh")
        }
    }

    private func openCountsDirectory(geoDatabases: [String]) throws -> HourFileWriter? {
        guard let countsDir else { return nil }
        do {
            return try HourFileWriter(directory: countsDir, metadata: .init(
                sensor: sensorID ?? Self.hostName(), geoDatabases: geoDatabases, software: TeitenVersion.description))
        } catch {
            StandardError.line(error.description)
            throw ExitStatus.cannotCreateOutput
        }
    }

    private func openAlertStream() throws -> AlertStreamWriter? {
        guard let alerts else { return nil }
        do {
            return try AlertStreamWriter(path: alerts, sensor: sensorID ?? Self.hostName())
        } catch {
            StandardError.line(error.description)
            throw ExitStatus.cannotCreateOutput
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
