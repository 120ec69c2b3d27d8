public import PacketDecoding

/// Anything the capture loop can take frames from: a libpcap handle (live
/// interfaces, pcapng, filtered or unusual files) or a memory-mapped classic
/// pcap file. The loop is generic over it, so the call is direct, not dynamic.
public protocol FrameSource: AnyObject {
    /// The file path or interface name, for messages.
    var name: String { get }
    var linkType: LinkType { get }
    var isLive: Bool { get }
    /// Bytes of the file consumed so far (progress); nil when live.
    var fileOffset: Int64? { get }
    /// The next frame; its bytes are valid until the next call.
    func next() -> NextFrame
    /// Kernel and interface counters; nil for files.
    func statistics() -> CaptureStatistics?
}

extension PcapHandle: FrameSource {}
