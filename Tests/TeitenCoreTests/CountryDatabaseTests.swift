import Foundation
import PacketDecoding
import TeitenCore
import Testing
import TestSupport
import TrafficSynthesis

@Suite("Country database")
struct CountryDatabaseTests {
    static func load(_ text: String) throws -> CountryDatabase {
        let scratch = ScratchDirectory()
        let path = scratch.file("geoip")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        var database = CountryDatabase()
        try database.load(path: path)
        return database
    }

    @Test func ipv4RangeEdgesAndGaps() throws {
        // 1.0.0.0–1.0.0.255 AU, 1.0.1.0–1.0.3.255 CN, gap, 2.0.0.0–2.255.255.255 FR (out of order on purpose)
        let database = try Self.load("# comment\n33554432,50331647,FR\n16777216,16777471,AU\n16777472,16778239,cn\n")
        let cases: [(String, String)] = [
            ("1.0.0.0", "AU"), ("1.0.0.255", "AU"), ("1.0.1.0", "CN"), ("1.0.3.255", "CN"), ("1.0.4.0", "ZZ"),
            ("0.255.255.255", "ZZ"), ("2.0.0.0", "FR"), ("2.255.255.255", "FR"), ("3.0.0.0", "ZZ"),
            ("255.255.255.255", "ZZ"), ("0.0.0.0", "ZZ"), ("10.0.0.1", "ZZ"),
        ]
        for (address, country) in cases { #expect(database.country(of: IPAddress(address)!) == country, "\(address)") }
    }

    @Test func ipv6Ranges() throws {
        let database = try Self.load("2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n2a00::,2a00:ff:ffff:ffff:ffff:ffff:ffff:ffff,DE\n")
        #expect(database.country(of: IPAddress("2001:200::")!) == "JP")
        #expect(database.country(of: IPAddress("2001:200:ffff:ffff:ffff:ffff:ffff:ffff")!) == "JP")
        #expect(database.country(of: IPAddress("2001:201::")!) == "ZZ")
        #expect(database.country(of: IPAddress("2a00:12::1")!) == "DE")
        #expect(database.country(of: IPAddress("2001:db8::1")!) == "ZZ", "documentation space")
        #expect(database.country(of: IPAddress("1.2.3.4")!) == "ZZ", "no IPv4 ranges loaded")
    }

    @Test func theRealDatabaseWhenInstalled() throws {
        guard FileManager.default.fileExists(atPath: CountryDatabase.defaultIPv4Path) else { return }
        var database = CountryDatabase()
        try database.load(path: CountryDatabase.defaultIPv4Path)
        #expect(database.rangeCount > 100_000)
        #expect(database.country(of: IPAddress("192.168.1.1")!) == "ZZ")
        #expect(database.country(of: IPAddress("198.18.0.1")!) == "ZZ")
        #expect(database.country(of: IPAddress("8.8.8.8")!).count == 2)
        #expect(try Self.load("1,2,??\n").country(of: IPAddress(ipv4: 1)) == "ZZ", "tor's unknown marker is ZZ")

        // Against a plain binary search over the file's ranges, written here
        // independently: 200,000 addresses, half uniform, half near range edges.
        var ranges: [(start: UInt32, end: UInt32, country: String)] = []
        for line in try String(contentsOfFile: CountryDatabase.defaultIPv4Path, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: ",")
            guard fields.count == 3, let start = UInt32(fields[0]), let end = UInt32(fields[1]) else { continue }
            ranges.append((start, end, fields[2] == "??" ? "ZZ" : fields[2].uppercased()))
        }
        ranges.sort { $0.start < $1.start }
        func expected(_ value: UInt32) -> String {
            var low = 0, high = ranges.count
            while low < high { let mid = (low + high) / 2; if ranges[mid].start <= value { low = mid + 1 } else { high = mid } }
            return low > 0 && ranges[low - 1].end >= value ? ranges[low - 1].country : "ZZ"
        }
        var random = SystemRandomNumberGenerator()
        for step in 0..<200_000 {
            let value: UInt32 = step % 2 == 0 ? random.next() : {
                let range = ranges[Int.random(in: 0..<ranges.count, using: &random)]
                return [range.start, range.end, range.start &- 1, range.end &+ 1][step / 2 % 4]
            }()
            let address = IPAddress(ipv4: value)
            #expect(database.country(of: address) == expected(value), "\(address)")
        }
    }

