#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import TeitenCore

/// What the idle-time prefault thread does with a request: the memory is
/// committed without a byte of it changing, including bytes a table wrote
/// before. (When the thread gets to it depends on idle cores, which a test
/// run in parallel with others cannot promise: the work is tested here on
/// the test's own thread.)
@Suite("Idle-time prefault")
struct IdlePrefaultTests {
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = Int(text.split(separator: " ")[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    @Test func commitsWithoutChangingAByte() {
        let bytes = 16 << 20
        let memory = ZeroedMemory(bytes: bytes)
        defer { memory.release() }
        let words = memory.base.bindMemory(to: UInt64.self, capacity: bytes / 8)
        for index in stride(from: 0, to: bytes / 16, by: 509) { words[index] = UInt64(index) | 1 << 63 }  // the first half in use
        let before = Self.residentBytes()
        // Kernels before 5.14 lack MADV_POPULATE_WRITE: then nothing is committed ahead, and nothing may change.
        if IdlePrefault.commit(memory.base, bytes: bytes) {
            #expect(Self.residentBytes() - before >= bytes / 4, "the upper half was committed")
        }
        var changed = 0
        for index in 0..<(bytes / 8) {
            let expected: UInt64 = index < bytes / 16 && index % 509 == 0 ? UInt64(index) | 1 << 63 : 0
            if words[index] != expected { changed += 1 }
        }
        #expect(changed == 0)
    }
}
