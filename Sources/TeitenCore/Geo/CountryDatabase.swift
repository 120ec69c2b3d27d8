#if canImport(Glibc)
internal import Glibc
#endif
internal import Dispatch
public import PacketDecoding
internal import CPrefetch

/// Source country by address range, from the IPFire Location data that
/// Debian's `tor-geoipdb` ships (`/usr/share/tor/geoip` with `start,end,CC`
/// lines of integers, `/usr/share/tor/geoip6` with `start,end,CC` lines of
/// IPv6 text; CC BY-SA 4.0), held in sorted arrays and binary-searched
/// (never a per-address dictionary; most IPv4 addresses are answered from a
/// /24 table built from the ranges, `IPv4BlockCountries`), and/or MaxMind DB files through
/// libmaxminddb (`MaxMindDatabase`). The format of each file is recognised
/// from its content. An address is answered by the range files first, then
/// by the MaxMind files in the order given. Unknown, private, reserved and
/// documentation space answers "ZZ".
public struct CountryDatabase: Sendable {
    public static let defaultIPv4Path = "/usr/share/tor/geoip"
    public static let defaultIPv6Path = "/usr/share/tor/geoip6"

    /// The default files that are installed here (none when tor-geoipdb is absent).
    public static var installedDefaultPaths: [String] {
        [defaultIPv4Path, defaultIPv6Path].filter { access($0, R_OK) == 0 }
    }

    /// For each IPv4 /16, the index of the last range starting at or
    /// before it: a lookup searches only the ranges within its /16.
    private var v4Index: [Int32] = []
    private var v4Starts: [UInt32] = []
    private var v4Ends: [UInt32] = []
    private var v4Codes: [UInt16] = []
    /// Each range's end (high 32 bits) and code (low 16), side by side, so
    /// that a lookup touches the starts it searches and one more line.
    private var v4EndsAndCodes: [UInt64] = []
    /// Every /24's country, or "search": most IPv4 lookups are one load.
    private var v4Blocks: IPv4BlockCountries?
    private var v6Starts: [IPAddress] = []
    private var v6Ends: [IPAddress] = []
    private var v6Codes: [UInt16] = []
    private var maxMind: [MaxMindDatabase] = []
    /// The files loaded, for sidecars and `teiten geo lookup`.
    public private(set) var sources: [String] = []

    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    public init() {}

    public var isEmpty: Bool { v4Starts.isEmpty && v6Starts.isEmpty && maxMind.isEmpty }
    /// Ranges held in range files (MaxMind files are not counted).
    public var rangeCount: Int { v4Starts.count + v6Starts.count }

    /// Whether lookups of this family can find anything (ranges of it, or a MaxMind file).
    public func covers(ipv6: Bool) -> Bool {
        if !maxMind.isEmpty { return true }
        return ipv6 ? !v6Starts.isEmpty : !v4Starts.isEmpty
    }

    /// Loads a tor-format file; IPv4 or IPv6 is recognised from the content.
    /// Parsed from bytes (no String per line): the two default files load
    /// in well under a second.
    public mutating func load(path: String) throws(LoadError) {
        try load(paths: [path])
    }