    /// A range covering a whole /16 and running into the next, where another
    /// range starts: the /16 index must not let the first range shadow the second.
    @Test func rangeAcrossA16AndItsNeighbour() throws {
        // 5.0.0.0–5.1.0.255 SE, 5.1.1.0–5.1.1.255 DE
        let database = try Self.load("83886080,83951871,SE\n83951872,83952127,DE\n")
        let cases: [(String, String)] = [
            ("5.0.0.0", "SE"), ("5.0.200.1", "SE"), ("5.0.255.255", "SE"), ("5.1.0.5", "SE"), ("5.1.0.255", "SE"),
            ("5.1.1.0", "DE"), ("5.1.1.255", "DE"), ("5.1.2.0", "ZZ"), ("4.255.255.255", "ZZ"), ("5.2.0.0", "ZZ"),
        ]
        for (address, country) in cases { #expect(database.country(of: IPAddress(address)!) == country, "\(address)") }
    }

    @Test(arguments: [
        ("1,2,AU\nnonsense\n", "line 2"),
        ("1,2,AUS\n", "line 1"),
        ("5,2,AU\n", "start after its end"),
        ("", "no address ranges"),
        ("# only a comment\n", "no address ranges"),
        ("1,2,AU\n::1,zz::,JP\n", "line 2"),
    ])
    func corruptDatabases(text: String, reason: String) {
        do {
            _ = try Self.load(text)
            Issue.record("loaded: \(text)")
        } catch {
            let message = String(describing: error)
            #expect(message.contains(reason), "\(message)")
            #expect(!message.contains("\n"))
        }
    }

    /// A file read a megabyte at a time: lines across chunk edges, CRLF
    /// lines, a comment longer than a chunk and no newline at the end load
    /// as if read whole; a range line longer than a chunk is refused.
    @Test func fileBiggerThanAChunk() throws {
        let countries = ["AU", "CN", "FR", "JP", "DE", "BR", "US", "SE"]
        var text = "# \(String(repeating: "x", count: 100))\n"
        for index in 0..<200_000 {  // about 5 MB
            let start = UInt32(index) * 4096 + 16_777_216
            text += "\(start),\(start + 4095),\(countries[index % countries.count])\(index % 7 == 0 ? "\r" : "")\n"
            if index == 100_000 { text += "#" + String(repeating: "c", count: 1_500_000) + "\n" }
        }
        text.removeLast()  // no newline after the last range
        let database = try Self.load(text)
        #expect(database.rangeCount == 200_000)
        for index in [0, 1, 42_001, 99_999, 100_000, 100_001, 150_000, 199_999] {
            let address = UInt32(index) * 4096 + 16_777_216 + 2048
            let name = "\(address >> 24).\(address >> 16 & 255).\(address >> 8 & 255).\(address & 255)"
            #expect(database.country(of: IPAddress(name)!) == countries[index % countries.count], "range \(index)")
        }
        #expect(throws: CountryDatabase.LoadError.self) {
            try Self.load("1,2,AU\n" + String(repeating: "1", count: 1_100_000) + ",2,AU\n")
        }
    }

    @Test func binaryFileIsRefused() throws {
        let scratch = ScratchDirectory()
        let path = scratch.file("x.mmdb")
        try Data([0xAB, 0xCD, 0x00, 0x01, 0x02]).write(to: URL(fileURLWithPath: path))
        var database = CountryDatabase()
        #expect(throws: CountryDatabase.LoadError.self) { try database.load(path: path) }
        #expect(throws: CountryDatabase.LoadError.self) { try database.load(path: scratch.file("missing")) }
    }
}

