public import PacketDecoding
internal import CPrefetch

/// One UTC hour of packet time, as the count files hold it: per (class,
/// protocol, port, country), packets and exact distinct sources and
/// destinations, plus the hour's metadata for the sidecar.
///
/// Distinct counts use one set of packed (row, address) pairs per column
/// (pitfall 17 of DESIGN.md: cheaper than a set per row): IPv4 pairs are
/// exact; IPv6 addresses enter as 64-bit hashes (a false match needs two
/// addresses of one row to share a 64-bit hash). The pair sets are capped
/// (`pairLimit`); beyond it new pairs are not counted, the affected rows
/// Past the cap the set is frozen: a pair it does not hold goes to a
/// HyperLogLog sketch of its row (2^12 registers, standard error 1.6 %), so
/// a row's count is its exact pairs plus the sketch's estimate of the rest
/// (the two never overlap). At most `maximumSketches` rows per column get a
/// sketch (16 MiB each way); beyond that, counts are lower bounds.
/// `countsExact` is false once any estimate is in play (the sidecar says so).
public struct HourCounts: Sendable {
    /// Hours since the epoch.
    public let hour: Int64
    public private(set) var rows: [CountRow] = []
    public private(set) var packets: [UInt64] = []
    public private(set) var sources: [UInt32] = []
    public private(set) var destinations: [UInt32] = []
    private var rowOfKey = PackedMap()
    private var sourcePairs = PackedSet()
    private var destinationPairs = PackedSet()
    private var sourceSketches: [Int32: DistinctCount] = [:]
    private var destinationSketches: [Int32: DistinctCount] = [:]
    static let maximumSketches = 4096
    /// Rows whose counts include a sketch's estimate.
    public private(set) var estimatedRows = 0
    let pairLimit: Int

    public private(set) var totalPackets: UInt64 = 0
    public private(set) var firstPacket: PacketTime?
    public private(set) var lastPacket: PacketTime?
    /// Frames of this hour that did not decode, by `DecodeFailure.rawValue`.
    public private(set) var undecodable = [UInt64](repeating: 0, count: DecodeFailure.allCases.count)
    /// Packets that arrived for this hour after it had been written.
    public internal(set) var latePackets: UInt64 = 0
    public var countsExact = true
    /// Set when the hour closes: whether the sensor watched all of it.
    public var complete = false
    /// Live capture: packets the kernel and the interface dropped while this
    /// hour was open (libpcap's counters); nil for capture files.
    public var kernelDrops: UInt64?
    public var interfaceDrops: UInt64?
    /// True when the hour was restored from a checkpoint after a restart:
    /// packets between the checkpoint and the restart are missing.
    public internal(set) var gap = false

    /// A new hour; `like` is the hour before it, whose sizes this one's
    /// tables start at (an hour resembles the last: sized once, instead of
    /// doubling and rehashing a dozen times while it fills).
    init(hour: Int64, pairLimit: Int, like previous: HourCounts? = nil) {
        self.hour = hour
        self.pairLimit = pairLimit
        rowOfKey = PackedMap(minimumCapacity: max(1024, previous?.rows.count ?? 0))
        if let previous {
            sourcePairs = PackedSet(minimumCapacity: min(pairLimit, previous.sourcePairs.count))
            destinationPairs = PackedSet(minimumCapacity: min(pairLimit, previous.destinationPairs.count))
        }
    }

    public var startSeconds: Int64 { hour * 3600 }

    /// What a checkpoint needs beyond the public fields.
    var checkpointState: (pairLimit: Int, sourcePairs: PackedSet, destinationPairs: PackedSet) {
        (pairLimit, sourcePairs, destinationPairs)
    }

    /// An hour rebuilt from a checkpoint (`HourCheckpoint.decode`).
    init(restoring hour: Int64, pairLimit: Int, totalPackets: UInt64, firstPacket: PacketTime?, lastPacket: PacketTime?,
         latePackets: UInt64, countsExact: Bool, undecodable: [UInt64], rows: [UInt64], packets: [UInt64],
         sources: [UInt32], destinations: [UInt32], sourcePairs: [UInt64], destinationPairs: [UInt64]) {
        self.init(hour: hour, pairLimit: pairLimit)
        self.totalPackets = totalPackets
        self.firstPacket = firstPacket
        self.lastPacket = lastPacket
        self.latePackets = latePackets
        self.countsExact = countsExact
        self.undecodable = undecodable
        self.rows = rows.map { CountRow(packed: $0) }
        self.packets = packets
        self.sources = sources
        self.destinations = destinations
        self.sourcePairs = PackedSet(sourcePairs)
        self.destinationPairs = PackedSet(destinationPairs)
        for (index, row) in self.rows.enumerated() { rowOfKey.set(row.packed, Int32(index)) }
        gap = true
    }

