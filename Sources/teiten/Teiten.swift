import ArgumentParser

/// `teiten`: the sensor's one executable.
@main
struct Teiten: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "teiten",
        abstract: "Network observation sensor: finds scans, sweeps and worms in darknet traffic and counts it per port and country.",
        discussion: """
            Read a capture file:       teiten run --read capture.pcap
            Capture live:              teiten run --interface eth1
            Make a sample capture:     teiten synth --packets 200000 -o sample.pcap

            Documentation: docs/ in the source tree (architecture, operations, performance).
            """,
        version: TeitenVersion.description,
        subcommands: [RunCommand.self, SynthCommand.self]
    )
}
