import PacketDecoding
@testable import TeitenCore
import Testing
import TrafficSynthesis

@Suite("Worm signatures and tool fingerprints")
struct SignatureAndFingerprintTests {
    static let slammer: [UInt8] = [0x04] + [UInt8](repeating: 0x01, count: 375)

    @Test func slammerIsAWormFromOnePacket() throws {
        var harness = DetectionHarness()
        harness.send(Probe.udp("213.76.212.22", "198.18.0.9", port: 1434, sourcePort: 20199, payload: Self.slammer))
        let start = try #require(harness.starts().first)
        #expect(start.kind == .worm && start.signature == "SQL Slammer" && start.method == .signature)
        #expect(start.targets == 1 && start.destinationPorts == [1434] && start.severity == .high)
    }

    /// SQL Server browser pings to 1434 are a sweep, not Slammer.
    @Test func port1434WithoutTheWormPayloadIsASweep() throws {
        var harness = DetectionHarness()
        for n in 0..<25 { harness.send(Probe.udp("192.0.2.7", Probe.dark(n), port: 1434, payload: [0x02])) }
        let starts = harness.starts()
        #expect(starts.count == 1 && starts.first?.kind == .horizontalSweep && starts.first?.signature == nil)
    }

    @Test(arguments: [3, 2])
    func witty(targets: Int) {
        var harness = DetectionHarness()
        for n in 0..<targets {
            harness.send(Probe.udp("192.0.2.40", Probe.dark(n), port: UInt16(1000 + n * 77), sourcePort: 4000,
                                   payload: [UInt8](repeating: 0x29, count: 900)))
        }
        let starts = harness.starts(.worm)
        #expect(starts.map(\.signature) == (targets >= 3 ? ["Witty"] : []))
    }

    @Test func welchiaEchoSweep() throws {
        var harness = DetectionHarness()
        for n in 0..<3 { harness.send(Probe.echo("192.0.2.41", Probe.dark(n), data: [UInt8](repeating: 0xAA, count: 64))) }
        #expect(harness.starts(.worm).map(\.signature) == ["Welchia"])
        var ordinaryPings = DetectionHarness()
        for n in 0..<3 { ordinaryPings.send(Probe.echo("192.0.2.41", Probe.dark(n))) }
        #expect(ordinaryPings.finish().isEmpty)
    }

    /// Mirai: sequence = destination address, on 23/2323.
    @Test func mirai() throws {
        var harness = DetectionHarness()
        for n in 0..<5 {
            let destination = Probe.dark(n * 3)
            harness.send(Probe.syn("192.0.2.42", destination, port: 23, window: 14600, sequence: Probe.address(destination), options: []))
        }
        let start = try #require(harness.starts(.worm).first)
        #expect(start.signature == "Mirai" && start.tool == "mirai" && start.targets == 5)
    }

    /// Every port-only entry of the table names an untooled sweep of its port.
    @Test(arguments: WormSignature.table.filter(\.isPortOnly).flatMap { signature in signature.destinationPorts.map { (signature.name, $0) } })
    func portOnlySignature(name: String, port: UInt16) throws {
        var harness = DetectionHarness()
        for n in 0..<25 { harness.send(Probe.syn("192.0.2.50", Probe.dark(n), port: port)) }
        let start = try #require(harness.starts().first)
        #expect(start.kind == .worm && start.signature == name && start.method == .threshold)
        #expect(harness.starts().count == 1)
    }

    /// The same 445 sweep from ZMap is a scanner, not Conficker.
    @Test func toolExplainsAWormPort() throws {
        var harness = DetectionHarness()
        for n in 0..<25 { harness.send(Probe.syn("192.0.2.51", Probe.dark(n), port: 445, window: 65535, identification: 54321, options: [])) }
        let start = try #require(harness.starts().first)
        #expect(start.kind == .horizontalSweep && start.tool == "zmap" && start.signature == nil)
    }

    enum Habit: String, CaseIterable { case zmap, masscanBare, masscanMSS, nmap, mirai, none }

    /// Sweeps of 8080 by each tool's packets: the tool is named; an ordinary
    /// Linux SYN names none.
    @Test(arguments: Habit.allCases)
    func toolFingerprints(habit: Habit) throws {
        var harness = DetectionHarness()
        for n in 0..<25 {
            let destination = Probe.dark(n)
            let sequence = UInt32(0x1000_0000 + n * 7919)
            let masscanID = UInt16(truncatingIfNeeded: Probe.address(destination) ^ 8080 ^ sequence)
            let packet: [UInt8]
            switch habit {
            case .zmap: packet = Probe.syn("192.0.2.60", destination, port: 8080, window: 65535, identification: 54321, sequence: sequence, options: [])
            case .masscanBare: packet = Probe.syn("192.0.2.60", destination, port: 8080, window: 1024, identification: masscanID, sequence: sequence, options: [])
            case .masscanMSS: packet = Probe.syn("192.0.2.60", destination, port: 8080, window: 1024, identification: masscanID, sequence: sequence,
                                                 options: FrameBuilder.TCPOptions.mss(1460))
            case .nmap: packet = Probe.syn("192.0.2.60", destination, port: 8080, window: [1024, 2048, 3072, 4096][n % 4],
                                           identification: UInt16(n * 31), sequence: 0xABCD_0001, options: FrameBuilder.TCPOptions.mss(1460))
            case .mirai: packet = Probe.syn("192.0.2.60", destination, port: 8080, window: 14600, sequence: Probe.address(destination), options: [])
            case .none: packet = Probe.syn("192.0.2.60", destination, port: 8080, sequence: sequence)
            }
            harness.send(packet)
        }
        let start = try #require(harness.starts(.horizontalSweep).first)
        let expected: [Habit: String?] = [.zmap: "zmap", .masscanBare: "masscan", .masscanMSS: "masscan", .nmap: "nmap", .mirai: "mirai", .none: nil]
        #expect(start.tool == expected[habit]!, "\(habit)")
    }

