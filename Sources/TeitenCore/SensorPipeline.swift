public import PacketDecoding

/// The ordered pipeline, one per capture thread. Every frame enters at
/// `process(frame:time:wireLength:)` and goes, in this order:
///
/// 1. `FrameDecoder` (module PacketDecoding): bytes → `PacketRecord`, or a
///    named `DecodeFailure`;
/// 2. `PacketClock`: packet time moves forward;
/// 3. `TrafficTally`: counts by link type, protocol and failure reason.
///
/// Later stages (classifier, country lookup, hourly counts, detectors) are
/// added here as concrete stored properties, called in order below: a
/// reader finds where a packet goes next by reading one function, and the
/// compiler sees concrete types (no existential or closure call per packet).
///
/// Not thread-safe by design: it is owned by the capture loop.
public struct SensorPipeline {
    public let linkType: LinkType
    public private(set) var clock = PacketClock()
    public private(set) var tally: TrafficTally

    /// Reused for every frame, so decoding never allocates.
    private var record = PacketRecord()

    public init(linkType: LinkType) {
        self.linkType = linkType
        tally = TrafficTally(linkType: linkType)
    }

    /// One captured frame. `frame` is valid only during this call.
    public mutating func process(frame: UnsafeRawBufferPointer, time: PacketTime, wireLength: UInt32) {
        tally.countFrame(capturedLength: frame.count, wireLength: wireLength)
        if let failure = FrameDecoder.decode(frame, linkType: linkType, time: time, wireLength: wireLength, into: &record) {
            tally.count(failure)
            return
        }
        clock.observe(record.time)
        tally.count(record)
    }

    /// Live capture: advances time while no packets arrive, from the wall
    /// clock, so that hours close and windows expire on a quiet link.
    public mutating func tick(wallTime: PacketTime) {
        clock.tick(wallTime: wallTime)
    }

    /// End of the run: flush every stage.
    public mutating func finish() {
        clock.finish()
    }
}
