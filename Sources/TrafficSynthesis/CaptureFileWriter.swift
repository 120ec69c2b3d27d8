#if canImport(Glibc)
import Glibc
#endif

/// The capture-file formats the synthesiser writes.
public enum CaptureFileFormat: String, Sendable, CaseIterable {
    /// Classic libpcap format (https://www.tcpdump.org/manpages/pcap-savefile.5.html).
    case pcap
    /// pcapng: one section, one interface, enhanced packet blocks (RFC draft-ietf-opsawg-pcapng).
    case pcapng
}

/// Writes a capture file record by record, buffered. Classic pcap in either
/// byte order with micro- or nanosecond timestamps, or pcapng; the variants
/// exist so tests can prove the reader handles every one.
public final class CaptureFileWriter {
    public struct Options: Sendable {
        public var format: CaptureFileFormat = .pcap
        /// DLT/LINKTYPE value of every frame (1: Ethernet).
        public var linkType: UInt32 = 1
        public var snapshotLength: UInt32 = 65535
        /// Classic pcap: nanosecond magic (a1b23c4d) instead of microsecond.
        public var nanosecondTimestamps = false
        /// Classic pcap: write headers big-endian, as a SPARC or PowerPC host would.
        public var bigEndian = false
        public init() {}
    }

    public enum WriteError: Error, CustomStringConvertible {
        case cannotCreate(path: String, reason: String)
        case writeFailed(path: String, reason: String)
        public var description: String {
            switch self {
            case .cannotCreate(let path, let reason): "\(path): cannot create: \(reason)"
            case .writeFailed(let path, let reason): "\(path): write failed: \(reason)"
            }
        }
    }

    private let path: String
    private let options: Options
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    private static let flushThreshold = 1 << 20

    public init(path: String, options: Options = Options()) throws {
        self.path = path
        self.options = options
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw WriteError.cannotCreate(path: path, reason: String(cString: strerror(errno))) }
        buffer.reserveCapacity(Self.flushThreshold + 65536)
        writeFileHeader()
    }

    deinit { if descriptor >= 0 { Glibc.close(descriptor) } }

    /// Appends one frame. `wireLength` defaults to the frame's length; frames
    /// longer than the snapshot length are cut to it, as a capture would.
    public func append(frame: [UInt8], seconds: Int64, nanoseconds: Int64, wireLength: Int? = nil) throws {
        let captured = min(frame.count, Int(options.snapshotLength))
        let original = UInt32(clamping: wireLength ?? frame.count)
        switch options.format {
        case .pcap:
            let fraction = options.nanosecondTimestamps ? nanoseconds : nanoseconds / 1000
            put32(UInt32(truncatingIfNeeded: seconds))
            put32(UInt32(truncatingIfNeeded: fraction))
            put32(UInt32(captured))
            put32(original)
            buffer.append(contentsOf: frame[0..<captured])
        case .pcapng:
            // Enhanced packet block; timestamps in nanoseconds (if_tsresol 9 in the IDB).
            let padded = (captured + 3) & ~3
            let total = UInt32(32 + padded)
            let stamp = UInt64(truncatingIfNeeded: seconds) &* 1_000_000_000 &+ UInt64(truncatingIfNeeded: nanoseconds)
            put32(0x0000_0006); put32(total); put32(0)
            put32(UInt32(truncatingIfNeeded: stamp >> 32)); put32(UInt32(truncatingIfNeeded: stamp))
            put32(UInt32(captured)); put32(original)
            buffer.append(contentsOf: frame[0..<captured])
            buffer.append(contentsOf: [UInt8](repeating: 0, count: padded - captured))
            put32(total)
        }
        if buffer.count >= Self.flushThreshold { try flush() }
    }

    /// Writes what is buffered. Called by `close()`; call it before reading
    /// the file while the writer lives.
    public func flush() throws {
        var written = 0
        while written < buffer.count {
            let n = buffer.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw WriteError.writeFailed(path: path, reason: String(cString: strerror(errno)))
            }
            written += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered and closes the file (a reader of a FIFO sees its end).
    public func close() throws {
        try flush()
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    private func writeFileHeader() {
        switch options.format {
        case .pcap:
            put32(options.nanosecondTimestamps ? 0xA1B2_3C4D : 0xA1B2_C3D4)
            put16(2); put16(4)         // version 2.4
            put32(0); put32(0)         // thiszone, sigfigs
            put32(options.snapshotLength)
            put32(options.linkType)
        case .pcapng:
            // Section header block: byte-order magic, version 1.0, unknown section length.
            put32(0x0A0D_0D0A); put32(28); put32(0x1A2B_3C4D)
            put16(1); put16(0)
            put32(0xFFFF_FFFF); put32(0xFFFF_FFFF)
            put32(28)
            // Interface description block with if_tsresol = 9 (nanoseconds).
            put32(0x0000_0001); put32(32)
            put16(UInt16(truncatingIfNeeded: options.linkType)); put16(0)
            put32(options.snapshotLength)
            put16(9); put16(1); buffer.append(contentsOf: [9, 0, 0, 0])  // if_tsresol, padded
            put16(0); put16(0)                                          // opt_endofopt
            put32(32)
        }
    }

    private func put16(_ value: UInt16) {
        let v = (options.bigEndian && options.format == .pcap) ? value.bigEndian : value.littleEndian
        withUnsafeBytes(of: v) { buffer.append(contentsOf: $0) }
    }

    private func put32(_ value: UInt32) {
        let v = (options.bigEndian && options.format == .pcap) ? value.bigEndian : value.littleEndian
        withUnsafeBytes(of: v) { buffer.append(contentsOf: $0) }
    }
}
