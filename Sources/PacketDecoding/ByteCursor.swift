/// A read-only, non-owning view of one captured frame, in the spirit of
/// tcpdump's `GET_*` accessors: every read is checked against the captured
/// length, never against a length the packet claims for itself.
///
/// Protocol decoders follow one discipline: ask `has(_:at:)` for the span a
/// header needs (that answer depends on hostile input), then read fixed
/// offsets inside that span. Reads outside the captured bytes cannot happen
/// by construction; if a decoder ever forgets its `has` check, the read
/// returns 0 in release builds (a wrong field, never a crash: the sensor faces
/// hostile traffic and must not become a remote kill switch) and stops a
/// debug build, where the truncation tests and the fuzzer run, at the bug.
public struct ByteCursor {
    @usableFromInline let bytes: UnsafeRawBufferPointer

    @inlinable public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Captured bytes, the only bound any read trusts.
    @inlinable public var count: Int { bytes.count }

    /// True when `length` bytes starting at `offset` were captured. Safe for
    /// any `offset` and `length`, including negative and huge ones.
    @inlinable @inline(__always)
    public func has(_ length: Int, at offset: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= bytes.count &- length
    }

    @inlinable @inline(__always)
    public func u8(at offset: Int) -> UInt8 {
        guard has(1, at: offset) else { return outOfBounds() }
        return bytes.load(fromByteOffset: offset, as: UInt8.self)
    }

    /// Big-endian (network order) 16-bit read.
    @inlinable @inline(__always)
    public func u16(at offset: Int) -> UInt16 {
        guard has(2, at: offset) else { return outOfBounds() }
        return UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// Big-endian (network order) 32-bit read.
    @inlinable @inline(__always)
    public func u32(at offset: Int) -> UInt32 {
        guard has(4, at: offset) else { return outOfBounds() }
        return UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// Big-endian (network order) 64-bit read.
    @inlinable @inline(__always)
    public func u64(at offset: Int) -> UInt64 {
        guard has(8, at: offset) else { return outOfBounds() }
        return UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// Host-order 32-bit read, for the one header that is not in network
    /// order: BSD null/loopback's address family, written by the capturing host.
    @inlinable @inline(__always)
    public func u32LittleEndian(at offset: Int) -> UInt32 {
        guard has(4, at: offset) else { return outOfBounds() }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @usableFromInline
    func outOfBounds<T: FixedWidthInteger>() -> T {
        assertionFailure("decoder read past the captured bytes without a has(_:at:) check")
        return 0
    }
}

extension ByteCursor {
    /// The bytes from `offset` on, as a cursor whose offset 0 is `offset`:
    /// each protocol layer reads from its own start. Empty when `offset` is
    /// past the end.
    @inlinable @inline(__always)
    public func dropFirst(_ offset: Int) -> ByteCursor {
        guard offset > 0 else { return self }
        guard offset < bytes.count else { return ByteCursor(UnsafeRawBufferPointer(rebasing: bytes[bytes.count...])) }
        return ByteCursor(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
    }

    /// At most the first `length` bytes: a layer bounded by the length its
    /// header states (so link-layer padding is never read as payload).
    @inlinable @inline(__always)
    public func prefix(_ length: Int) -> ByteCursor {
        guard length >= 0 else { return ByteCursor(UnsafeRawBufferPointer(rebasing: bytes[0..<0])) }
        guard length < bytes.count else { return self }
        return ByteCursor(UnsafeRawBufferPointer(rebasing: bytes[0..<length]))
    }
}
