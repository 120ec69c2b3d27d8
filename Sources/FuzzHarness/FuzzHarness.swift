import PacketDecoding
import PcapCapture
import TeitenCore
import TeitenOutput
#if canImport(Glibc)
import Glibc
#endif

/// What the fuzzers do with one input, shared by the libFuzzer binaries in
/// Fuzz/ (built with -sanitize=fuzzer,address) and by the regression tests,
/// which replay every input a fuzzer ever broke the sensor with
/// (Tests/Fixtures/fuzz-regressions/).
public enum FuzzHarness {
    /// One frame: the first two bytes are the link type (DLT, big-endian),
    /// the rest the frame as captured. Decodes it; a decoded record must
    /// never claim more captured payload than the frame holds.
    public static func decodeFrame(_ input: UnsafeRawBufferPointer) {
        guard input.count >= 2 else { return }
        let linkType = LinkType(dlt: Int32(input[0]) << 8 | Int32(input[1]))
        // A copy of exactly the frame's length, so ASan sees any read past it.
        let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: input.count - 2, alignment: 1)
        defer { frame.deallocate() }
        frame.copyMemory(from: UnsafeRawBufferPointer(rebasing: input[2...]))
        var record = PacketRecord()
        let failure = FrameDecoder.decode(UnsafeRawBufferPointer(frame), linkType: linkType,
                                          time: PacketTime(nanoseconds: 1_768_435_200_000_000_000),
                                          wireLength: UInt32(frame.count), into: &record)
        if failure == nil {
            precondition(Int(record.capturedPayloadLength) <= frame.count, "captured payload longer than the frame")
        }
    }

    /// A whole capture file, as a hostile file (or a damaged disk) would hand
    /// it over: read by libpcap and, when it takes the file, by the
    /// memory-mapped reader, which must return the same records (a
    /// differential check); every frame goes through the full pipeline
    /// (decoder, classifier, hourly counts, every detector, the alert
    /// ledger) twice: frame by frame on one thread, and as `teiten run`
    /// reads files, through the look-ahead ring with the detection thread;
    /// the two must give the same alerts and hours (a second differential
    /// check). Then the alerts are encoded as JSON, the hours as CSV, and
    /// the open hours go through a checkpoint and back. Tables are small so
    /// that an input runs quickly; their code paths are those used at full size.
    public static func replayCaptureFile(path: String) {
        let mapped = MappedCaptureFile.open(path: path)
        guard let handle = try? PcapHandle.open(file: path) else {
            if let mapped { run(mapped, comparingWith: nil) }
            return
        }
        run(handle, comparingWith: mapped)
    }

    /// Writes `input` to `path` (the fuzzers keep one file in /dev/shm) and replays it.
    public static func replayCaptureBytes(_ input: UnsafeRawBufferPointer, scratchPath path: String) {
        let descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { fatalError("\(path): \(String(cString: strerror(errno)))") }
        var written = 0
        while written < input.count {
            let count = write(descriptor, input.baseAddress! + written, input.count - written)
            guard count > 0 else { fatalError("\(path): write failed") }
            written += count
        }
        close(descriptor)
        replayCaptureFile(path: path)
    }

    static var configuration: SensorPipeline.Configuration {
        var configuration = SensorPipeline.Configuration()
        configuration.tunables.trackedKeys = 256
        configuration.tunables.trackedSources = 256
        configuration.tunables.maximumEpisodes = 64
        configuration.tunables.alertsPerSecond = 50
        configuration.countHours = true
        configuration.hourPairLimit = 1 << 10
        configuration.localNetworks.append(AddressPrefix("192.168.0.0/16")!)
        configuration.darkNetworks.append(AddressPrefix("10.0.0.0/8")!)
        configuration.darkNetworks.append(AddressPrefix("2001:db8::/32")!)
        return configuration
    }

    private static func run<Source: FrameSource>(_ source: Source, comparingWith other: MappedCaptureFile?) {
        var pipeline = SensorPipeline(linkType: source.linkType, configuration: configuration)
        // The way `teiten run` reads files: the look-ahead ring and the
        // detection thread. It must find exactly what frame-by-frame finds.
        var threadedConfiguration = configuration
        threadedConfiguration.detectionThread = true
        var threaded = SensorPipeline(linkType: source.linkType, configuration: threadedConfiguration)
        if let other { precondition(other.linkType == source.linkType, "the readers disagree on the link type") }
        var frames = 0
        reading: while frames < 100_000 {
            switch source.next() {
            case .frame(let frame):
                if let other {
                    guard case .frame(let twin) = other.next() else {
                        preconditionFailure("frame \(frames): libpcap returned a record, the mapped reader none")
                    }
                    precondition(twin.time == frame.time && twin.wireLength == frame.wireLength
                                 && twin.bytes.elementsEqual(frame.bytes),
                                 "frame \(frames): the readers disagree: mapped \(twin.time.nanoseconds) ns, \(twin.bytes.count)/\(twin.wireLength) bytes; "
                                 + "libpcap \(frame.time.nanoseconds) ns, \(frame.bytes.count)/\(frame.wireLength) bytes")
                }
                pipeline.process(frame: frame.bytes, time: frame.time, wireLength: frame.wireLength)
                threaded.enqueue(frame: frame.bytes, time: frame.time, wireLength: frame.wireLength)
                frames += 1
            case .none: continue
            case .end, .failed: break reading
            }
        }
        let open = pipeline.openHours
        let restored = try? HourCheckpoint.decode(HourCheckpoint.encode(open))
        precondition(restored?.count == open.count, "a checkpoint did not read back")
        pipeline.finish()
        threaded.finish()
        let alerts = pipeline.takeAlerts(), hours = pipeline.takeFinishedHours()
        precondition(threaded.takeAlerts() == alerts, "the detection thread's alerts differ from inline detection's")
        let threadedHours = threaded.takeFinishedHours()
        precondition(threadedHours.map(\.rows) == hours.map(\.rows) && threadedHours.map(\.packets) == hours.map(\.packets)
                     && threadedHours.map(\.sources) == hours.map(\.sources), "the look-ahead ring's hours differ")
        for alert in alerts { _ = AlertJSON.line(alert, sensor: "fuzz") }
        for hour in hours { _ = CountFileFormat.csv(hour) }
    }
}
