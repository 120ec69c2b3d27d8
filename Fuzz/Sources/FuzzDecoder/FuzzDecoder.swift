import FuzzHarness

/// libFuzzer's entry: one frame (2-byte DLT + bytes) into the decoder.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzHarness.decodeFrame(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}
