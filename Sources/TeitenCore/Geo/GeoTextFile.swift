#if canImport(Glibc)
internal import Glibc
#endif

/// A tor-format country file, read a chunk at a time through one buffer
/// and handed out line by line (`CountryDatabase` parses the lines).
///
/// Read whole, the two default files took 25 MB of fresh memory at every
/// start, zeroed and then copied into, before the first packet: in a VM a
/// fresh MiB costs about 2.6 ms, and start-up is time a replay waits. A
/// chunk of `chunkBytes` is reused to the end instead. The buffer is
/// allocated, and the first chunk read, on the thread that opens the file;
/// the rest is read by the parsing thread.
final class GeoTextFile: @unchecked Sendable {  // one thread at a time: the opener, then the parser
    static let chunkBytes = 1 << 20
    static let notText = "neither a tor geoip text file nor a MaxMind database"

    let path: String
    /// Bytes in the file when it was opened (read to its end all the same).
    let size: Int
    private let descriptor: Int32
    private let buffer: UnsafeMutableRawBufferPointer
    /// The bytes of `buffer` read and not yet handed out: `start..<end`.
    private var start = 0
    private var end = 0
    private var atEnd = false

    /// Opens `path` and reads its first chunk.
    init(path: String) throws(CountryDatabase.LoadError) {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CountryDatabase.LoadError(description: "\(path): \(String(cString: strerror(errno)))") }
        var status = stat()
        size = fstat(descriptor, &status) == 0 ? Int(status.st_size) : 0
        buffer = .allocate(byteCount: Self.chunkBytes, alignment: 64)
        // (Thrown once every property is set, the object is released, and
        // its deinit closes the file and frees the buffer.)
        if let problem = fill() { throw CountryDatabase.LoadError(description: "\(path): \(problem)") }
    }

    deinit {
        close(descriptor)
        buffer.deallocate()
    }

    /// The bytes read so far and not handed out (the first chunk, before parsing).
    var waiting: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: buffer.baseAddress!.assumingMemoryBound(to: UInt8.self) + start, count: end - start)
    }

    /// Calls `body` with each line (without its `\n`), in order, until it
    /// returns false or the file ends; what went wrong reading, or nil.
    /// A line is valid only during its call.
    func forEachLine(_ body: (UnsafeBufferPointer<UInt8>) -> Bool) -> String? {
        let bytes = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var skippingLongComment = false
        while true {
            var lineStart = start
            var index = start
            while index < end {
                if bytes[index] == 0x0A {
                    if skippingLongComment {
                        skippingLongComment = false
                    } else if !body(UnsafeBufferPointer(start: bytes + lineStart, count: index - lineStart)) {
                        return nil
                    }
                    lineStart = index + 1
                }
                index += 1
            }
            start = lineStart
            if atEnd {
                if start < end && !skippingLongComment { _ = body(UnsafeBufferPointer(start: bytes + start, count: end - start)) }
                start = end
                return nil
            }
            if start == 0 && end == buffer.count {
                // A line longer than the buffer: a comment is skipped to its
                // end; anything else cannot be a range.
                guard bytes[0] == UInt8(ascii: "#") || skippingLongComment else {
                    return "a line longer than \(Self.chunkBytes) bytes"
                }
                skippingLongComment = true
                start = end
            }
            if let problem = fill() { return problem }
        }
    }

    /// Moves the unread bytes to the front and reads more after them.
    private func fill() -> String? {
        let base = buffer.baseAddress!
        if start > 0 {
            if end > start { base.copyMemory(from: UnsafeRawPointer(base + start), byteCount: end - start) }
            end -= start
            start = 0
        }
        let first = end
        while end < buffer.count {
            let count = read(descriptor, base + end, buffer.count - end)
            if count < 0 {
                if errno == EINTR { continue }
                return String(cString: strerror(errno))
            }
            if count == 0 { atEnd = true; break }
            end += count
        }
        let fresh = UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self) + first, count: end - first)
        if fresh.contains(0) || (bytesRead == 0 && fresh.first == UInt8(ascii: "<")) { return Self.notText }
        bytesRead += fresh.count
        return nil
    }

    /// Bytes read from the file so far.
    private var bytesRead = 0
}
