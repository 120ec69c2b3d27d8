internal import CPcap
#if canImport(Glibc)
internal import Glibc
#endif
public import PacketDecoding

/// The one owner of a libpcap handle (`pcap_t`), closed in `deinit`.
///
/// Not thread-safe: one thread reads frames. `@unchecked Sendable` only so
/// that another thread (the signal watcher) may call `breakLoop()`, which
/// libpcap documents as safe from any thread; nothing else may be called
/// from elsewhere.
public final class PcapHandle: @unchecked Sendable {
    private let handle: OpaquePointer
    /// The capture file path or interface name, for messages.
    public let name: String
    public let isLive: Bool

    private init(handle: OpaquePointer, name: String, isLive: Bool) {
        self.handle = handle
        self.name = name
        self.isLive = isLive
    }

    /// The link type as libpcap's DLT value (meaningful once activated).
    public var dataLinkType: Int32 { pcap_datalink(handle) }

    deinit { pcap_close(handle) }

    public var linkType: LinkType { LinkType(dlt: dataLinkType) }

    /// For `StopSignal` only, which must reach libpcap without touching a
    /// Swift reference inside a signal handler.
    var rawHandle: OpaquePointer { handle }

    // MARK: Opening

    /// Opens a classic pcap (either byte order, micro- or nanosecond) or pcapng
    /// file. Timestamps are always delivered in nanoseconds.
    public static func open(file path: String) throws(CaptureError) -> PcapHandle {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let handle = pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errorBuffer) else {
            throw CaptureError(.cannotOpen, "\(path): \(Self.describeOpenFailure(path: path, libpcap: Self.text(errorBuffer)))")
        }
        return PcapHandle(handle: handle, name: path, isLive: false)
    }

    /// Opens a live capture on `interface`: create, configure, activate. Every
    /// step is checked; a refused setting names itself and libpcap's reason.
    /// The handle is non-blocking: `next()` returns `.none` when nothing is
    /// ready, and `waitForFrames(timeoutMilliseconds:)` sleeps until there is.
    public static func open(interface: String, options: LiveCaptureOptions) throws(CaptureError) -> PcapHandle {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let raw = pcap_create(interface, &errorBuffer) else {
            throw CaptureError(.cannotOpen, "interface \(interface): \(Self.text(errorBuffer))")
        }
        // Owned from here on: any error below closes it in deinit.
        let capture = PcapHandle(handle: raw, name: interface, isLive: true)
        try capture.check(pcap_set_snaplen(raw, options.snapshotLength), "snapshot length \(options.snapshotLength)")
        try capture.check(pcap_set_promisc(raw, options.promiscuous ? 1 : 0), "promiscuous mode")
        try capture.check(pcap_set_immediate_mode(raw, options.immediateMode ? 1 : 0), "immediate mode")
        try capture.check(pcap_set_buffer_size(raw, options.bufferSize), "buffer size \(options.bufferSize)")
        try capture.check(pcap_set_timeout(raw, options.timeoutMilliseconds), "timeout \(options.timeoutMilliseconds) ms")
        if pcap_set_tstamp_precision(raw, Int32(PCAP_TSTAMP_PRECISION_NANO)) != 0 {
            // Not every interface offers nanoseconds; microseconds are then
            // scaled on the way out (see `next()`), so nothing is lost.
            capture.microsecondTimestamps = true
        }

        let status = pcap_activate(raw)
        if status < 0 {
            let kind: CaptureError.Kind = (status == PCAP_ERROR_PERM_DENIED) ? .permissionDenied : .cannotOpen
            let detail = (status == PCAP_ERROR || status == PCAP_ERROR_PERM_DENIED || status == PCAP_ERROR_NO_SUCH_DEVICE)
                ? String(cString: pcap_geterr(raw)) : ""
            let reason = String(cString: pcap_statustostr(status))
            throw CaptureError(kind, "interface \(interface): \(reason)\(detail.isEmpty ? "" : ": \(detail)")")
        }
        if status > 0 {
            // A warning (e.g. promiscuous mode not supported): the capture works.
            capture.activationWarning = "interface \(interface): \(String(cString: pcap_statustostr(status))): \(String(cString: pcap_geterr(raw)))"
        }
        guard pcap_setnonblock(raw, 1, &errorBuffer) == 0 else {
            throw CaptureError(.configuration, "interface \(interface): cannot make the capture non-blocking: \(Self.text(errorBuffer))")
        }
        return capture
    }

    /// Set when `pcap_activate` succeeded with a warning.
    public private(set) var activationWarning: String?
    private var microsecondTimestamps = false

    private func check(_ status: Int32, _ setting: String) throws(CaptureError) {
        guard status != 0 else { return }
        let reason = status == PCAP_ERROR_ACTIVATED ? "set after activation" : String(cString: pcap_statustostr(status))
        throw CaptureError(.configuration, "interface \(name): cannot set \(setting): \(reason)")
    }

    /// libpcap's messages for a file it cannot open are terse; say which of
    /// the usual causes it is.
    private static func describeOpenFailure(path: String, libpcap: String) -> String {
        var status = stat()
        if stat(path, &status) != 0 {
            return String(cString: strerror(errno))
        }
        if (status.st_mode & S_IFMT) == S_IFDIR { return "is a directory, not a capture file" }
        if status.st_size == 0 { return "empty file, not a capture file" }
        if access(path, R_OK) != 0 { return String(cString: strerror(errno)) }
        return libpcap
    }

    // MARK: Filtering

    /// Compiles and installs a BPF filter (tcpdump syntax). A compile error
    /// carries libpcap's text, which points at the offending word.
    public func apply(filter expression: String) throws(CaptureError) {
        var program = bpf_program()
        guard pcap_compile(handle, &program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            throw CaptureError(.filter, "filter \"\(expression)\": \(String(cString: pcap_geterr(handle)))")
        }
        defer { pcap_freecode(&program) }
        guard pcap_setfilter(handle, &program) == 0 else {
            throw CaptureError(.filter, "filter \"\(expression)\" on \(name): \(String(cString: pcap_geterr(handle)))")
        }
    }

    /// Compiles a filter without a capture (for Ethernet framing), to check
    /// a configuration before anything is opened: libpcap's error text, or nil.
    public static func filterProblem(_ expression: String, snapshotLength: Int32) -> String? {
        guard let dead = pcap_open_dead(DLT_EN10MB, snapshotLength) else { return "libpcap could not make a test handle" }
        defer { pcap_close(dead) }
        var program = bpf_program()
        guard pcap_compile(dead, &program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            return "filter \"\(expression)\": \(String(cString: pcap_geterr(dead)))"
        }
        pcap_freecode(&program)
        return nil
    }

    // MARK: Reading

    /// The next frame. The frame's bytes are valid until the next call.
    @inline(__always)
    public func next() -> NextFrame {
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        switch pcap_next_ex(handle, &header, &data) {
        case 1:
            guard let header, let data else { return .none }
            let h = header.pointee
            let fraction = microsecondTimestamps ? Int64(h.ts.tv_usec) &* 1000 : Int64(h.ts.tv_usec)
            return .frame(CapturedFrame(
                bytes: UnsafeRawBufferPointer(start: data, count: Int(h.caplen)),
                time: PacketTime(seconds: Int64(h.ts.tv_sec), nanoseconds: fraction),
                wireLength: h.len))
        case 0:
            return .none
        case PCAP_ERROR_BREAK:
            return .end
        default:
            return .failed(CaptureError(.read, "\(name): \(String(cString: pcap_geterr(handle)))"))
        }
    }

    /// After `breakLoop()`: libpcap answers "break" once, then reads again.
    /// The capture loop uses this to count what the ring already holds.
    public func nextAfterBreak() -> NextFrame {
        let first = next()
        if case .end = first { return next() }
        return first
    }

    /// Live capture: sleeps until frames are ready, `wakeDescriptor` becomes
    /// readable (a stop request), or the timeout passes. Returns early on a
    /// signal. Without a selectable descriptor it simply sleeps the timeout.
    public func waitForFrames(timeoutMilliseconds: Int32, wakeDescriptor: Int32) {
        let selectable = pcap_get_selectable_fd(handle)
        var descriptors = [
            pollfd(fd: selectable, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        if selectable < 0 { descriptors[0].fd = -1 }  // poll ignores negative descriptors
        _ = poll(&descriptors, 2, timeoutMilliseconds)
    }

    /// Makes a pending or later `next()` return `.end`. Safe from another
    /// thread; this is the one method that is.
    public func breakLoop() { pcap_breakloop(handle) }

    /// Kernel and interface counters; nil for capture files.
    public func statistics() -> CaptureStatistics? {
        guard isLive else { return nil }
        var stats = pcap_stat()
        guard pcap_stats(handle, &stats) == 0 else { return nil }
        return CaptureStatistics(received: UInt64(stats.ps_recv),
                                 droppedByKernel: UInt64(stats.ps_drop),
                                 droppedByInterface: UInt64(stats.ps_ifdrop))
    }

    /// Bytes of the capture file read so far, for progress; nil when live.
    public var fileOffset: Int64? {
        guard !isLive, let file = pcap_file(handle) else { return nil }
        let offset = ftello(file)
        return offset >= 0 ? Int64(offset) : nil
    }

    /// The snapshot length the capture records with.
    public var snapshotLength: Int32 { pcap_snapshot(handle) }

    /// The NUL-terminated text libpcap left in an error buffer.
    private static func text(_ buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// libpcap's version string, for `--version` and sidecars.
    public static var libraryVersion: String { String(cString: pcap_lib_version()) }
}
