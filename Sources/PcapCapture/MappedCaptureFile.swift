#if canImport(Glibc)
internal import Glibc
#endif
public import PacketDecoding

/// A classic pcap file read straight from a read-only memory mapping: no
/// `fread`, no copy; each frame's bytes point into the mapping. It is the
/// fast path for replaying large files (libpcap's buffered reads are most of
/// a bare read loop's time), and exists only for that.
///
/// It accepts only the plain case and leaves everything else to libpcap, so
/// behaviour never differs: `open` returns nil for pcapng, versions other
/// than 2.4, link types with FCS bits or with fields libpcap rewrites, and
/// non-regular files; callers then use `PcapHandle`. Record handling copies
/// libpcap 1.10's sf-pcap.c: the snapshot length falls back to 262144 when
/// the header's is 0 or larger; a record longer than that is an error; a
/// record longer than the snapshot is cut to it; a file ending inside a
/// record is damage, reported after every complete record was returned.
/// Tests compare it with libpcap, record by record, on the whole corpus.
public final class MappedCaptureFile: FrameSource {
    public let name: String
    public let linkType: LinkType
    public var isLive: Bool { false }

    private let base: UnsafeRawPointer
    private let size: Int
    private var offset = 24
    private let swapped: Bool
    private let nanosecond: Bool
    private let snapshot: Int
    private var failed = false
    /// Pages before this offset have been given back (see `releaseConsumedPages`).
    private var releasedUpTo = 0
    /// Read pages are released in steps of this many bytes, so the resident
    /// size stays near this figure whatever the file's size.
    static let releaseStep = 16 << 20

    /// libpcap's MAXIMUM_SNAPLEN: the largest record it accepts for the link
    /// types this reader takes.
    static let maximumSnapshot = 262_144

    /// Link types whose frames libpcap hands over unchanged (the ones the
    /// decoder knows). Others, e.g. Linux USB, have header fields libpcap
    /// byte-swaps, so they go through libpcap.
    private static let unchangedLinkTypes: Set<UInt32> = [0, 1, 9, 12, 14, 101, 108, 113, 228, 229, 276]

    /// Maps `path` if it is a plain classic pcap file; nil means "use libpcap".
    public static func open(path: String) -> MappedCaptureFile? {
        // Look before opening: opening a FIFO would block, and would consume
        // the writer's first bytes before libpcap gets to read them.
        var before = stat()
        guard stat(path, &before) == 0, (before.st_mode & S_IFMT) == S_IFREG else { return nil }
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, status.st_size >= 24 else { return nil }
        let size = Int(status.st_size)
        guard let mapping = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), mapping != MAP_FAILED else { return nil }
        let base = UnsafeRawPointer(mapping)
        let file = MappedCaptureFile(path: path, base: base, size: size)
        if file == nil { munmap(mapping, size) } else { _ = madvise(mapping, size, MADV_SEQUENTIAL) }
        return file
    }

    private init?(path: String, base: UnsafeRawPointer, size: Int) {
        let swapped: Bool
        switch base.loadUnaligned(as: UInt32.self) {
        case 0xA1B2_C3D4: swapped = false; nanosecond = false
        case 0xD4C3_B2A1: swapped = true; nanosecond = false
        case 0xA1B2_3C4D: swapped = false; nanosecond = true
        case 0x4D3C_B2A1: swapped = true; nanosecond = true
        default: return nil  // pcapng or not a capture: libpcap decides and explains
        }
        self.swapped = swapped
        func field32(_ at: Int) -> UInt32 {
            let raw = base.loadUnaligned(fromByteOffset: at, as: UInt32.self)
            return swapped ? raw.byteSwapped : raw
        }
        func field16(_ at: Int) -> UInt16 {
            let raw = base.loadUnaligned(fromByteOffset: at, as: UInt16.self)
            return swapped ? raw.byteSwapped : raw
        }
        guard field16(4) == 2, field16(6) == 4 else { return nil }
        let rawLinkType = field32(20)
        guard Self.unchangedLinkTypes.contains(rawLinkType) else { return nil }
        let declaredSnapshot = Int(field32(16))
        self.snapshot = (declaredSnapshot == 0 || declaredSnapshot > Self.maximumSnapshot) ? Self.maximumSnapshot : declaredSnapshot
        self.name = path
        self.base = base
        self.size = size
        self.linkType = LinkType(dlt: Int32(rawLinkType))
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }

    public var fileOffset: Int64? { Int64(offset) }

    public func statistics() -> CaptureStatistics? { nil }

    @inline(__always)
    public func next() -> NextFrame {
        if failed { return .end }
        let remaining = size - offset
        if remaining == 0 { return .end }
        guard remaining >= 16 else {
            return fail("truncated dump file; tried to read 16 header bytes, only got \(remaining)")
        }
        var seconds = base.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        var fraction = base.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
        var captured = base.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
        var wire = base.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)
        if swapped {
            seconds = seconds.byteSwapped; fraction = fraction.byteSwapped
            captured = captured.byteSwapped; wire = wire.byteSwapped
        }
        let capturedLength = Int(captured)
        guard capturedLength <= Self.maximumSnapshot else {
            return fail("invalid packet capture length \(captured), bigger than maximum of \(Self.maximumSnapshot)")
        }
        guard remaining - 16 >= capturedLength else {
            return fail("truncated dump file; tried to read \(captured) captured bytes, only got \(remaining - 16)")
        }
        let frame = UnsafeRawBufferPointer(start: base + offset + 16, count: min(capturedLength, snapshot))
        // The previous frame's bytes are dead from here on: release pages behind them.
        if offset - releasedUpTo >= Self.releaseStep { releaseConsumedPages() }
        offset += 16 + capturedLength
        // As libpcap reads them: a file in the host's byte order has signed
        // 32-bit time fields (pcap_sf_pkthdr's bpf_int32); a byte-swapped
        // file's go through SWAPLONG, which yields unsigned values. So a
        // hostile 0xF0000000 is -268,435,456 in one and 4,026,531,840 in the
        // other (found by the fuzzer's differential check against libpcap).
        let wholeSeconds = swapped ? Int64(seconds) : Int64(Int32(bitPattern: seconds))
        let subsecond = swapped ? Int64(fraction) : Int64(Int32(bitPattern: fraction))
        return .frame(CapturedFrame(
            bytes: frame,
            time: PacketTime(seconds: wholeSeconds, nanoseconds: nanosecond ? subsecond : subsecond &* 1000),
            wireLength: wire))
    }

    /// Drops the mapping's pages before the current record from this
    /// process (they stay in the page cache), so replaying a 10 GB file does
    /// not show a 10 GB resident size.
    private func releaseConsumedPages() {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let end = offset / page * page
        guard end > releasedUpTo else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + releasedUpTo), end - releasedUpTo, MADV_DONTNEED)
        releasedUpTo = end
    }

    private func fail(_ reason: String) -> NextFrame {
        failed = true
        return .failed(CaptureError(.read, "\(name): \(reason)"))
    }
}
