import PacketDecoding
import PcapCapture
import TeitenCore
import TeitenOutput

/// The few lines written to standard error when a run ends: what was read,
/// what decoded, what did not and why, how fast.
struct RunSummary {
    let name: String
    let outcome: RunOutcome
    let pipeline: SensorPipeline
    let writer: AlertStreamWriter?
    let hours: HourFileWriter?

    var text: String {
        let tally = pipeline.tally
        let seconds = max(outcome.elapsedSeconds, 1e-9)
        var lines: [String] = []
        lines.append("\(name): \(Format.count(tally.frames)) packets, \(Format.bytes(tally.wireBytes)) in "
            + "\(Format.duration(outcome.elapsedSeconds)) (\(Format.rate(Double(tally.frames) / seconds)) packets/s)"
            + (outcome.stoppedBySignal.map { ", stopped by signal \($0)" } ?? ""))
        lines.append("  decoded     \(Format.count(tally.decoded)): ipv4 \(Format.count(tally.ipv4)), ipv6 \(Format.count(tally.ipv6))"
            + (tally.fragments > 0 ? ", fragments \(Format.count(tally.fragments))" : ""))
        lines.append("  protocols   tcp \(Format.count(tally.count(of: .tcp))), udp \(Format.count(tally.count(of: .udp))), "
            + "icmp \(Format.count(tally.count(of: .icmp))), icmp6 \(Format.count(tally.count(of: .icmp6))), "
            + "other \(Format.count(tally.otherTransport))")
        let failures = tally.failures.map { "\($0.0.name) \(Format.count($0.1))" }.joined(separator: ", ")
        lines.append("  undecoded   \(Format.count(tally.undecoded))" + (failures.isEmpty ? "" : ": \(failures)"))
        var link = "  link type   \(tally.linkType.name)"
        if let first = pipeline.clock.firstPacket, let last = pipeline.clock.lastPacket {
            link += "; packet time \(UTCTime.rfc3339(first, fractionDigits: 0)) to \(UTCTime.rfc3339(last, fractionDigits: 0))"
        }
        if pipeline.clock.outOfOrderPackets > 0 { link += "; \(Format.count(pipeline.clock.outOfOrderPackets)) out of order" }
        lines.append(link)
        lines.append("  classes     probe \(Format.count(pipeline.packets(of: .probe))), backscatter \(Format.count(pipeline.packets(of: .backscatter))), "
            + "local \(Format.count(pipeline.packets(of: .localOutbound))), other \(Format.count(pipeline.packets(of: .other)))")
        let detection = pipeline.detectionStatistics
        let kinds = zip(Alert.Kind.allCases, detection.alertsByKind).filter { $0.1 > 0 }
            .map { "\($0.0.rawValue) \(Format.count($0.1))" }.joined(separator: ", ")
        var alerts = "  alerts      \(Format.count(detection.episodesOpened)) episodes" + (kinds.isEmpty ? "" : ": \(kinds)")
        if detection.linesSuppressed > 0 || detection.episodesRefused > 0 {
            alerts += "; \(Format.count(detection.linesSuppressed)) lines over the rate cap, \(Format.count(detection.episodesRefused)) episodes over the table cap"
        }
        if let writer {
            let stats = writer.statistics
            alerts += "; \(Format.count(stats.written)) lines written to \(writer.path == "-" ? "standard output" : writer.path)"
            if stats.dropped > 0 { alerts += ", \(Format.count(stats.dropped)) dropped (writer queue full)" }
            if writer.linesFallenBack > 0 { alerts += ", \(Format.count(writer.linesFallenBack)) refused by the file and logged instead" }
        }
        lines.append(alerts)
        if let hours {
            let results = hours.results
            var line = "  counts      \(results.written.count) hour files written to \(hours.directory)"
            if !results.kept.isEmpty { line += "; \(results.kept.count) kept (an existing file had as many packets or more)" }
            let faults = hours.faults
            if faults.writeFailures > 0 {
                line += "; \(Format.count(faults.writeFailures)) attempts refused by the directory (retried)"
            }
            if !results.failures.isEmpty { line += "; \(results.failures.count) NOT written" }
            if faults.hoursLost > 0 { line += "; \(faults.hoursLost) given up" }
            if faults.checkpointFailures > 0 { line += "; \(Format.count(faults.checkpointFailures)) checkpoints failed" }
            lines.append(line)
        }
        if detection.evictions > 0 {
            lines.append("  tables      \(Format.count(detection.evictions)) stalest entries evicted to stay within fixed sizes")
        }
        if tally.truncatedBySnapshot > 0 {
            lines.append("  snapshot    \(Format.count(tally.truncatedBySnapshot)) packets captured shorter than on the wire")
        }
        if let statistics = outcome.statistics {
            lines.append("  capture     received \(Format.count(statistics.received)), dropped by kernel "
                + "\(Format.count(statistics.droppedByKernel)), dropped by interface \(Format.count(statistics.droppedByInterface))")
        }
        return lines.joined(separator: "\n")
    }
}
