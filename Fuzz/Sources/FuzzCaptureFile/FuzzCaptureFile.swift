import FuzzHarness
import Glibc

/// libFuzzer's entry: one capture file through both readers and the pipeline.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCaptureFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzHarness.replayCaptureBytes(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size), scratchPath: scratchPath)
    return 0
}

/// Both readers open paths, so each input is written to this file first (in memory).
private let scratchPath = "/dev/shm/teiten-fuzz-\(getpid()).pcap"