    /// Look-ahead (SensorPipeline), first step: the row index's slot for `row`.
    @inline(__always)
    mutating func prefetchRow(_ row: CountRow) { rowOfKey.prefetch(row.packed) }

    /// Look-ahead, second step (the row index's slot is in cache by now):
    /// the row's totals and its two distinct pairs, for a row already known.
    @inline(__always)
    mutating func prefetchPairs(_ row: CountRow, source: IPAddress, destination: IPAddress) {
        guard let found = rowOfKey[row.packed] else { return }
        let index = Int(found)
        sourcePairs.prefetch(Self.pair(index, source))
        destinationPairs.prefetch(Self.pair(index, destination))
        packets.withUnsafeBufferPointer { teiten_prefetch($0.baseAddress! + index) }
        sources.withUnsafeBufferPointer { teiten_prefetch($0.baseAddress! + index) }
        destinations.withUnsafeBufferPointer { teiten_prefetch($0.baseAddress! + index) }
    }

    @inline(__always)
    mutating func add(_ row: CountRow, at time: PacketTime, source: IPAddress, destination: IPAddress) {
        let index: Int
        if let existing = rowOfKey[row.packed] {
            index = Int(existing)
        } else {
            index = rows.count
            rowOfKey.set(row.packed, Int32(index))
            rows.append(row)
            packets.append(0)
            sources.append(0)
            destinations.append(0)
        }
        packets[index] &+= 1
        totalPackets &+= 1
        if firstPacket == nil || time < firstPacket! { firstPacket = time }
        if lastPacket == nil || time > lastPacket! { lastPacket = time }
        let source = Self.pair(index, source), destination = Self.pair(index, destination)
        switch Self.insert(source, into: &sourcePairs, limit: pairLimit) {
        case .new: sources[index] &+= 1
        case .known: break
        case .overflow: Self.sketch(source, row: index, in: &sourceSketches, exact: &countsExact)
        }
        switch Self.insert(destination, into: &destinationPairs, limit: pairLimit) {
        case .new: destinations[index] &+= 1
        case .known: break
        case .overflow: Self.sketch(destination, row: index, in: &destinationSketches, exact: &countsExact)
        }
    }

    mutating func countUndecodable(_ failure: DecodeFailure) {
        undecodable[Int(failure.rawValue)] &+= 1
    }

    private enum Insertion { case new, known, overflow }

    /// Whether `pair` is new to the exact set, already in it, or (the set
    /// being full) for the row's sketch.
    @inline(__always)
    private static func insert(_ pair: UInt64, into set: inout PackedSet, limit: Int) -> Insertion {
        if set.count >= limit { return set.contains(pair) ? .known : .overflow }
        return set.insert(pair) ? .new : .known
    }

    private static func sketch(_ pair: UInt64, row: Int, in sketches: inout [Int32: DistinctCount], exact: inout Bool) {
        exact = false
        let key = Int32(row)
        if sketches[key] == nil {
            guard sketches.count < maximumSketches else { return }  // a lower bound for this row
            sketches[key] = .sketch(registerBits: DistinctCount.rowRegisterBits)
        }
        sketches[key]!.insert(pair)
    }

    /// (row, address) in one integer: IPv4 exactly (row in the high 32 bits),
    /// IPv6 as a mixed hash with the top bit set, so the two never meet.
    @inline(__always)
    static func pair(_ row: Int, _ address: IPAddress) -> UInt64 {
        if address.isIPv4 { return UInt64(row) << 32 | UInt64(address.ipv4) }
        return KeyHash.mix(UInt64(row) ^ KeyHash.address(address)) | 1 << 63
    }

    /// Folds the sketches' estimates into the counts and frees the pair
    /// sets, once the hour is final (before it goes to the writer thread).
    mutating func releasePairs() {
        var estimated = Set<Int32>()
        for (row, sketch) in sourceSketches { sources[Int(row)] &+= UInt32(clamping: sketch.count); estimated.insert(row) }
        for (row, sketch) in destinationSketches { destinations[Int(row)] &+= UInt32(clamping: sketch.count); estimated.insert(row) }
        estimatedRows = estimated.count
        sourceSketches = [:]
        destinationSketches = [:]
        sourcePairs.removeAll()
        destinationPairs.removeAll()
        rowOfKey.removeAll()
    }
}
