import ArgumentParser
import Foundation
import TeitenService
#if canImport(Glibc)
import Glibc
#endif

/// `teiten`: the sensor's one executable.
@main
struct Teiten: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "teiten",
        abstract: "Network observation sensor: finds scans, sweeps and worms in darknet traffic and counts it per port and country.",
        discussion: """
            Read a capture file:       teiten run --read capture.pcap
            Capture live:              teiten run --interface eth1
            Run from a config file:    teiten run --config /etc/teiten/teiten.toml
            Check a config file:       teiten check-config /etc/teiten/teiten.toml
            Make a sample capture:     teiten synth --packets 200000 -o sample.pcap

            Documentation: docs/ in the source tree (architecture, operations, performance).
            """,
        version: TeitenVersion.description,
        subcommands: [RunCommand.self, CheckConfigCommand.self, TailCommand.self, CountsCommand.self, GeoCommand.self, SynthCommand.self]
    )

    /// A launcher may hand down a signal mask that blocks SIGINT and SIGTERM
    /// (Foundation's Process does): then no command could be stopped. Every
    /// command starts with them unblocked.
    static func main() {
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGINT)
        sigaddset(&stopSignals, SIGTERM)
        sigaddset(&stopSignals, SIGHUP)
        sigaddset(&stopSignals, SIGUSR1)
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
        JournalLogHandler.bootstrap(environment: ProcessInfo.processInfo.environment)
        main(nil)
    }
}
