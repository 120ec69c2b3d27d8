import PacketDecoding
import Testing
import TeitenCore
import TrafficSynthesis

/// The bounds that keep the sensor alive under floods: alert lines per
/// second, concurrent episodes, and fixed-size tables whose evictions are
/// counted (docs/threat-model.md).
@Suite("Flood bounds")
struct FloodBoundsTests {
    /// 40 scanners crossing the vertical threshold within one second of
    /// packet time, with a cap of 10 new-episode lines a second: 10 start
    /// lines, the rest counted as suppressed; every written episode ends.
    @Test func alertLinesArePerSecondCapped() {
        var harness = DetectionHarness { $0.tunables.alertsPerSecond = 10 }
        for port in 0..<15 {
            for scanner in 0..<40 {
                harness.send(Probe.syn("192.0.2.\(scanner + 1)", "198.18.0.1", port: UInt16(1000 + port)), after: 0.0001)
            }
        }
        let alerts = harness.finish()
        let starts = alerts.filter { $0.phase == .start }
        #expect(starts.count == 10, "\(starts.count)")
        #expect(harness.pipeline.detection.ledger.linesSuppressed == 30)
        let ends = alerts.filter { $0.phase == .end }
        #expect(Set(ends.map(\.episodeID)) == Set(starts.map(\.episodeID)), "every written episode ends")
    }

    /// Past `maximumEpisodes` concurrent episodes, new ones are refused and counted.
    @Test func episodesAreCapped() {
        var harness = DetectionHarness {
            $0.tunables.maximumEpisodes = 16
            $0.tunables.alertsPerSecond = 1_000_000
        }
        for port in 0..<15 {
            for scanner in 0..<50 {
                harness.send(Probe.syn("192.0.2.\(scanner + 1)", "198.18.0.1", port: UInt16(1000 + port)), after: 0.0001)
            }
        }
        _ = harness.finish()
        let ledger = harness.pipeline.detection.ledger
        #expect(ledger.episodesOpened == 16)
        #expect(ledger.episodesRefused == 34)
    }

    /// A spoofed flood far larger than the tables: the work per packet and
    /// the tables stay fixed, the stalest keys are evicted and counted, and
    /// the flood itself is still one episode.
    @Test func tablesEvictAndCountUnderASpoofedFlood() {
        var harness = DetectionHarness {
            $0.tunables.trackedKeys = 1024
            $0.tunables.trackedSources = 1024
        }
        for index in 0..<50_000 {
            let source = "10.\(index >> 16 & 255).\(index >> 8 & 255).\(index & 255)"
            harness.send(Probe.syn(source, "198.18.0.7", port: 80), after: 0.0001)
        }
        let alerts = harness.finish()
        #expect(harness.pipeline.detection.evictions > 40_000, "\(harness.pipeline.detection.evictions)")
        #expect(alerts.filter { $0.kind == .flood && $0.phase == .start }.count == 1)
        #expect(alerts.count < 10, "no alert storm: \(alerts.count)")
    }
}
