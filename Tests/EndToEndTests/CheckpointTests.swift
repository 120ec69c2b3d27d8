import Foundation
import Testing
import TestSupport

/// A live sensor killed with SIGKILL and restarted: the hour's counts come
/// back from the checkpoint, so only the packets after the last checkpoint
/// could be lost (none here: the test waits past a checkpoint before the kill).
@Suite("Checkpoints", .serialized)
struct CheckpointTests {
    @Test(.timeLimit(.minutes(1)))
    func killNineThenRestartKeepsTheHour() throws {
        guard geteuid() == 0 else { print("checkpoint test: skipped, live capture needs root"); return }
        let scratch = ScratchDirectory()
        let counts = scratch.file("counts"), state = scratch.file("state")
        let arguments = ["--no-interface-local", "--immediate", "--counts-dir", counts, "--state-dir", state,
                         "--checkpoint-seconds", "1", "--filter", LoopbackTraffic.filter(basePort: 47200)]

        let first = try LiveSensor(arguments)
        try #require(first.started, "no start line: \(first.errors.text)")
        for _ in 0..<5 { LoopbackTraffic.udpScan(host: 2, basePort: 47200) }  // 100 packets
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: state + "/open-hours.checkpoint") && Date() < deadline { usleep(100_000) }
        usleep(1_500_000)  // a checkpoint after the last packet
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        #expect((try? FileManager.default.contentsOfDirectory(atPath: counts))?.filter { $0.hasSuffix(".csv") }.isEmpty ?? true,
                "killed before any hour ended: no file yet")

        let second = try LiveSensor(arguments)
        try #require(second.started, "no start line: \(second.errors.text)")
        #expect(second.errors.text.contains("restored 1 open hour(s)"), "\(second.errors.text)")
        for _ in 0..<2 { LoopbackTraffic.udpScan(host: 3, basePort: 47200) }  // 40 packets
        usleep(500_000)
        _ = second.stop()

        // The hour may have turned during the test: add up every hour written.
        var packets = 0, gaps = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: counts) where name.hasSuffix(".json") {
            let sidecar = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: counts + "/" + name))) as? [String: Any]
            packets += sidecar?["packets"] as? Int ?? 0
            if sidecar?["gap"] as? Bool == true { gaps += 1 }
            #expect(sidecar?["complete"] as? Bool == false)
            #expect(sidecar?["kernel_drops"] is NSNumber && sidecar?["interface_drops"] is NSNumber, "live hours know their drops")
        }
        #expect(packets == 140, "an uninterrupted run counts 140")
        #expect(gaps >= 1, "the restored hour says it had a gap")
    }
}
