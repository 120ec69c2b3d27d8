import Foundation
import PacketDecoding
import PcapCapture
import TestSupport
import Testing

/// The mapped reader must give exactly what libpcap gives. Proven on every
/// classic pcap file of the public corpus: same frames, same bytes, same
/// timestamps and lengths, and damage at the same record.
@Suite("Mapped reader equals libpcap on the corpus")
struct CorpusReaderTests {
    @Test func identicalRecords() throws {
        guard let corpus = corpusDirectory() else {
            if runningInCI { Issue.record("../shared/corpus is missing in CI") }
            print("corpus: ../shared/corpus not found; skipped")
            return
        }
        var compared = 0, frames = 0, fallbacks = 0
        for path in corpusCaptureFiles(corpus) {
            guard let mapped = MappedCaptureFile.open(path: path) else { fallbacks += 1; continue }
            guard let libpcap = try? PcapHandle.open(file: path) else {
                Issue.record("\(path): mapped reader opened a file libpcap refuses")
                continue
            }
            #expect(mapped.linkType == libpcap.linkType, "\(path)")
            let viaMapping = readAll(mapped)
            let viaLibpcap = readAll(libpcap)
            #expect(viaMapping.frames.count == viaLibpcap.frames.count, "\(path)")
            if let index = zip(viaMapping.frames, viaLibpcap.frames).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                Issue.record("\(path): frame \(index) differs")
            }
            #expect((viaMapping.error == nil) == (viaLibpcap.error == nil), "\(path): \(String(describing: viaMapping.error)) vs \(String(describing: viaLibpcap.error))")
            compared += 1
            frames += viaLibpcap.frames.count
        }
        print("corpus: mapped reader matched libpcap on \(compared) files, \(frames) frames; \(fallbacks) files left to libpcap")
        #expect(compared > 500)
    }
}