    /// Loads several files as `load(path:)` would one after another, but
    /// parses them at once, one thread each, and indexes once: the IPv4 and
    /// IPv6 files parse in the time of the slower, and a sensor starts
    /// sooner. If any file fails, none is loaded and the first failure in
    /// `paths` order is the error.
    ///
    /// The files are opened (their read buffers allocated), and the
    /// parsers' arrays reserved, on this thread: memory that the parsing
    /// threads allocated would stay in their own heaps once freed, resident
    /// for the whole run.
    public mutating func load(paths: [String]) throws(LoadError) {
        let contents = paths.map { path in Result { () throws(LoadError) in try Self.openFile(path) } }
        var parsed = contents.map { content -> Ranges in
            guard case .success(.text(let file)) = content else { return Ranges() }
            return Ranges(reservingFor: file)
        }
        var failures = [String?](repeating: nil, count: paths.count)
        parsed.withUnsafeMutableBufferPointer { parsedBuffer in
            failures.withUnsafeMutableBufferPointer { failureBuffer in
                // Each thread writes its own index only.
                nonisolated(unsafe) let parsed = parsedBuffer, failures = failureBuffer
                DispatchQueue.concurrentPerform(iterations: paths.count) { index in
                    guard case .success(.text(let file)) = contents[index] else { return }
                    failures[index] = Self.parse(file, into: &parsed[index])
                }
            }
        }
        for index in paths.indices {
            if case .failure(let error) = contents[index] { throw error }  // nothing loaded then
            if let failure = failures[index] { throw LoadError(description: failure) }
        }
        for (index, path) in paths.enumerated() {
            switch contents[index] {
            case .success(.maxMind(let database)): maxMind.append(database)
            default:
                var ranges = Ranges()
                swap(&ranges, &parsed[index])  // the only owner, so the arrays move
                Self.take(&ranges.v4Starts, into: &v4Starts); Self.take(&ranges.v4Ends, into: &v4Ends)
                Self.take(&ranges.v4Codes, into: &v4Codes)
                Self.take(&ranges.v6Starts, into: &v6Starts); Self.take(&ranges.v6Ends, into: &v6Ends)
                Self.take(&ranges.v6Codes, into: &v6Codes)
            }
            sources.append(path)
        }
        sortIfNeeded()
        buildIndex()
    }

    /// Appends `parsed` to `all`; moves it when `all` is empty (the usual
    /// case: one file per family), instead of copying megabytes into fresh
    /// memory at start-up.
    private static func take<Element>(_ parsed: inout [Element], into all: inout [Element]) {
        if all.isEmpty { swap(&all, &parsed) } else { all += parsed }
    }

    /// One file, opened: a MaxMind database, or a tor-format file.
    private enum FileContent {
        case maxMind(MaxMindDatabase)
        case text(GeoTextFile)
    }

    private static func openFile(_ path: String) throws(LoadError) -> FileContent {
        if MaxMindDatabase.recognises(path) { return .maxMind(try MaxMindDatabase(path: path)) }
        return .text(try GeoTextFile(path: path))
    }

    /// A tor-format file's ranges, in file order.
    private struct Ranges {
        var v4Starts: [UInt32] = [], v4Ends: [UInt32] = [], v4Codes: [UInt16] = []
        var v6Starts: [IPAddress] = [], v6Ends: [IPAddress] = [], v6Codes: [UInt16] = []

        init() {}

        /// Room for a range per line of `file`, in the family of its first
        /// range (the tor files hold one family each), as its first chunk
        /// foretells.
        init(reservingFor file: GeoTextFile) {
            let bytes = file.waiting
            let linesSeen = bytes.reduce(into: 1) { count, byte in if byte == 0x0A { count += 1 } }
            let lines = linesSeen * max(1, file.size) / max(1, bytes.count) + 64
            let firstRange = bytes.split(separator: 0x0A, maxSplits: 64).first { $0.first.map { $0 != UInt8(ascii: "#") } ?? false }
            if firstRange?.contains(UInt8(ascii: ":")) == true {
                v6Starts.reserveCapacity(lines); v6Ends.reserveCapacity(lines); v6Codes.reserveCapacity(lines)
            } else {
                v4Starts.reserveCapacity(lines); v4Ends.reserveCapacity(lines); v4Codes.reserveCapacity(lines)
            }
        }
    }

    /// Parses a tor-format file into `ranges`; the failure, or nil.
    private static func parse(_ file: GeoTextFile, into ranges: inout Ranges) -> String? {
        var loaded = 0, lineNumber = 0
        var failure: String?
        let readFailure = file.forEachLine { line in
            lineNumber += 1
            if line.isEmpty || line[0] == UInt8(ascii: "#") { return true }
            if let problem = addRange(line, to: &ranges) {
                failure = "\(file.path): line \(lineNumber): \(problem)"
                return false
            }
            loaded += 1
            return true
        }
        if let readFailure { return "\(file.path): \(readFailure)" }
        if failure == nil && loaded == 0 { failure = "\(file.path): no address ranges (not a tor geoip file?)" }
        return failure
    }