    /// A fingerprint carried by a minority of the source's probes is not named.
    @Test func fingerprintNeedsAMajority() throws {
        var harness = DetectionHarness()
        for n in 0..<25 {
            harness.send(Probe.syn("192.0.2.61", Probe.dark(n), port: 8080, window: 65535, identification: n % 5 < 2 ? 54321 : UInt16(n), options: []))
        }
        #expect(try #require(harness.starts(.horizontalSweep).first).tool == nil)
    }

    /// The detection event carries the verdicts the detectors used to take
    /// from the whole record, and fits one cache line with the worker's
    /// item kind beside it.
    /// Every port of every kind selects exactly the signature the table
    /// names for it (or none), through the small lookup table.
    @Test func everyPortSelectsWhatTheTableSays() {
        var expected: [TransportProtocol: [UInt16: Int]] = [.tcp: [:], .udp: [:]]
        var bySource: [UInt16: Int] = [:]
        for (index, signature) in WormSignature.table.enumerated() {
            for port in signature.destinationPorts { expected[signature.transport]?[port] = index }
            if let source = signature.sourcePort { bySource[source] = index }
        }
        let index = SignatureIndex.shared
        var packet = PacketRecord()
        var mismatches = 0
        for port in 0...65535 {
            packet.transport = .tcp
            packet.destinationPort = UInt16(port)
            packet.sourcePort = 40000
            if index.candidate(packet) != expected[.tcp]![UInt16(port)] { mismatches += 1 }
            packet.transport = .udp
            if index.candidate(packet) != expected[.udp]![UInt16(port)] ?? bySource[40000] { mismatches += 1 }
            packet.destinationPort = 9  // no UDP signature: the source port decides
            packet.sourcePort = UInt16(port)
            if index.candidate(packet) != bySource[UInt16(port)] { mismatches += 1 }
        }
        #expect(mismatches == 0)
        #expect(expected[.tcp]![445] != nil && expected[.udp]![1434] != nil && bySource[4000] != nil)
    }

    @Test func detectionEventCarriesTheVerdicts() {
        #expect(MemoryLayout<DetectionEvent>.stride < 64)
        var packet = PacketRecord()
        packet.ipVersion = 4
        packet.transport = .tcp
        packet.tcp.flags = TCPSummary.syn
        packet.destination = IPAddress(ipv4: 0xC612_0102)
        packet.destinationPort = 445
        packet.tcp.sequence = 0xC612_0102  // Mirai's habit
        let syn = DetectionEvent(packet, as: .probe)
        #expect(syn.port == 445 && syn.tcpFlags == TCPSummary.syn && syn.trafficClass == .probe)
        #expect(ScanningTool.fingerprint(packet) == .mirai)
        packet.tcp.flags = TCPSummary.ack  // not a SYN: no fingerprint counted
        #expect(DetectionEvent(packet, as: .probe) != syn)
        packet.tcp.flags = TCPSummary.syn
        #expect(DetectionEvent(packet, as: .backscatter) != syn)  // verdicts only for probes
        #expect(DetectionEvent(packet, as: .probe) == syn)

        var slammer = PacketRecord()
        slammer.ipVersion = 4
        slammer.transport = .udp
        slammer.destinationPort = 1434
        slammer.payloadLength = 376
        slammer.capturedPayloadLength = 376
        slammer.payloadPrefix = 0x0401_0101_0101_0101
        let worm = DetectionEvent(slammer, as: .probe)
        slammer.payloadPrefix = 0x0201_0101_0101_0101  // a browser ping to 1434
        #expect(DetectionEvent(slammer, as: .probe) != worm)
    }

    @Test func masscanFingerprintFormula() {
        var packet = PacketRecord()
        packet.ipVersion = 4
        packet.transport = .tcp
        packet.destination = IPAddress(ipv4: 0xC612_0102)
        packet.destinationPort = 80
        packet.tcp.sequence = 0xDEAD_BEEF
        packet.tcp.window = 1024
        packet.ipID = UInt32((0xC612_0102 ^ 80 ^ 0xDEAD_BEEF) & 0xFFFF)
        #expect(ScanningTool.fingerprint(packet) == .masscan)
        packet.ipID ^= 1
        #expect(ScanningTool.fingerprint(packet) == nil)
    }
}