@Suite("MaxMind country database")
struct MaxMindDatabaseTests {
    /// Builds the test .mmdb with Tests/Fixtures/make_test_mmdb.py; nil (with
    /// a printed reason) where Python's mmdb-writer is missing outside CI.
    static func makeDatabase(in scratch: ScratchDirectory) throws -> String? {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/make_test_mmdb.py").path
        let path = scratch.file("test.mmdb")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, path]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            if runningInCI { Issue.record("could not write the test .mmdb (is mmdb-writer installed? make test-deps)") }
            print("MaxMind tests: skipped, python3 with mmdb-writer is not available")
            return nil
        }
        return path
    }

    @Test func lookupsThroughLibmaxminddb() throws {
        let scratch = ScratchDirectory()
        guard let path = try Self.makeDatabase(in: scratch) else { return }
        var database = CountryDatabase()
        try database.load(path: path)
        #expect(database.sources == [path])
        let cases: [(String, String)] = [
            ("192.0.2.0", "JP"), ("192.0.2.255", "JP"), ("192.0.3.0", "ZZ"),
            ("198.51.100.127", "FR"), ("198.51.100.128", "ZZ"),
            ("203.0.113.9", "BR"),  // only a registered country
            ("2001:db8:1::1", "DE"), ("2001:db8:2::1", "ZZ"), ("10.0.0.1", "ZZ"),
        ]
        for (address, country) in cases { #expect(database.country(of: IPAddress(address)!) == country, "\(address)") }
    }

    /// Range files answer first; MaxMind fills what they leave unknown.
    @Test func bothFormatsTogether() throws {
        let scratch = ScratchDirectory()
        guard let mmdb = try Self.makeDatabase(in: scratch) else { return }
        let ranges = scratch.file("geoip")
        try "3221225984,3221226239,AU\n".write(toFile: ranges, atomically: true, encoding: .utf8)  // 192.0.2.0/24
        var database = CountryDatabase()
        try database.load(path: ranges)
        try database.load(path: mmdb)
        #expect(database.country(of: IPAddress("192.0.2.1")!) == "AU")
        #expect(database.country(of: IPAddress("198.51.100.1")!) == "FR")
    }

    @Test func corruptMaxMindFile() throws {
        let scratch = ScratchDirectory()
        guard let mmdb = try Self.makeDatabase(in: scratch) else { return }
        var bytes = try Data(contentsOf: URL(fileURLWithPath: mmdb))
        for index in 0..<min(256, bytes.count / 2) { bytes[index] = 0xFF }  // the search tree, metadata intact
        let broken = scratch.file("broken.mmdb")
        try bytes.write(to: URL(fileURLWithPath: broken))
        var database = CountryDatabase()
        do {
            try database.load(path: broken)
            // libmaxminddb may accept a damaged tree; lookups must still not crash.
            _ = database.country(of: IPAddress("192.0.2.1")!)
        } catch {
            #expect(String(describing: error).contains(broken))
        }
        let truncated = scratch.file("truncated.mmdb")
        try bytes.prefix(40).write(to: URL(fileURLWithPath: truncated))
        #expect(throws: CountryDatabase.LoadError.self) { try database.load(path: truncated) }
    }
}