    private mutating func buildIndex() {
        v4Index = [Int32](repeating: -1, count: 65537)
        var range = -1
        for block in 0..<65536 {
            let start = UInt32(block) << 16
            while range + 1 < v4Starts.count && v4Starts[range + 1] <= start { range += 1 }
            v4Index[block] = Int32(range)
        }
        v4Index[65536] = Int32(v4Starts.count - 1)
        v4EndsAndCodes = zip(v4Ends, v4Codes).map { UInt64($0) << 32 | UInt64($1) }
        if v4Blocks?.rangeCount != v4Starts.count {
            v4Blocks = v4Starts.isEmpty ? nil
                : IPv4BlockCountries(starts: v4Starts, ends: v4Ends, codes: v4Codes, unknownCode: Self.unknown)
        }
    }

    /// Whether every IPv4 lookup is answered by the ranges alone, cheaply:
    /// no MaxMind file to ask after them, and the /24 table built.
    var answersIPv4Directly: Bool { v4Blocks != nil && maxMind.isEmpty }

    /// Look-ahead (SensorPipeline), first step: the lines where a search
    /// for `address` starts, for a source the country cache may not hold;
    /// with the /24 table, the line of its /16.
    @inline(__always)
    func prefetch(_ address: IPAddress) {
        guard address.isIPv4, !v4Index.isEmpty else { return }
        if let v4Blocks {
            v4Blocks.prefetchSixteen(address.ipv4)
            return
        }
        let first = Int(max(0, v4Index[Int(address.ipv4 >> 16)]))
        v4Starts.withUnsafeBufferPointer { teiten_prefetch($0.baseAddress! + first) }
        v4EndsAndCodes.withUnsafeBufferPointer { teiten_prefetch($0.baseAddress! + first) }
    }

    /// Look-ahead, later steps (what the step before asked for has
    /// arrived): with the /24 table, the line of the address's /24 (step
    /// 2), then of its block when ranges share the /24 (step 3).
    @inline(__always)
    func prefetch(_ address: IPAddress, step: Int) {
        guard address.isIPv4, let v4Blocks else { return }
        if step == 2 { v4Blocks.prefetchPage(address.ipv4) } else { v4Blocks.prefetchBlock(address.ipv4) }
    }

    /// One `start,end,CC` line; returns what is wrong with it, or nil.
    private static func addRange(_ line: UnsafeBufferPointer<UInt8>, to ranges: inout Ranges) -> String? {
        var line = line
        if line.last == 0x0D { line = UnsafeBufferPointer(rebasing: line.dropLast()) }  // CRLF files
        guard let firstComma = line.firstIndex(of: UInt8(ascii: ",")),
              let secondComma = line[(firstComma + 1)...].firstIndex(of: UInt8(ascii: ",")),
              line.count - secondComma - 1 == 2 else { return "expected start,end,CC" }
        let first = UnsafeBufferPointer(rebasing: line[..<firstComma])
        let second = UnsafeBufferPointer(rebasing: line[(firstComma + 1)..<secondComma])
        let code = Self.pack(line[secondComma + 1], line[secondComma + 2])
        if let start = Self.decimal(first), let end = Self.decimal(second) {
            guard start <= end else { return "range start after its end" }
            ranges.v4Starts.append(start); ranges.v4Ends.append(end); ranges.v4Codes.append(code)
        } else if let start = IPAddress.parse(first), let end = IPAddress.parse(second) {
            guard !(end < start) else { return "range start after its end" }
            ranges.v6Starts.append(start); ranges.v6Ends.append(end); ranges.v6Codes.append(code)
        } else {
            return "not an IPv4 or IPv6 range"
        }
        return nil
    }

