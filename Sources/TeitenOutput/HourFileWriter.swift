#if canImport(Glibc)
internal import Glibc
#endif
public import TeitenCore
internal import PacketDecoding
internal import Synchronization
internal import Dispatch
internal import Foundation

/// Writes each finished hour as `YYYY-MM-DDTHHZ.csv` and its sidecar
/// `YYYY-MM-DDTHHZ.json` in the counts directory, on its own thread (the
/// capture thread only hands hours over). Each file is written to a
/// temporary name in the same directory, flushed with fsync, then renamed,
/// and the directory fsynced: a puller never sees half a file. The CSV is
/// renamed into place before its sidecar.
///
/// An hour file that already exists is never replaced by less data. When
/// the new counts all come after the existing file's last packet (a second
/// run later in the same hour), the two are merged: packets add up, and
/// distinct counts take the larger of the two (a lower bound of the union,
/// so the sidecar says they are not exact). When they overlap (the same
/// capture replayed again), the file holding more packets is kept. A live
/// restart with checkpoints continues the hour instead (exact).
///
/// A directory that stops taking files (full, unwritable, gone) costs no
/// count: the hour stays in memory and is retried every `retrySeconds`, in
/// order, and written once space returns; what is already on disk is never
/// touched by a failed attempt (only the temporary file is, and it is
/// removed). Failures are reported through `report` once when they start,
/// then at most once per retry interval, and once when they end.
public final class HourFileWriter: Sendable {
    public struct Metadata: Sendable {
        public var sensor: String
        public var geoDatabases: [String]
        public var software: String
        public init(sensor: String, geoDatabases: [String], software: String) {
            self.sensor = sensor
            self.geoDatabases = geoDatabases
            self.software = software
        }
    }

    private struct State {
        var queue: [HourCounts] = []
        /// The newest checkpoint waiting to be written (an older one is replaced).
        var checkpoint: (hours: [HourCounts], path: String)?
        var checkpointsWritten = 0
        var closing = false
        var written: [String] = []
        var kept: [String] = []
        /// Hours still unwritten when the writer closed (after a last try).
        var failures: [String] = []
        /// Failed attempts to write an hour, and to write a checkpoint.
        var writeFailures: UInt64 = 0
        var checkpointFailures: UInt64 = 0
        /// Hours waiting for the directory to take them again.
        var pendingHours = 0
        /// Hours given up because more than `maximumPending` waited.
        var hoursLost: UInt64 = 0
    }

    /// Hours kept in memory while the directory refuses them: a week. Beyond
    /// it the oldest is given up (and counted), so a disk that never comes
    /// back cannot exhaust memory.
    public static let maximumPending = 168

    public let directory: String
    private let metadata: Metadata
    private let retrySeconds: Double
    private let report: @Sendable (String) -> Void
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    public struct SetupError: Error, CustomStringConvertible { public let description: String }

