public import PacketDecoding

/// Packet time, as the pipeline sees it: the latest packet time observed
/// (never moving backwards, since captures reorder packets slightly), moved
/// on by wall-clock ticks on a quiet live link, and the span of the run.
public struct PacketClock: Sendable {
    /// The pipeline's "now": the largest packet time seen, or the wall time
    /// of the last tick if that is later.
    public private(set) var now: PacketTime = .zero
    /// The largest packet time seen (ticks excluded).
    public private(set) var latestPacket: PacketTime = PacketTime(nanoseconds: .min)
    public private(set) var firstPacket: PacketTime?
    public private(set) var lastPacket: PacketTime?
    /// Packets stamped earlier than a packet that came before them. (Ticks
    /// do not count: the kernel stamps packets before it hands them over, so
    /// a packet may well be older than the last tick.)
    public private(set) var outOfOrderPackets: UInt64 = 0
    public private(set) var finished = false

    public init() {}

    @inline(__always)
    public mutating func observe(_ time: PacketTime) {
        if firstPacket == nil { firstPacket = time }
        lastPacket = time
        if time < latestPacket {
            outOfOrderPackets &+= 1
            return
        }
        latestPacket = time
        if time > now { now = time }
    }

    /// Wall-clock advance on a quiet live link. Only moves forward.
    public mutating func tick(wallTime: PacketTime) {
        if wallTime > now { now = wallTime }
    }

    public mutating func finish() { finished = true }
}
