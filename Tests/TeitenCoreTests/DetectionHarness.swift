import PacketDecoding
import TeitenCore
import TrafficSynthesis

/// Feeds frames built by the test into a pipeline, as a capture would, and
/// collects every alert line.
struct DetectionHarness {
    var pipeline: SensorPipeline
    var alerts: [Alert] = []
    /// Packet time of the next frame, in nanoseconds; tests move it on.
    var now: Int64 = 1_768_435_200 * 1_000_000_000  // 2026-01-15T00:00:00Z

    init(configure: (inout SensorPipeline.Configuration) -> Void = { _ in }) {
        var configuration = SensorPipeline.Configuration()
        configuration.tunables.trackedKeys = 4096
        configuration.tunables.trackedSources = 4096
        configure(&configuration)
        pipeline = SensorPipeline(linkType: .ethernet, configuration: configuration)
    }

    mutating func send(_ packet: [UInt8], after seconds: Double = 0.01) {
        now += Int64(seconds * 1e9)
        let frame = FrameBuilder.ethernet(packet, etherType: FrameBuilder.etherType(of: packet))
        frame.withUnsafeBytes {
            pipeline.process(frame: $0, time: PacketTime(nanoseconds: now), wireLength: UInt32(frame.count))
        }
        alerts += pipeline.takeAlerts()
    }

    /// Ends the run: every open episode ends.
    mutating func finish() -> [Alert] {
        pipeline.finish()
        alerts += pipeline.takeAlerts()
        return alerts
    }

    func starts(_ kind: Alert.Kind? = nil) -> [Alert] {
        alerts.filter { $0.phase == .start && (kind == nil || $0.kind == kind) }
    }
}

enum Probe {
    static func address(_ text: String) -> UInt32 { IPAddress(text)!.ipv4 }

    static func syn(_ source: String, _ destination: String, port: UInt16, window: UInt16 = 29200,
                    identification: UInt16 = 4242, sequence: UInt32 = 0x1234_5678, options: [UInt8] = FrameBuilder.TCPOptions.linux(timestamp: 9)) -> [UInt8] {
        FrameBuilder.ipv4(source: address(source), destination: address(destination),
                          transport: .tcp(.init(sourcePort: 41000, destinationPort: port, sequence: sequence, flags: 0x02,
                                                window: window, options: options)),
                          ttl: 50, identification: identification)
    }

    static func synAck(_ source: String, _ destination: String, sourcePort: UInt16 = 80) -> [UInt8] {
        FrameBuilder.ipv4(source: address(source), destination: address(destination),
                          transport: .tcp(.init(sourcePort: sourcePort, destinationPort: 50000, sequence: 1, acknowledgment: 2, flags: 0x12)))
    }

    static func udp(_ source: String, _ destination: String, port: UInt16, sourcePort: UInt16 = 5000, payload: [UInt8] = [1, 2, 3]) -> [UInt8] {
        FrameBuilder.ipv4(source: address(source), destination: address(destination),
                          transport: .udp(sourcePort: sourcePort, destinationPort: port, payload: payload))
    }

    static func echo(_ source: String, _ destination: String, data: [UInt8] = [UInt8](repeating: 0x61, count: 32)) -> [UInt8] {
        FrameBuilder.ipv4(source: address(source), destination: address(destination),
                          transport: .icmp(type: 8, code: 0, body: [0, 1, 0, 1] + data))
    }

    /// The n-th address of 198.18.0.0/16 (dark, in these tests).
    static func dark(_ n: Int) -> String { "198.18.\(n / 256 % 256).\(n % 256)" }
}
