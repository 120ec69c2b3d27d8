public import PacketDecoding

/// Packet time, as the pipeline sees it: the latest packet time observed
/// (never moving backwards, since captures reorder packets slightly), and the
/// span of the run.
public struct PacketClock: Sendable {
    /// The pipeline's "now": the largest packet time seen, or the wall time
    /// of the last tick if that is later.
    public private(set) var now: PacketTime = .zero
    public private(set) var firstPacket: PacketTime?
    public private(set) var lastPacket: PacketTime?
    /// Packets whose time was earlier than `now` when they arrived.
    public private(set) var outOfOrderPackets: UInt64 = 0
    public private(set) var finished = false

    public init() {}

    @inline(__always)
    public mutating func observe(_ time: PacketTime) {
        if firstPacket == nil { firstPacket = time }
        lastPacket = time
        if time < now {
            outOfOrderPackets &+= 1
        } else {
            now = time
        }
    }

    /// Wall-clock advance on a quiet live link. Only moves forward.
    public mutating func tick(wallTime: PacketTime) {
        if wallTime > now { now = wallTime }
    }

    public mutating func finish() { finished = true }
}
