#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import TeitenCore

/// The idle-time prefault: memory asked for is committed without a byte
/// of it changing, including bytes a table wrote before.
@Suite("Idle-time prefault")
struct IdlePrefaultTests {
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = Int(text.split(separator: " ")[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    @Test func commitsWithoutChangingAByte() async throws {
        let bytes = 16 << 20
        let memory = ZeroedMemory(bytes: bytes)
        defer { memory.release() }
        let words = memory.base.bindMemory(to: UInt64.self, capacity: bytes / 8)
        for index in stride(from: 0, to: bytes / 16, by: 509) { words[index] = UInt64(index) | 1 << 63 }  // the first half in use
        let before = Self.residentBytes()
        IdlePrefault.shared.request(memory.base, bytes: bytes)
        // Committed once a core is idle: within seconds on a test machine.
        // (Kernels before 5.14 lack MADV_POPULATE_WRITE: nothing to wait for.)
        let supported = madvise(memory.base + bytes - 4096, 4096, 23) == 0
        var waited = 0
        while supported && Self.residentBytes() - before < bytes / 4 && waited < 100 {
            try await Task.sleep(nanoseconds: 50_000_000)
            waited += 1
        }
        if supported { #expect(Self.residentBytes() - before >= bytes / 4, "the upper half was committed") }
        var changed = 0
        for index in 0..<(bytes / 8) {
            let expected: UInt64 = index < bytes / 16 && index % 509 == 0 ? UInt64(index) | 1 << 63 : 0
            if words[index] != expected { changed += 1 }
        }
        #expect(changed == 0)
    }
}