    /// Creates `directory` if needed and checks it is writable, now rather
    /// than at the end of the first hour.
    public init(directory: String, metadata: Metadata, retrySeconds: Double = 30,
                report: @escaping @Sendable (String) -> Void = { _ in }) throws(SetupError) {
        self.directory = directory
        self.metadata = metadata
        self.retrySeconds = retrySeconds
        self.report = report
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw SetupError(description: "\(directory): cannot create the counts directory: \(String(cString: strerror(errno)))")
        }
        guard access(directory, W_OK | X_OK) == 0 else {
            throw SetupError(description: "\(directory): counts directory not writable: \(String(cString: strerror(errno)))")
        }
        Thread { [self] in self.run() }.start()
    }

    public func submit(_ hours: [HourCounts]) {
        guard !hours.isEmpty else { return }
        state.withLock { $0.queue.append(contentsOf: hours) }
        wake.signal()
    }

    /// Saves the open hours (atomically) to `path`; only the newest waiting
    /// checkpoint is written.
    public func checkpoint(_ hours: [HourCounts], to path: String) {
        state.withLock { $0.checkpoint = (hours, path) }
        wake.signal()
    }

    public var checkpointsWritten: Int { state.withLock { $0.checkpointsWritten } }

    /// Writes everything submitted, then stops the thread.
    public func close() {
        state.withLock { $0.closing = true }
        wake.signal()
        finished.wait()
    }

    public var results: (written: [String], kept: [String], failures: [String]) {
        state.withLock { ($0.written, $0.kept, $0.failures) }
    }

    /// Failure counters, for the metrics endpoint and the summary.
    public var faults: (writeFailures: UInt64, checkpointFailures: UInt64, pendingHours: Int, hoursLost: UInt64) {
        state.withLock { ($0.writeFailures, $0.checkpointFailures, $0.pendingHours, $0.hoursLost) }
    }

    /// The writer thread's nice value. Its work can wait and packets
    /// cannot: on a two-core sensor an hour's file (a fraction of a second
    /// of CPU) taken at equal priority was that much taken from the capture
    /// and detection threads, both busy. At nice 10 it runs in the moments
    /// they leave, and under sustained full load it still gets about a
    /// tenth of a core. (Where the change is refused, as under a unit that
    /// filters `@resources` system calls, it keeps the normal priority.)
    static let niceness: Int32 = 10

    private func run() {
        // Linux keeps a nice value per thread: "process" 0 is this thread.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Self.niceness)
        var pending: [HourCounts] = []      // refused hours, oldest first
        var lastAttempt = -Double.infinity  // of the pending hours
        var hourReports = FailureReports(subject: "hour files in \(directory)", interval: retrySeconds, report: report)
        var checkpointReports = FailureReports(subject: "checkpoints", interval: retrySeconds, report: report)
        while true {
            if pending.isEmpty { wake.wait() } else { _ = wake.wait(timeout: .now() + retrySeconds) }
            let (batch, checkpoint, closing) = state.withLock { state -> ([HourCounts], (hours: [HourCounts], path: String)?, Bool) in
                defer { state.queue.removeAll(); state.checkpoint = nil }
                return (state.queue, state.checkpoint, state.closing)
            }
            // New hours queue behind refused ones, so hours reach the disk
            // in order, and a refusing directory is tried once per interval.
            pending += batch
            let now = Self.monotonicSeconds()
            if !pending.isEmpty && (batch.count == pending.count || now - lastAttempt >= retrySeconds || closing) {
                lastAttempt = now
                var refused: [HourCounts] = []
                for (index, hour) in pending.enumerated() {
                    if !refused.isEmpty { refused.append(hour); continue }  // the directory just refused: keep the order
                    if let error = write(hour) {
                        state.withLock { $0.writeFailures &+= 1 }
                        hourReports.failed(error, now: now, waiting: pending.count - index)  // this one and every later one stay
                        refused.append(hour)
                    } else {
                        hourReports.succeeded(now: now)
                    }
                }
                pending = refused
                if pending.count > Self.maximumPending {
                    let lost = pending.count - Self.maximumPending
                    report("giving up \(lost) unwritten hour(s) of counts (more than \(Self.maximumPending) waiting): "
                        + pending.prefix(lost).map { Self.hourName($0.hour) }.joined(separator: ", "))
                    pending.removeFirst(lost)
                    state.withLock { $0.hoursLost &+= UInt64(lost) }
                }
                state.withLock { $0.pendingHours = pending.count }
            }
            if let checkpoint {
                let directory = (checkpoint.path as NSString).deletingLastPathComponent
                do {
                    try Self.writeAtomically(HourCheckpoint.encode(checkpoint.hours), to: checkpoint.path, directory: directory)
                    state.withLock { $0.checkpointsWritten += 1 }
                    checkpointReports.succeeded(now: now)
                } catch {
                    state.withLock { $0.checkpointFailures &+= 1 }
                    checkpointReports.failed("\(error)", now: now, waiting: 0)
                }
            }
            if closing {
                if !pending.isEmpty {
                    let names = pending.map { Self.hourName($0.hour) }
                    state.withLock { $0.failures = names }
                    report("not written, the directory still refuses them: \(names.joined(separator: ", "))")
                }
                finished.signal()
                return
            }
        }
    }

    private static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// `2026-11-21T13Z`
    public static func hourName(_ hour: Int64) -> String {
        let text = UTCTime.rfc3339(PacketTime(seconds: hour * 3600, nanoseconds: 0), fractionDigits: 0)
        return String(text.prefix(13)) + "Z"
    }

    /// Writes (or merges, or keeps) one hour; the error text if the directory refused it.
    private func write(_ hour: HourCounts) -> String? {
        let name = Self.hourName(hour.hour)
        let csvPath = directory + "/" + name + ".csv", jsonPath = directory + "/" + name + ".json"
        var json = sidecar(hour)
        var mergedCSV: String?
        if let existing = Self.existingSidecar(jsonPath) {
            let existingLast = (existing["last_packet"] as? String) ?? ""
            let newFirst = hour.firstPacket.map { UTCTime.rfc3339($0) } ?? ""
            if !existingLast.isEmpty && newFirst > existingLast,
               let rows = try? CountFileReader.rows(of: csvPath) {
                let merged = merged(existing: existing, rows: rows, with: hour)
                mergedCSV = merged.csv
                json = merged.json
            } else if ((existing["packets"] as? NSNumber)?.uint64Value ?? 0) >= hour.totalPackets {
                state.withLock { $0.kept.append(name) }
                return nil
            }
        }
        do {
            if let mergedCSV {
                try Self.writeAtomically(mergedCSV, to: csvPath, directory: directory)
            } else {
                try Self.writeAtomically(to: csvPath, directory: directory) { try CountFileFormat.writeCSV(hour, to: $0) }
            }
            try Self.writeAtomically(json, to: jsonPath, directory: directory)
            state.withLock { $0.written.append(name) }
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// The existing file's rows and the new hour, as one CSV and sidecar.
    private func merged(existing: [String: Any], rows: [CountFileReader.Row], with hour: HourCounts) -> (csv: String, json: String) {
        struct Key: Hashable { let trafficClass: String, proto: String, port: Int, country: String }
        var totals: [Key: (UInt64, UInt64, UInt64)] = [:]
        for row in rows {
            totals[Key(trafficClass: row.trafficClass, proto: row.proto, port: row.port, country: row.country)] =
                (row.packets, row.sources, row.destinations)
        }
        for (index, row) in hour.rows.enumerated() {
            let key = Key(trafficClass: row.className, proto: row.protocolName, port: Int(row.port), country: row.country)
            let old = totals[key] ?? (0, 0, 0)
            let counts = hour.totals[index]
            totals[key] = (old.0 + counts.packets, max(old.1, UInt64(counts.sources)), max(old.2, UInt64(counts.destinations)))
        }
        let hourText = CountFileFormat.hourText(hour.hour)
        var csv = CountFileFormat.header + "\n"
        for key in totals.keys.sorted(by: { ($0.trafficClass, $0.proto, $0.port, $0.country) < ($1.trafficClass, $1.proto, $1.port, $1.country) }) {
            let value = totals[key]!
            csv += "\(hourText),\(key.trafficClass),\(key.proto),\(key.port),\(key.country),\(value.0),\(value.1),\(value.2)\n"
        }
        var combined = hour
        combined.complete = false
        combined.countsExact = false
        let earlier = (existing["packets"] as? NSNumber)?.uint64Value ?? 0
        var undecodable = (existing["undecodable"] as? [String: Any] ?? [:]).compactMapValues { ($0 as? NSNumber)?.uint64Value }
        for failure in DecodeFailure.allCases where hour.undecodable[Int(failure.rawValue)] > 0 {
            undecodable[failure.name, default: 0] += hour.undecodable[Int(failure.rawValue)]
        }
        let json = sidecar(combined, overrides: [
            "packets": String(earlier + hour.totalPackets),
            "first_packet": (existing["first_packet"] as? String).map(AlertJSON.quoted) ?? "null",
            "rows": String(totals.count),
            "undecodable": "{" + undecodable.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}",
            "undecodable_packets": String(undecodable.values.reduce(0, +)),
            "merged_runs": String(((existing["merged_runs"] as? NSNumber)?.intValue ?? 1) + 1),
        ])
        return (csv, json)
    }

    private func sidecar(_ hour: HourCounts, overrides: [String: String] = [:]) -> String {
        var failures: [String] = []
        for failure in DecodeFailure.allCases where hour.undecodable[Int(failure.rawValue)] > 0 {
            failures.append("\"\(failure.name)\":\(hour.undecodable[Int(failure.rawValue)])")
        }
        let fields: [(String, String)] = [
            ("sensor", AlertJSON.quoted(metadata.sensor)),
            ("hour", AlertJSON.quoted(CountFileFormat.hourText(hour.hour))),
            ("complete", hour.complete ? "true" : "false"),
            ("gap", hour.gap ? "true" : "false"),
            ("first_packet", hour.firstPacket.map { AlertJSON.quoted(UTCTime.rfc3339($0)) } ?? "null"),
            ("last_packet", hour.lastPacket.map { AlertJSON.quoted(UTCTime.rfc3339($0)) } ?? "null"),
            ("packets", String(hour.totalPackets)),
            ("undecodable", "{" + failures.joined(separator: ",") + "}"),
            ("undecodable_packets", String(hour.undecodable.reduce(0, +))),
            ("late_packets", String(hour.latePackets)),
            ("kernel_drops", hour.kernelDrops.map(String.init) ?? "null"),
            ("interface_drops", hour.interfaceDrops.map(String.init) ?? "null"),
            ("rows", String(hour.rows.count)),
            ("distinct_counts_exact", hour.countsExact ? "true" : "false"),
            ("estimated_rows", String(hour.estimatedRows)),
            ("geo_database", "[" + metadata.geoDatabases.map(AlertJSON.quoted).joined(separator: ",") + "]"),
            ("software", AlertJSON.quoted(metadata.software)),
        ]
        var all = fields.map { ($0.0, overrides[$0.0] ?? $0.1) }
        for (key, value) in overrides.sorted(by: { $0.key < $1.key }) where !fields.contains(where: { $0.0 == key }) {
            all.append((key, value))
        }
        return "{\n" + all.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}\n"
    }

    private static func existingSidecar(_ path: String) -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    struct WriteError: Error, CustomStringConvertible { let description: String }

    static func writeAtomically(_ text: String, to path: String, directory: String) throws {
        try writeAtomically(Array(text.utf8), to: path, directory: directory)
    }

    static func writeAtomically(_ bytes: [UInt8], to path: String, directory: String) throws {
        try writeAtomically(to: path, directory: directory) { write in try bytes.withUnsafeBytes { try write($0) } }
    }

    /// Temporary name, write, fsync, rename, fsync the directory. `produce`
    /// hands the bytes over in pieces through the function it is given: an
    /// hour of a million rows is never held whole (three whole copies of it
    /// were the writer thread's main cost, tens of MiB an hour of fresh
    /// memory, zeroed on first touch).
    static func writeAtomically(to path: String, directory: String,
                                _ produce: (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let temporary = directory + "/." + (path as NSString).lastPathComponent + ".tmp.\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError(description: "\(temporary): \(String(cString: strerror(errno)))") }
        do {
            let writes = OverlappedWrites(descriptor: fd, path: path)
            do {
                try produce { bytes in try writes.write(bytes) }
            } catch {
                try? writes.finish()
                throw error
            }
            try writes.finish()
            guard fsync(fd) == 0 else { throw WriteError(description: "\(path): \(String(cString: strerror(errno)))") }
        } catch {
            Glibc.close(fd)
            unlink(temporary)
            throw error
        }
        Glibc.close(fd)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw WriteError(description: "\(path): rename failed: \(reason)")
        }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 { fsync(directoryFD); Glibc.close(directoryFD) }
    }
}

