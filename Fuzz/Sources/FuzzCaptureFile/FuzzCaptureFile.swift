import FuzzHarness
import Glibc

/// libFuzzer's entry: one capture file through both readers and the pipeline.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCaptureFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzHarness.replayCaptureBytes(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size), scratchPath: scratchPath)
    return 0
}

/// Both readers open paths, so each input is written to this file first:
/// in memory (/dev/shm) where there is one, removed when the fuzzer exits.
private let scratchPath: String = {
    let directory = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp")
    let path = "\(directory)/teiten-fuzz-\(getpid()).pcap"
    atexit { unlink(scratchPath) }
    return path
}()
