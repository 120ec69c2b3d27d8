internal import PacketDecoding

/// The open hours' counts as bytes, so a restart or a crash of a live
/// sensor loses at most one checkpoint interval of counts. Little-endian,
/// versioned; a file that does not parse is ignored (and reported), never
/// trusted.
public enum HourCheckpoint {
    static let magic: [UInt8] = Array("TEITENCK".utf8)
    /// 2: distinct pairs named by their row's identity (`CountRow.identity`).
    /// 1 named them by the row's index in the hour; such a file is still
    /// read (a sensor upgraded mid-hour keeps its hour): see `renamePairs`.
    static let version: UInt32 = 2

    public static func encode(_ hours: [HourCounts]) -> [UInt8] {
        var out = magic
        put(version, &out)
        put(UInt32(hours.count), &out)
        for hour in hours {
            let state = hour.checkpointState
            put(UInt64(bitPattern: hour.hour), &out)
            put(UInt64(state.pairLimit), &out)
            put(hour.totalPackets, &out)
            put(UInt64(bitPattern: hour.firstPacket?.nanoseconds ?? .min), &out)
            put(UInt64(bitPattern: hour.lastPacket?.nanoseconds ?? .min), &out)
            put(hour.latePackets, &out)
            put(UInt32(hour.countsExact ? 1 : 0), &out)
            putArray(hour.undecodable, &out)
            putArray(hour.rows.map(\.packed), &out)
            putArray(hour.packets, &out)
            putArray(hour.sources.map(UInt64.init), &out)
            putArray(hour.destinations.map(UInt64.init), &out)
            putArray(state.sourcePairs.elements, &out)
            putArray(state.destinationPairs.elements, &out)
        }
        return out
    }

    public struct DecodeError: Error, CustomStringConvertible { public let description: String }

    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> [HourCounts] {
        var reader = Reader(bytes: bytes)
        guard bytes.count >= 16, Array(bytes[0..<8]) == magic else { throw DecodeError(description: "not a Teiten checkpoint") }
        reader.offset = 8
        guard let version = reader.u32(), version == Self.version || version == 1 else {
            throw DecodeError(description: "unknown checkpoint version")
        }
        guard let count = reader.u32(), count <= 4 else { throw DecodeError(description: "bad hour count") }
        var hours: [HourCounts] = []
        for _ in 0..<count {
            guard let hour = reader.u64(), let pairLimit = reader.u64(), let total = reader.u64(),
                  let first = reader.u64(), let last = reader.u64(), let late = reader.u64(), let exact = reader.u32(),
                  let undecodable = reader.array(), let rows = reader.array(), let packets = reader.array(),
                  let sources = reader.array(), let destinations = reader.array(),
                  let sourcePairs = reader.array(), let destinationPairs = reader.array(),
                  undecodable.count == DecodeFailure.allCases.count,
                  packets.count == rows.count, sources.count == rows.count, destinations.count == rows.count,
                  pairLimit > 0, pairLimit <= 1 << 32 else {
                throw DecodeError(description: "truncated or inconsistent checkpoint")
            }
            let rowKeys = rows.map { CountRow(packed: $0) }
            guard rowKeys.allSatisfy(\.isWellFormed) else {
                throw DecodeError(description: "checkpoint row with an unknown class, protocol or country")
            }
            var sourceKeys = sourcePairs, destinationKeys = destinationPairs, isExact = exact == 1
            if version == 1 {
                guard let sources = renamePairs(sourcePairs, rows: rowKeys),
                      let destinations = renamePairs(destinationPairs, rows: rowKeys) else {
                    throw DecodeError(description: "checkpoint pair of a row it does not hold")
                }
                if sources.count < sourcePairs.count || destinations.count < destinationPairs.count { isExact = false }
                sourceKeys = sources
                destinationKeys = destinations
            }
            hours.append(HourCounts(restoring: Int64(bitPattern: hour), pairLimit: Int(pairLimit), totalPackets: total,
                                    firstPacket: first == UInt64(bitPattern: .min) ? nil : PacketTime(nanoseconds: Int64(bitPattern: first)),
                                    lastPacket: last == UInt64(bitPattern: .min) ? nil : PacketTime(nanoseconds: Int64(bitPattern: last)),
                                    latePackets: late, countsExact: isExact, undecodable: undecodable,
                                    rows: rows, packets: packets, sources: sources.map { UInt32(truncatingIfNeeded: $0) },
                                    destinations: destinations.map { UInt32(truncatingIfNeeded: $0) },
                                    sourcePairs: sourceKeys, destinationPairs: destinationKeys))
        }
        return hours
    }

    /// A version 1 checkpoint's pairs, named by row identity: an IPv4 pair
    /// is renamed exactly (row index → row); an IPv6 pair was a hash of the
    /// row index and the address, which cannot be renamed, so it is left
    /// out (that row's later packets from the address count once more, and
    /// the hour says its counts are not exact). Nil: a pair names a row the
    /// hour does not have.
    private static func renamePairs(_ pairs: [UInt64], rows: [CountRow]) -> [UInt64]? {
        var renamed: [UInt64] = []
        renamed.reserveCapacity(pairs.count)
        for pair in pairs where pair >> 63 == 0 {
            let index = Int(pair >> 32)
            guard index < rows.count else { return nil }
            renamed.append(rows[index].identity << 32 | pair & 0xFFFF_FFFF)
        }
        return renamed
    }

    private static func put<T: FixedWidthInteger>(_ value: T, _ out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func putArray(_ values: [UInt64], _ out: inout [UInt8]) {
        put(UInt64(values.count), &out)
        out.reserveCapacity(out.count + values.count * 8)
        for value in values { put(value, &out) }
    }

    /// Bounds-checked reads; nil past the end (a cut file).
    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func u32() -> UInt32? {
            guard offset <= bytes.count - 4 else { return nil }
            defer { offset += 4 }
            return bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
        }

        mutating func u64() -> UInt64? {
            guard offset <= bytes.count - 8 else { return nil }
            defer { offset += 8 }
            return bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
        }

        mutating func array() -> [UInt64]? {
            guard let count = u64(), count <= UInt64((bytes.count - offset) / 8) else { return nil }
            var values: [UInt64] = []
            values.reserveCapacity(Int(count))
            for _ in 0..<Int(count) { values.append(u64()!) }
            return values
        }
    }
}
