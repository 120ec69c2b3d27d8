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
        let memory = ZeroedMemory(bytes: bytes, hugePages: false)
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

/// Which tables ask for transparent huge pages (`ZeroedMemory`): the
/// detectors' windows do, the hours' pair sets do not. Read back from the
/// mapping's `VmFlags` in /proc/self/smaps (`hg`: marked `MADV_HUGEPAGE`).
@Suite("Table pages")
struct TablePageTests {
    /// The VmFlags of the mapping holding `address`; nil if not found.
    static func flags(of address: UInt) -> [Substring]? {
        // Read line by line: Foundation reads a /proc file (size 0) only up to its first page.
        guard let file = fopen("/proc/self/smaps", "r") else { return nil }
        defer { fclose(file) }
        var inside = false
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            let line = String(cString: buffer)
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\n" })
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                let bounds = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
                inside = bounds.count == 2 && bounds[0] <= address && address < bounds[1]
            } else if inside, fields.first == "VmFlags:" {
                return Array(fields.dropFirst())
            }
        }
        return nil
    }

    @Test func detectorTablesAskForHugePagesPairSetsDoNot() throws {
        let window = ZeroedStorage<UInt64>(count: 1 << 19)  // 4 MiB, like a detector's table
        var pairs = PackedSet()
        var key: UInt64 = 0
        while pairs.capacity < 1 << 20 { key &+= 0x9E37_79B9_7F4A_7C15; pairs.insert(key) }  // 8 MiB
        let windowFlags = try #require(Self.flags(of: UInt(bitPattern: window.base)))
        let pairFlags = try #require(Self.flags(of: pairs.slotsAddress))
        #expect(windowFlags.contains("hg"))
        #expect(!pairFlags.contains("hg"))
    }
}
