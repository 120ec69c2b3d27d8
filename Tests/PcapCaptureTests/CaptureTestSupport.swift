import Foundation
import PacketDecoding
import PcapCapture
import TrafficSynthesis


/// A frame as read, copied out of the reader's buffer so it can be compared.
struct ReadFrame: Equatable {
    let bytes: [UInt8]
    let time: PacketTime
    let wireLength: UInt32
}

/// Everything a source gives until it ends, and how it ended.
struct ReadResult {
    var frames: [ReadFrame] = []
    var error: CaptureError?
}

func readAll(_ source: some FrameSource, limit: Int = 1_000_000) -> ReadResult {
    var result = ReadResult()
    while result.frames.count < limit {
        switch source.next() {
        case .frame(let frame):
            result.frames.append(ReadFrame(bytes: Array(frame.bytes), time: frame.time, wireLength: frame.wireLength))
        case .none: continue
        case .end: return result
        case .failed(let error): result.error = error; return result
        }
    }
    return result
}

/// Writes `sampleFrames(count:)` to `path`; returns what was written.
@discardableResult
func writeSampleCapture(_ path: String, count: Int, options: CaptureFileWriter.Options = CaptureFileWriter.Options()) throws
    -> [(frame: [UInt8], seconds: Int64, nanoseconds: Int64)] {
    let frames = sampleFrames(count: count)
    let writer = try CaptureFileWriter(path: path, options: options)
    for item in frames { try writer.append(frame: item.frame, seconds: item.seconds, nanoseconds: item.nanoseconds) }
    try writer.close()
    return frames
}

/// Frames of several link types, written with known timestamps.
func sampleFrames(count: Int) -> [(frame: [UInt8], seconds: Int64, nanoseconds: Int64)] {
    (0..<count).map { index in
        let packet = FrameBuilder.ipv4(source: 0xC633_6400 | UInt32(index & 0xff), destination: 0xC612_0000 | UInt32(index),
                                       transport: .tcp(.init(sourcePort: 40000, destinationPort: UInt16(1 + index % 1024))),
                                       identification: UInt16(index))
        return (FrameBuilder.ethernet(packet, etherType: 0x0800), 1_768_435_200 + Int64(index), Int64(index) * 1_001_001 % 1_000_000_000)
    }
}