/// The /24 table (`IPv4BlockCountries`) shortcuts the binary search and must
/// answer exactly as the search does: ranges sharing a /24, a range inside
/// a /24, overlapping and duplicate ranges (the search answers from the
/// last range starting at or before an address), and more countries than
/// the table numbers. (The real database is checked against an independent
/// search in `CountryDatabaseTests.theRealDatabaseWhenInstalled`.)
@Suite("Country /24 table")
struct IPv4BlockCountriesTests {
    @Test func answersAsTheSearchDoes() throws {
        func value(_ text: String) -> UInt32 { IPAddress(text)!.ipv4 }
        var lines = [
            "\(value("1.2.3.0")),\(value("1.2.3.99")),XA", "\(value("1.2.3.100")),\(value("1.2.3.255")),XB",  // one /24, two ranges
            "\(value("2.0.0.0")),\(value("2.0.1.127")),SE",  // a whole /24 and half of the next
            "\(value("2.5.5.10")),\(value("2.5.5.20")),NO",  // inside one /24
            "\(value("3.0.0.0")),\(value("3.0.3.255")),DK", "\(value("3.0.1.0")),\(value("3.0.1.255")),FI",  // overlapping
            "\(value("4.0.0.0")),\(value("4.0.0.255")),IS", "\(value("4.0.0.0")),\(value("4.0.1.255")),EE",  // same start
            "\(value("5.0.0.0")),\(value("5.0.0.255")),??",
        ]
        var codes: [String] = []  // 300 more countries, one /24 each: past the table's 254 numbers
        for first in UInt8(ascii: "A")...UInt8(ascii: "Z") {
            for second in UInt8(ascii: "A")...UInt8(ascii: "Z") where codes.count < 300 {
                codes.append(String(decoding: [first, second], as: UTF8.self))
            }
        }
        for (index, code) in codes.enumerated() {
            let start = value("10.0.0.0") + UInt32(index) << 8
            lines.append("\(start),\(start + 255),\(code)")
        }
        let database = try CountryDatabaseTests.load(lines.joined(separator: "\n") + "\n")
        let cases: [(String, String)] = [
            ("1.2.3.0", "XA"), ("1.2.3.99", "XA"), ("1.2.3.100", "XB"), ("1.2.3.255", "XB"), ("1.2.2.255", "ZZ"), ("1.2.4.0", "ZZ"),
            ("2.0.0.0", "SE"), ("2.0.0.200", "SE"), ("2.0.1.127", "SE"), ("2.0.1.128", "ZZ"), ("2.0.2.0", "ZZ"),
            ("2.5.5.9", "ZZ"), ("2.5.5.10", "NO"), ("2.5.5.20", "NO"), ("2.5.5.21", "ZZ"),
            ("3.0.0.5", "DK"), ("3.0.1.5", "FI"), ("3.0.2.5", "ZZ"), ("3.0.3.255", "ZZ"),  // what the search answers
            ("4.0.0.5", "EE"), ("4.0.1.5", "EE"), ("5.0.0.1", "ZZ"),
            ("10.0.0.1", codes[0]), ("10.0.253.7", codes[253]), ("10.0.254.7", codes[254]), ("10.1.43.255", codes[299]),
        ]
        for (address, country) in cases { #expect(database.country(of: IPAddress(address)!) == country, "\(address)") }
    }

    /// A tiny range in each of many /24s (70,000: more than the table has
    /// blocks for, `maximumBlocks` = 65,280), or in each of many /16s
    /// (40,000: more than it has pages for, `maximumPages` = 32,768): the
    /// ones past the table go to the search, with its answers.
    @Test(arguments: [(count: 70_000, shift: 8, limit: 65_280), (count: 40_000, shift: 16, limit: 32_768)])
    func moreSharedBlocksThanTheTableHolds(count: Int, shift: Int, limit: Int) throws {
        let base = IPAddress("20.0.0.0")!.ipv4
        let text = (0..<count).map { index in
            let start = base + UInt32(index) << shift + 10
            return "\(start),\(start + 5),\(index % 2 == 0 ? "JP" : "KR")"
        }.joined(separator: "\n") + "\n"
        let database = try CountryDatabaseTests.load(text)
        for index in [0, 1, limit - 2, limit - 1, limit, limit + 1, count - 1] {
            let start = base + UInt32(index) << shift + 10
            #expect(database.country(of: IPAddress(ipv4: start)) == (index % 2 == 0 ? "JP" : "KR"), "\(index)")
            #expect(database.country(of: IPAddress(ipv4: start + 5)) == (index % 2 == 0 ? "JP" : "KR"), "\(index)")
            #expect(database.country(of: IPAddress(ipv4: start - 1)) == "ZZ" && database.country(of: IPAddress(ipv4: start + 6)) == "ZZ")
        }
    }

    /// Random ranges packed into a few /16s (overlapping, nested, sharing
    /// /24s, running across /16s, neighbours of one country that the table
    /// joins) against a plain search written here: every address of those
    /// /16s, and their neighbours.
    @Test func randomRangesAnswerAsAPlainSearch() throws {
        var generator = SeededGenerator(seed: 24)
        let countries = ["SE", "NO", "DK", "FI", "IS"]
        var ranges: [(start: UInt32, end: UInt32, country: String)] = []
        let base = IPAddress("30.0.0.0")!.ipv4
        for _ in 0..<600 {
            let start = base + UInt32(generator.next() % (4 << 16))
            let length = [1, 5, 200, 256, 700, 65_536, 70_000][Int(generator.next() % 7)]
            ranges.append((start, start + UInt32(length - 1), countries[Int(generator.next() % 5)]))
        }
        // Neighbours of one country, a /16 and more between them.
        let joined = IPAddress("40.0.0.0")!.ipv4
        ranges += [(joined, joined + 99, "SE"), (joined + 100, joined + 70_000, "SE"), (joined + 70_001, joined + 140_000, "SE")]
        let text = ranges.map { "\($0.start),\($0.end),\($0.country)" }.joined(separator: "\n") + "\n"
        let database = try CountryDatabaseTests.load(text)
        ranges.sort { $0.start < $1.start }
        func expected(_ value: UInt32) -> String {
            var low = 0, high = ranges.count
            while low < high { let mid = (low + high) / 2; if ranges[mid].start <= value { low = mid + 1 } else { high = mid } }
            return low > 0 && ranges[low - 1].end >= value ? ranges[low - 1].country : "ZZ"
        }
        var mismatches = 0
        for value in (base - 256)..<(base + (6 << 16)) where database.country(of: IPAddress(ipv4: value)) != expected(value) {
            mismatches += 1
        }
        for value in (joined - 1)...(joined + 140_001) where database.country(of: IPAddress(ipv4: value)) != expected(value) {
            mismatches += 1
        }
        #expect(mismatches == 0)
    }
}