    private static func decimal(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32? {
        guard !bytes.isEmpty, bytes.count <= 10 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
        }
        return value <= UInt64(UInt32.max) ? UInt32(value) : nil
    }

    /// The country of `address`, "ZZ" when no range holds it.
    public func country(of address: IPAddress) -> String {
        Self.unpack(code(of: address))
    }

    /// The country as two packed ASCII letters ("ZZ" = 0x5A5A when unknown).
    @inline(__always)
    public func code(of address: IPAddress) -> UInt16 {
        let answer = rangeCode(of: address)
        guard answer == Self.unknown, !maxMind.isEmpty else { return answer }
        for database in maxMind {
            let code = database.code(of: address)
            if code != Self.unknown { return code }
        }
        return Self.unknown
    }

    @inline(__always)
    private func rangeCode(of address: IPAddress) -> UInt16 {
        if address.isIPv4 {
            guard !v4Starts.isEmpty else { return Self.unknown }
            let value = address.ipv4
            if let code = v4Blocks?.code(of: value) { return code }
            let block = Int(value >> 16)
            // The answer is the last range starting at or before `value`: at
            // or after this /16's first candidate, before the next /16's.
            var low = max(0, Int(v4Index[block])), high = Int(v4Index[block + 1]) + 1
            while low < high {
                let mid = (low + high) / 2
                if v4Starts[mid] <= value { low = mid + 1 } else { high = mid }
            }
            let index = low - 1
            guard index >= 0, v4Starts[index] <= value else { return Self.unknown }
            let endAndCode = v4EndsAndCodes[index]
            return value <= UInt32(truncatingIfNeeded: endAndCode >> 32) ? UInt16(truncatingIfNeeded: endAndCode) : Self.unknown
        }
        guard let index = Self.lastIndex(in: v6Starts, notAbove: address), !(v6Ends[index] < address) else { return Self.unknown }
        return v6Codes[index]
    }

    /// "ZZ" packed, as a literal: a constant computed by a call is a lazy
    /// global, and reading one costs a `swift_once` call per packet.
    public static let unknown: UInt16 = 0x5A5A

    private static func lastIndex<T: Comparable>(in starts: [T], notAbove value: T) -> Int? {
        var low = 0, high = starts.count
        while low < high {
            let mid = (low + high) / 2
            if starts[mid] <= value { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? nil : low - 1
    }

    private mutating func sortIfNeeded() {
        if !zip(v4Starts, v4Starts.dropFirst()).allSatisfy({ $0 <= $1 }) {
            let order = v4Starts.indices.sorted { v4Starts[$0] < v4Starts[$1] }
            v4Starts = order.map { v4Starts[$0] }; v4Ends = order.map { v4Ends[$0] }; v4Codes = order.map { v4Codes[$0] }
        }
        if !zip(v6Starts, v6Starts.dropFirst()).allSatisfy({ !($1 < $0) }) {
            let order = v6Starts.indices.sorted { v6Starts[$0] < v6Starts[$1] }
            v6Starts = order.map { v6Starts[$0] }; v6Ends = order.map { v6Ends[$0] }; v6Codes = order.map { v6Codes[$0] }
        }
    }

    /// Two letters, upper-cased; anything else (the tor files mark unknown
    /// ranges "??") is the contract's "ZZ".
    static func pack(_ first: UInt8, _ second: UInt8) -> UInt16 {
        func upper(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte
            case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - 32
            default: nil
            }
        }
        guard let a = upper(first), let b = upper(second) else { return UInt16(UInt8(ascii: "Z")) << 8 | UInt16(UInt8(ascii: "Z")) }
        return UInt16(a) << 8 | UInt16(b)
    }

    public static func unpack(_ code: UInt16) -> String {
        String(decoding: [UInt8(code >> 8), UInt8(code & 0xFF)], as: UTF8.self)
    }
}
