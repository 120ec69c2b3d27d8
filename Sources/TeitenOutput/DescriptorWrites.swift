#if canImport(Glibc)
internal import Glibc
#endif

/// `write(2)` until every byte is written, retried on `EINTR` (a partial
/// write is normal on a signal or a full pipe): the one loop the writers
/// share (`AlertStreamWriter`, `OverlappedWrites`).
enum DescriptorWrites {
    /// Writes `bytes` to `descriptor`; how many reached it, and what went
    /// wrong (nil when all did).
    static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> (written: Int, failure: String?) {
        var offset = 0
        while offset < bytes.count {
            let n = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return (offset, String(cString: strerror(errno)))
            }
            offset += n
        }
        return (offset, nil)
    }
}
