/// libpcap's counters for a live capture (`pcap_stats`). Capture files have none.
///
/// On the loopback interface each packet passes twice and libpcap drops the
/// outgoing copy, so `received` counts double there.
public struct CaptureStatistics: Sendable, Equatable {
    /// Packets the kernel handed to the capture (after the BPF filter).
    public var received: UInt64
    /// Packets dropped because the ring buffer was full.
    public var droppedByKernel: UInt64
    /// Packets dropped by the interface or its driver, where the platform knows.
    public var droppedByInterface: UInt64

    public init(received: UInt64, droppedByKernel: UInt64, droppedByInterface: UInt64) {
        self.received = received
        self.droppedByKernel = droppedByKernel
        self.droppedByInterface = droppedByInterface
    }
}