/// Turns a stream of failures into a few log lines: the first failure at
/// once, then at most one line per interval while they go on (with how many
/// there were), and one line when writing works again.
struct FailureReports {
    let subject: String
    let interval: Double
    let report: @Sendable (String) -> Void
    private var failing = false
    private var lastReport = -Double.infinity
    private var sinceReport = 0

    init(subject: String, interval: Double, report: @escaping @Sendable (String) -> Void) {
        self.subject = subject
        self.interval = interval
        self.report = report
    }

    mutating func failed(_ error: String, now: Double, waiting: Int) {
        sinceReport += 1
        guard !failing || now - lastReport >= interval else { return }
        let held = waiting > 0 ? "; \(waiting) hour(s) kept in memory" : ""
        let again = failing ? "still failing (\(sinceReport) attempts since the last report)" : "cannot be written"
        let every = interval == interval.rounded() ? "\(Int(interval))" : "\(interval)"
        report("\(subject) \(again): \(error)\(held); retrying every \(every) s")
        failing = true
        lastReport = now
        sinceReport = 0
    }

    mutating func succeeded(now: Double) {
        guard failing else { return }
        failing = false
        sinceReport = 0
        report("\(subject): writing again")
    }
}

/// The count files' text format (docs/counts.md): RFC 4180 CSV, `\n` line
/// ends, a header, rows sorted by class, proto, port, country.
public enum CountFileFormat {
    public static let header = "hour,class,proto,port,country,packets,sources,destinations"

