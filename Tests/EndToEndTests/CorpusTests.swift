import Foundation
import PacketDecoding
import PcapCapture
import TeitenCore
import Testing
import TestSupport

/// Every public capture under ../shared/corpus (about 1,270 files, many
/// crafted to break decoders) goes through the same reader and pipeline as
/// `teiten run --read`, in a debug build where any unchecked read asserts.
@Suite("Corpus robustness")
struct CorpusTests {
    @Test(.timeLimit(.minutes(5)))
    func everyCorpusFileThroughThePipeline() throws {
        guard let corpus = corpusDirectory() else {
            if runningInCI { Issue.record("../shared/corpus is missing: CI must run with shared/ beside the project") }
            print("corpus: ../shared/corpus not found; skipped")
            return
        }
        var files = 0, opened = 0, damaged = 0, packets: UInt64 = 0, undecoded: UInt64 = 0, alerts = 0
        // Small tables: this is about surviving every input, and a pipeline per file.
        var configuration = SensorPipeline.Configuration()
        configuration.tunables.trackedKeys = 1024
        configuration.tunables.trackedSources = 1024
        for path in corpusCaptureFiles(corpus) {
            files += 1
            let source: any FrameSource
            if let mapped = MappedCaptureFile.open(path: path) {
                source = mapped
            } else if let handle = try? PcapHandle.open(file: path) {
                source = handle
            } else {
                continue  // not a capture libpcap can open: the CLI reports it (tested elsewhere)
            }
            opened += 1
            var pipeline = SensorPipeline(linkType: source.linkType, configuration: configuration)
            reading: while true {
                switch source.next() {
                case .frame(let frame): pipeline.process(frame: frame.bytes, time: frame.time, wireLength: frame.wireLength)
                case .none: continue
                case .end: break reading
                case .failed: damaged += 1; break reading
                }
            }
            pipeline.finish()
            alerts += pipeline.takeAlerts().count
            packets += pipeline.tally.frames
            undecoded += pipeline.tally.undecoded
            #expect(pipeline.tally.decoded + pipeline.tally.undecoded == pipeline.tally.frames)
        }
        print("corpus: \(files) files, \(opened) opened as captures, \(damaged) damaged part-way, "
            + "\(packets) packets read, \(packets - undecoded) decoded as IP, \(undecoded) counted as undecodable, \(alerts) alert lines")
        #expect(files > 1000)
        #expect(packets > 50_000)
    }

    /// The file-format torture tests through the binary: a clean exit
    /// (0, or 66 for files that are not captures), never a crash.
    @Test func damagedFilesThroughTheBinary() throws {
        guard let corpus = corpusDirectory() else { return }
        let names = ["libpcap-tests/pcap-invalid-version-1.pcap", "libpcap-tests/pcap-invalid-version-2.pcap",
                     "libpcap-tests/pcapng-invalid-vers-1.pcapng", "libpcap-tests/pcapng-invalid-vers-2.pcapng",
                     "libpcap-tests/shb-option-too-long.pcapng", "libpcap-tests/linktype-reserved-field-not-zero.pcap",
                     "wireshark-samples/BT_USB_LinCooked_Eth_80211_RT.pcapng", "tcpdump-tests/empty.pcap",
                     "zeek-traces/trunc/trunc-hdr.pcap", "tcpdump-tests/timestamp_invalid_nano.pcap"]
        var ran = 0
        for name in names {
            let path = corpus + "/" + name
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let result = try TeitenProcess.run(["run", "--read", path], timeout: 30)
            #expect(!result.crashed && (result.status == 0 || result.status == 66), "\(name): \(result.status) \(result.standardError)")
            #expect(result.standardError.contains(path))
            ran += 1
        }
        #expect(ran >= 5)
    }
}
