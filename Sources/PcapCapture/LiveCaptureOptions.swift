/// How a live capture is configured before `pcap_activate`. The defaults
/// suit a darknet sensor: whole headers plus the start of every payload,
/// a ring large enough for bursts, batches handed over rather than each packet.
public struct LiveCaptureOptions: Sendable, Equatable {
    /// Bytes kept per packet. 512 holds every header the decoder reads and
    /// the payload prefix signatures need; raise it to keep more payload.
    public var snapshotLength: Int32 = 512
    /// Receive frames not addressed to the interface (span ports, taps).
    public var promiscuous = true
    /// Hand over each packet at once instead of in batches: lower latency,
    /// lower throughput. Off by default.
    public var immediateMode = false
    /// Kernel ring buffer in bytes. 1 MiB drops at ~200 k packets/s on the
    /// machines measured; 32 MiB did not.
    public var bufferSize: Int32 = 32 << 20
    /// How long libpcap may hold a partly filled batch, in milliseconds.
    public var timeoutMilliseconds: Int32 = 100

    public init() {}
}
