import ArgumentParser
import TrafficSynthesis
import TeitenService

/// `teiten synth`: writes a deterministic darknet-like capture, for trying
/// the sensor, for tests and for benchmarks.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write a deterministic, darknet-like capture file (same seed, same bytes).",
        discussion: """
            darknet mode mixes horizontal sweepers (with ZMap, masscan, Mirai and nmap \
            packet habits), vertical scanners, SQL Slammer-like UDP 1434 worms, \
            backscatter, a recurring botnet-like pool, one-off sources and some IPv6, \
            over several hours. flood mode is a spoofed SYN flood: every packet has a \
            source never used before. Destinations are in 198.18.0.0/16 and \
            2001:db8:4000::/48 (benchmark and documentation space).
            """
    )

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Capture file to write.", valueName: "file"))
    var output: String

    @Option(name: [.customShort("n"), .long], help: "Number of packets.")
    var packets: Int = 100_000

    @Option(name: .long, help: "darknet or flood.")
    var mode: String = DarknetSynthesizer.Mode.darknet.rawValue

    @Option(name: .long, help: "Seed of the generator: the same seed writes the same bytes.")
    var seed: UInt64 = 1

    @Option(name: .long, help: ArgumentHelp("Packet time of the first packet, in seconds since the epoch (default 2026-01-15T00:00:00Z).", valueName: "epoch"))
    var start: Int64 = DarknetSynthesizer.Configuration().startTime

    @Option(name: .long, help: "Hours of packet time the packets are spread over.")
    var hours: Double = 4

    @Option(name: .long, help: "pcap or pcapng.")
    var format: String = CaptureFileFormat.pcap.rawValue

    @Flag(name: .long, help: "pcap: nanosecond timestamps (magic a1b23c4d).")
    var nanosecond = false

    @Flag(name: .long, help: "pcap: big-endian headers.")
    var bigEndian = false

    func validate() throws {
        guard DarknetSynthesizer.Mode(rawValue: mode) != nil else { throw ValidationError("--mode must be darknet or flood (got \(mode)).") }
        guard CaptureFileFormat(rawValue: format) != nil else { throw ValidationError("--format must be pcap or pcapng (got \(format)).") }
        guard packets >= 0 else { throw ValidationError("--packets must not be negative.") }
        guard hours > 0, hours <= 24 * 366 else { throw ValidationError("--hours must be between 0 and 8784.") }
    }

    func run() throws {
        var configuration = DarknetSynthesizer.Configuration()
        configuration.mode = DarknetSynthesizer.Mode(rawValue: mode)!
        configuration.packets = packets
        configuration.seed = seed
        configuration.startTime = start
        configuration.durationSeconds = Int64(hours * 3600)
        var options = CaptureFileWriter.Options()
        options.format = CaptureFileFormat(rawValue: format)!
        options.nanosecondTimestamps = nanosecond
        options.bigEndian = bigEndian
        var synthesizer = DarknetSynthesizer(configuration)
        do {
            try synthesizer.write(to: output, options: options)
        } catch {
            StandardError.line("\(error)")
            throw ExitCode(73)  // EX_CANTCREAT
        }
    }
}
