import PacketDecoding
import TeitenCore
import Testing
import TrafficSynthesis

/// Each kind from traffic built here: at its threshold exactly the expected
/// alert; one below, none.
@Suite("Detectors")
struct DetectorTests {
    static let scanner = "203.0.113.9"

    @Test(arguments: [15, 14])
    func verticalScan(ports: Int) throws {
        var harness = DetectionHarness()
        for port in 1...ports { harness.send(Probe.syn(Self.scanner, "198.18.5.5", port: UInt16(1000 + port)), after: 2) }
        let alerts = harness.finish()
        guard ports >= 15 else { #expect(alerts.isEmpty, "\(alerts)"); return }
        #expect(alerts.map(\.phase) == [.start, .end])
        let start = try #require(harness.starts(.verticalScan).first)
        #expect(start.source?.description == Self.scanner && start.destination?.description == "198.18.5.5")
        #expect(start.ports == 15 && start.targets == 1 && start.packets == 15 && start.transport == .tcp)
        #expect(start.destinationPorts == Array(1001...1015))
        #expect(start.windowSeconds == 300 && start.method == .threshold && start.severity == .low)
        #expect(start.firstSeen.nanoseconds < start.lastSeen.nanoseconds)
    }

    @Test(arguments: [25, 24])
    func horizontalSweep(targets: Int) throws {
        var harness = DetectionHarness()
        for n in 0..<targets { harness.send(Probe.syn(Self.scanner, Probe.dark(n), port: 8080)) }
        let alerts = harness.finish()
        guard targets >= 25 else { #expect(alerts.isEmpty); return }
        #expect(alerts.count == 2)
        let start = try #require(harness.starts(.horizontalSweep).first)
        #expect(start.destinationPorts == [8080] && start.targets == 25 && start.ports == 1 && start.destination == nil)
        #expect(start.signature == nil && start.tool == nil)
    }

    @Test(arguments: [12, 9])
    func blockScan(pairs: Int) throws {
        var harness = DetectionHarness()
        for n in 0..<pairs { harness.send(Probe.syn(Self.scanner, Probe.dark(n), port: UInt16(2000 + n))) }
        let alerts = harness.finish()
        guard pairs >= 10 else { #expect(alerts.isEmpty); return }
        #expect(alerts.map(\.kind) == [.blockScan, .blockScan], "only the block scan: no vertical, no horizontal")
        let start = try #require(harness.starts(.blockScan).first)
        #expect(start.targets == 10 && start.ports == 10)
        let end = try #require(alerts.last)
        #expect(end.phase == .end && end.targets == pairs && end.ports == pairs && end.packets == UInt64(pairs))
    }

    @Test(arguments: [25, 24])
    func backscatter(targets: Int) throws {
        var harness = DetectionHarness()
        for n in 0..<targets { harness.send(Probe.synAck("198.51.100.80", Probe.dark(n), sourcePort: 443)) }
        let alerts = harness.finish()
        guard targets >= 25 else { #expect(alerts.isEmpty); return }
        let start = try #require(harness.starts(.backscatter).first)
        #expect(start.source?.description == "198.51.100.80" && start.targets == 25 && start.sourcePorts == [443])
        #expect(start.severity == .medium && alerts.count == 2)
    }

    @Test(arguments: [100, 99])
    func flood(sources: Int) throws {
        var harness = DetectionHarness()
        for n in 0..<sources { harness.send(Probe.syn("45.\(n / 256).\(n % 256).1", "198.18.7.7", port: 80), after: 0.1) }
        let alerts = harness.finish()
        guard sources >= 100 else { #expect(alerts.isEmpty); return }
        let start = try #require(harness.starts(.flood).first)
        #expect(start.source == nil && start.destination?.description == "198.18.7.7" && start.destinationPorts == [80])
        #expect(start.sources == 100 && start.severity == .high && start.windowSeconds == 60)
        #expect(alerts.count == 2)
    }

    /// The largest threshold the config takes is reached (windows hold
    /// that many entries), and one source short of it is not.
    @Test(arguments: [255, 254])
    func floodAtTheLargestThreshold(sources: Int) throws {
        var harness = DetectionHarness { $0.tunables.floodSources = Tunables.maximumWindowThreshold }
        for n in 0..<sources { harness.send(Probe.syn("45.\(n / 256).\(n % 256).1", "198.18.7.7", port: 80), after: 0.01) }
        _ = harness.finish()
        let starts = harness.starts(.flood)
        guard sources >= 255 else { #expect(starts.isEmpty); return }
        #expect(starts.count == 1 && starts.first?.sources == 255)
    }

    /// Floods slide too: 100 sources spread over 70 s never fill a 60 s window.
    @Test func floodOutsideItsWindowIsNotAFlood() {
        var harness = DetectionHarness()
        for n in 0..<100 { harness.send(Probe.syn("45.0.\(n).1", "198.18.7.7", port: 80), after: 0.7) }
        #expect(harness.finish().isEmpty)
    }

    /// Three quiet intervals build port 5555's baseline (a few sources each);
    /// then 60 distinct sources in one interval is a surge; 20 is not (below
    /// the minimum of 30).
    @Test(arguments: [60, 20])
    func portSurge(sources: Int) throws {
        var harness = DetectionHarness()
        for interval in 0..<4 {
            for n in 0..<4 { harness.send(Probe.udp("77.\(interval).\(n).1", Probe.dark(n), port: 5555), after: 1) }
            harness.send(Probe.udp("77.200.0.1", "198.18.0.1", port: 53), after: 600 - 4)  // move into the next interval
        }
        for n in 0..<sources { harness.send(Probe.udp("88.\(n).0.1", Probe.dark(n), port: 5555), after: 1) }
        harness.send(Probe.udp("77.200.0.1", "198.18.0.1", port: 53), after: 600)
        let surges = harness.finish().filter { $0.kind == .portSurge }
        guard sources >= 30 else { #expect(surges.isEmpty); return }
        let start = try #require(surges.first { $0.phase == .start })
        #expect(start.destinationPorts == [5555] && start.transport == .udp && start.sources == sources)
        #expect(start.source == nil && start.method == .baseline && (start.baseline ?? 99) < 5)
        #expect(surges.count == 2)
    }

    /// One probe every 4 s over 20 ports, starting 50 s past a minute mark:
    /// the sliding window sees it whole; fixed one-minute bins would split it.
    @Test func slowVerticalScanAcrossMinuteMarks() throws {
        var harness = DetectionHarness()
        harness.now += 50 * 1_000_000_000
        for port in 1...20 { harness.send(Probe.syn(Self.scanner, "198.18.9.9", port: UInt16(port)), after: 4) }
        let start = try #require(harness.starts(.verticalScan).first)
        #expect(start.ports == 15)
        #expect(harness.finish().filter { $0.phase == .end }.first?.ports == 20)
    }

    /// A scan slower than its window is never one: 15 ports, one every 25 s.
    @Test func scanSlowerThanTheWindow() {
        var harness = DetectionHarness()
        for port in 1...15 { harness.send(Probe.syn(Self.scanner, "198.18.9.9", port: UInt16(port)), after: 25) }
        #expect(harness.finish().isEmpty)
    }

    /// An episode ends when nothing adds to it for its window; the same
    /// source scanning again later is a new episode, not folded into the old.
    @Test func episodesEndAndAgainIsNew() throws {
        var harness = DetectionHarness()
        for port in 1...20 { harness.send(Probe.syn(Self.scanner, "198.18.9.9", port: UInt16(port))) }
        harness.send(Probe.syn("192.0.2.1", "198.18.0.1", port: 22), after: 400)  // time passes
        #expect(harness.alerts.map(\.phase) == [.start, .end])
        for port in 100...120 { harness.send(Probe.syn(Self.scanner, "198.18.9.9", port: UInt16(port))) }
        let alerts = harness.finish()
        #expect(alerts.map(\.phase) == [.start, .end, .start, .end])
        #expect(alerts[0].episodeID == alerts[1].episodeID && alerts[2].episodeID != alerts[0].episodeID)
    }

    /// Dark space: the Threshold Random Walk names a sweeper at its 4th
    /// distinct dark destination (defaults), not its 25th.
    @Test(arguments: [4, 3])
    func thresholdRandomWalk(targets: Int) throws {
        var harness = DetectionHarness { $0.darkNetworks = PrefixList([AddressPrefix("198.18.0.0/16")!]) }
        for n in 0..<targets { harness.send(Probe.syn(Self.scanner, Probe.dark(n * 7), port: 8443)) }
        let alerts = harness.finish()
        guard targets >= 4 else { #expect(alerts.isEmpty); return }
        let start = try #require(harness.starts(.horizontalSweep).first)
        #expect(start.method == .sequential && start.targets == 4 && start.destinationPorts == [8443])
    }

    @Test func sensorsOwnTrafficIsNeverAScan() {
        var harness = DetectionHarness { $0.localNetworks = PrefixList([AddressPrefix("203.0.113.0/24")!]) }
        for n in 0..<40 { harness.send(Probe.syn(Self.scanner, Probe.dark(n), port: 8080)) }
        #expect(harness.finish().isEmpty)
        #expect(harness.pipeline.packets(of: .localOutbound) == 40)
    }

    /// A day at a small office: handshakes and data to two servers, DNS
    /// with answers, pings. No alert.
    @Test func benignTrafficRaisesNothing() {
        var harness = DetectionHarness()
        let clients = ["192.0.2.10", "192.0.2.11", "192.0.2.12"]
        for round in 0..<60 {
            let client = clients[round % 3]
            let server = round % 2 == 0 ? "198.51.100.5" : "198.51.100.6"
            let port: UInt16 = round % 4 < 2 ? 443 : 80
            harness.send(Probe.syn(client, server, port: port))
            harness.send(FrameBuilder.ipv4(source: Probe.address(server), destination: Probe.address(client),
                                           transport: .tcp(.init(sourcePort: port, destinationPort: 41000, flags: 0x12))))
            harness.send(FrameBuilder.ipv4(source: Probe.address(client), destination: Probe.address(server),
                                           transport: .tcp(.init(sourcePort: 41000, destinationPort: port, flags: 0x18,
                                                                 payload: Array("GET / HTTP/1.1\r\n\r\n".utf8)))))
            harness.send(Probe.udp(client, "198.51.100.53", port: 53, payload: [0x12, 0x34, 0x01, 0x00]))
            harness.send(Probe.udp("198.51.100.53", client, port: 41001, sourcePort: 53, payload: [0x12, 0x34, 0x81, 0x80]))
            harness.send(Probe.echo(client, "198.51.100.1"), after: 5)
        }
        #expect(harness.finish().isEmpty)
        #expect(harness.pipeline.packets(of: .backscatter) == 120, "SYN-ACKs and DNS answers classify as replies")
    }
}
