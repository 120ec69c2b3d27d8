public import PacketDecoding

/// One frame as libpcap hands it over. `bytes` points into libpcap's buffer
/// and is valid only until the next call on the same handle: decode it, never
/// keep it.
public struct CapturedFrame {
    public let bytes: UnsafeRawBufferPointer
    public let time: PacketTime
    /// Length on the wire; `bytes.count` is the captured length (never more
    /// than the snapshot length).
    public let wireLength: UInt32
}

/// What asking a handle for its next frame can give.
public enum NextFrame {
    case frame(CapturedFrame)
    /// Live capture only: no packet within the timeout (or none ready on a
    /// non-blocking handle). Time to tick clocks and look for a stop.
    case none
    /// End of the capture file, or `breakLoop()` was called.
    case end
    /// Reading failed; the message is libpcap's. For a file, everything
    /// before the damage has been returned.
    case failed(CaptureError)
}
