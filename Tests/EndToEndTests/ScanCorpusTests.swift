import Foundation
import Testing
import TestSupport

/// The scan captures in ../shared/corpus/scans give the alerts their READMEs
/// describe, through the binary, and the contrast captures give none.
@Suite("Scan captures in the corpus")
struct ScanCorpusTests {
    struct Expectation: Sendable, CustomStringConvertible {
        let file: String
        /// kind, source, destination or nil, ports or nil, at least this many targets, tool or nil, signature or nil
        let alert: (kind: String, source: String, destination: String?, ports: [Int]?, targets: Int, tool: String?, signature: String?)?
        var description: String { file }
    }

    static let expectations: [Expectation] = [
        .init(file: "chrissanders-packets/synscan.pcapng",
              alert: ("vertical_scan", "172.16.0.8", "64.13.134.52", nil, 1, "nmap", nil)),
        .init(file: "wireshark-wiki/nmap_standard_scan.pcap",
              alert: ("vertical_scan", "192.168.100.103", "192.168.100.102", nil, 1, "nmap", nil)),
        .init(file: "wireshark-wiki/nmap_OS_scan.pcap",
              alert: ("vertical_scan", "192.168.100.103", "192.168.100.102", nil, 1, "nmap", nil)),
        .init(file: "wireshark-wiki/nmap_OS_scan_succesful.pcap",
              alert: ("vertical_scan", "192.168.100.103", "192.168.100.101", nil, 1, "nmap", nil)),
        .init(file: "unipi-sgr/Favilli__hs-icmpScan.pcap", alert: ("horizontal_sweep", "10.0.0.128", nil, [8], 256, nil, nil)),
        .init(file: "unipi-sgr/Favilli__hs-icmpScan.pcapng", alert: ("horizontal_sweep", "10.0.0.128", nil, [8], 256, nil, nil)),
        // nmap -PS: its SYN probes carry nmap's window and lone MSS option.
        .init(file: "unipi-sgr/Favilli__hs-tcp_synPingSweepRand.pcapng", alert: ("horizontal_sweep", "10.0.0.128", nil, [80], 256, "nmap", nil)),
        .init(file: "unipi-sgr/Favilli__hs-tcp_ackPingSweepRand.pcapng", alert: ("horizontal_sweep", "10.0.0.128", nil, [80], 256, nil, nil)),
        .init(file: "unipi-sgr/Favilli__hs-udpScan.pcap", alert: ("horizontal_sweep", "246.237.45.150", nil, [40125], 96, nil, nil)),
        .init(file: "wireshark-wiki/slammer.pcap", alert: ("worm", "213.76.212.22", nil, [1434], 1, nil, "SQL Slammer")),
        // Single-target, single-port or too-small captures: nothing to report.
        .init(file: "wireshark-wiki/nmap_ACK_scan_on_port_80.pcap", alert: nil),
        .init(file: "wireshark-wiki/nmap_ACK_scan_on_port_80_2.pcap", alert: nil),
        .init(file: "wireshark-wiki/nmap_zombie_scan.pcap", alert: nil),
        .init(file: "unipi-sgr/Favilli__hs-arpScan.pcap", alert: nil),
        .init(file: "chrissanders-packets/passiveosfingerprinting.pcapng", alert: nil),
        .init(file: "zeek/vnc-scanner.pcap", alert: nil),
        .init(file: "zeek/rpc-portmap-sadmind.pcap", alert: nil),
    ]

    @Test(arguments: expectations)
    func expectedAlerts(_ expectation: Expectation) throws {
        guard let corpus = corpusDirectory() else {
            if runningInCI { Issue.record("../shared/corpus is missing in CI") }
            return
        }
        let path = corpus + "/scans/" + expectation.file
        let result = try TeitenProcess.run(["run", "--read", path, "--alerts", "-", "--quiet"], timeout: 60)
        #expect(result.status == 0, "\(result.standardError)")
        let alerts = result.standardOutput.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let starts = alerts.filter { $0["phase"] as? String == "start" }
        guard let expected = expectation.alert else {
            #expect(starts.isEmpty, "\(expectation.file): \(starts)")
            return
        }
        #expect(starts.count == 1, "\(expectation.file): \(starts)")
        let end = try #require(alerts.first { $0["phase"] as? String == "end" }, "\(expectation.file)")
        #expect(end["kind"] as? String == expected.kind)
        #expect(end["src_ip"] as? String == expected.source)
        #expect(end["dest_ip"] as? String == expected.destination)
        if let ports = expected.ports { #expect(end["dest_ports"] as? [Int] == ports) }
        #expect((end["targets"] as? Int ?? 0) >= expected.targets)
        #expect(end["tool"] as? String == expected.tool, "\(expectation.file)")
        #expect(end["signature"] as? String == expected.signature)
        if expected.kind == "vertical_scan" { #expect((end["ports"] as? Int ?? 0) >= 1000) }
    }
}
