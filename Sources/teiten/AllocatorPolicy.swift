import CMalloc

/// How glibc's allocator should treat memory the sensor frees.
///
/// By default glibc returns freed memory to the kernel eagerly: blocks of
/// 128 KiB and more are mapped and unmapped one by one, and a heap whose top
/// has more than 128 KiB free is trimmed. The sensor frees and allocates the
/// same sizes again and again (the detection thread's batches of alert
/// lines, an hour's row arrays, the count files' text), so each round trip
/// made the kernel hand out fresh pages, and zeroing fresh pages was 12 % of
/// the detection thread's time on the benchmark (in a VM, a first touch is
/// dearer still). Keeping freed memory for reuse costs nothing the process
/// did not already hold at its peak; the big tables (`ZeroedMemory`) are
/// mapped directly and are not affected.
enum AllocatorPolicy {
    /// Blocks below this size come from the heap and are reused once freed.
    static let mapThreshold: Int32 = 32 << 20
    /// Free memory the heap keeps at its top before giving it back.
    static let trimThreshold: Int32 = 256 << 20

    static func keepFreedMemory() {
        _ = mallopt(M_MMAP_THRESHOLD, mapThreshold)
        _ = mallopt(M_TRIM_THRESHOLD, trimThreshold)
    }
}