    /// `2026-11-21T13:00:00Z`
    public static func hourText(_ hour: Int64) -> String {
        UTCTime.rfc3339(PacketTime(seconds: hour * 3600, nanoseconds: 0), fractionDigits: 0)
    }

    public static func csv(_ hour: HourCounts) -> String {
        var text: [UInt8] = []
        writeCSV(hour) { text += $0 }
        return String(decoding: text, as: UTF8.self)
    }

    /// The hour's CSV, handed to `write` in pieces of about `pieceBytes`
    /// (the writer thread reuses one buffer instead of building the file).
    public static func writeCSV(_ hour: HourCounts, pieceBytes: Int = 1 << 18,
                                to write: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        let order = sortedRowIndices(hour.rows)
        // Rows are written into one buffer through a pointer: appending to
        // an array field by field (a uniqueness and capacity check each) was
        // most of the writer thread, and the last hour's file is written
        // after the capture has ended, while the run waits for it.
        let hourPrefix = Array(hourText(hour.hour).utf8) + [UInt8(ascii: ",")]
        // "hour,class,protocol," for each class and protocol, one after another.
        var prefixes: [UInt8] = [], prefixBounds = [0]
        for className in CountRow.classNames {
            for protocolName in CountRow.protocolNames {
                prefixes += hourPrefix + Array("\(className),\(protocolName),".utf8)
                prefixBounds.append(prefixes.count)
            }
        }
        let classes = CountRow.classNames.count, protocols = CountRow.protocolNames.count
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: max(pieceBytes, header.utf8.count + 1) + Self.longestRow)
        defer { buffer.deallocate() }
        var used = 0
        for byte in header.utf8 {
            buffer[used] = byte
            used += 1
        }
        buffer[used] = UInt8(ascii: "\n")
        used += 1
        try hour.rows.withUnsafeBufferPointer { rows in
            try hour.totals.withUnsafeBufferPointer { totals in
                try prefixes.withUnsafeBufferPointer { prefixes in
                    for index in order {
                        let packed = rows[index].packed
                        let classCode = Int(packed >> 40 & 0x3), protocolCode = Int(packed >> 32 & 0x7)
                        // As `CountRow.className`/`protocolName` would, a code without a name traps.
                        precondition(classCode < classes && protocolCode < protocols, "a row without a class or protocol name")
                        let prefix = classCode * protocols + protocolCode
                        let start = prefixBounds[prefix], length = prefixBounds[prefix + 1] - start
                        (buffer + used).update(from: prefixes.baseAddress! + start, count: length)
                        used += length
                        used += DecimalDigits.write(UInt64(packed >> 16 & 0xFFFF), to: buffer + used)
                        buffer[used] = UInt8(ascii: ",")
                        buffer[used + 1] = UInt8(truncatingIfNeeded: packed >> 8)
                        buffer[used + 2] = UInt8(truncatingIfNeeded: packed)
                        buffer[used + 3] = UInt8(ascii: ",")
                        used += 4
                        let counts = totals[index]
                        used += DecimalDigits.write(counts.packets, to: buffer + used)
                        buffer[used] = UInt8(ascii: ",")
                        used += 1
                        used += DecimalDigits.write(UInt64(counts.sources), to: buffer + used)
                        buffer[used] = UInt8(ascii: ",")
                        used += 1
                        used += DecimalDigits.write(UInt64(counts.destinations), to: buffer + used)
                        buffer[used] = UInt8(ascii: "\n")
                        used += 1
                        if used >= pieceBytes {
                            try write(UnsafeRawBufferPointer(start: buffer, count: used))
                            used = 0
                        }
                    }
                }
            }
        }
        try write(UnsafeRawBufferPointer(start: buffer, count: used))
    }

    /// The indices of `rows` in the file's order: class, protocol (as
    /// their names sort), port, country. One integer per row is sorted,
    /// its fields ranked as their names sort (a comparison of names per
    /// pair of rows made this the writer thread's main cost); port, then
    /// country: two big-endian ASCII letters sort as their text.
    /// (`indexBits`: bits left for a row's index beside its key; tests
    /// lower it to take the comparison sort that hours too big for it take.)
    static func sortedRowIndices(_ rows: [CountRow], indexBits: Int = 64 - keyBits) -> [Int] {
        let classRank = Self.ranks(CountRow.classNames), protocolRank = Self.ranks(CountRow.protocolNames)
        func key(_ row: CountRow) -> UInt64 {
            let packed = row.packed
            return classRank[Int(packed >> 40 & 0x3)] << 40 | protocolRank[Int(packed >> 32 & 0x7)] << 32 | packed & 0xFFFF_FFFF
        }
        // Key (43 bits) and index in one word, radix-sorted on the key.
        guard rows.count <= 1 << indexBits else {
            return rows.indices.sorted { key(rows[$0]) < key(rows[$1]) }
        }
        var words = rows.indices.map { key(rows[$0]) << UInt64(indexBits) | UInt64($0) }
        RadixSort.sort(&words, bits: indexBits..<64)
        let indexMask = UInt64(1) << UInt64(indexBits) - 1
        return words.map { Int($0 & indexMask) }
    }

    /// Bits of a row's sort key: class rank (2 bits) and protocol rank (3) above port and country (32).
    static let keyBits = 43

    /// Room for one row past a full piece: the hour, class and protocol
    /// (about 40 bytes), port, country, and three counts of 20 digits at most.
    private static let longestRow = 256

    /// For each code (the index into `names`), its place in `names` sorted.
    private static func ranks(_ names: [String]) -> [UInt64] {
        let sorted = names.sorted()
        return names.map { UInt64(sorted.firstIndex(of: $0)!) }
    }
}
