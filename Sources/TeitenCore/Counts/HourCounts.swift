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
/// (`pairLimit`). Past the cap the set is frozen: a pair it does not hold
/// goes to a HyperLogLog sketch of its row (2^12 registers, standard error
/// 1.6 %), so a row's count is its exact pairs plus the sketch's estimate
/// of the rest (the two never overlap). At most `maximumSketches` rows per
/// column get a sketch (`RowSketches`: 64 bytes each while it has set 15
/// registers or fewer, 4 KiB after; 16 MiB a column at most); beyond that,
/// counts are lower bounds.
/// `countsExact` is false once any estimate is in play (the sidecar says so).
public struct HourCounts: Sendable {
    /// Hours since the epoch.
    public let hour: Int64
    public private(set) var rows: [CountRow] = []
    /// Each row's counts, by the row's index: one 16-byte value, so that
    /// counting a packet touches one line of them, not one per column.
    public private(set) var totals: [RowTotals] = []
    /// One column of `totals` (a copy: read `totals[index]` per row).
    public var packets: [UInt64] { totals.map(\.packets) }
    public var sources: [UInt32] { totals.map(\.sources) }
    public var destinations: [UInt32] { totals.map(\.destinations) }
    private var rowOfKey = PackedMap()
    private var sourcePairs = PackedSet()
    private var destinationPairs = PackedSet()
    private var sourceSketches = RowSketches()
    private var destinationSketches = RowSketches()
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

    /// A new hour. `reusing`: the emptied tables of an hour that has
    /// closed, taken where they fit the sizes of `like`, the hour before
    /// (an hour resembles the last). Without them the tables start small:
    /// the hour before is still open for its grace, and when it closes this
    /// one moves into its tables (`adopt`), instead of mapping fresh memory
    /// sized like it (in a VM a first touch costs about 2.6 ms a MiB).
    init(hour: Int64, pairLimit: Int, like previous: HourCounts? = nil, reusing spare: HourTables? = nil) {
        self.hour = hour
        self.pairLimit = pairLimit
        let rows = max(1024, previous?.rows.count ?? 0)
        rowOfKey = HourTables.fitting(spare?.rowOfKey, rows) ?? PackedMap(minimumCapacity: 1024)
        if let previous {
            let sources = min(pairLimit, previous.sourcePairs.count)
            let destinations = min(pairLimit, previous.destinationPairs.count)
            sourcePairs = HourTables.fitting(spare?.sourcePairs, sources) ?? PackedSet()
            destinationPairs = HourTables.fitting(spare?.destinationPairs, destinations) ?? PackedSet()
        }
        sourceSketches = RowSketches(reusing: spare?.sourceSketchBlock)
        destinationSketches = RowSketches(reusing: spare?.destinationSketchBlock)
    }

    /// Moves the row index and the pair sets into `spare`'s emptied tables
    /// where those are bigger than this hour's own and hold its keys
    /// without growing; what is not taken stays in `spare`. A young hour
    /// holds a minute of keys: moving them costs milliseconds.
    mutating func adopt(_ spare: inout HourTables?) {
        guard var tables = spare else { return }
        spare = nil  // `tables` must be their only owner, or the first insert copies them
        var taken = 0
        if tables.rowOfKey.capacity > rowOfKey.capacity, HourTables.holds(tables.rowOfKey.capacity, rows.count) {
            for (index, row) in rows.enumerated() { tables.rowOfKey.set(row.packed, Int32(index)) }
            swap(&rowOfKey, &tables.rowOfKey)
            taken += 1
        }
        if Self.adopt(&sourcePairs, from: &tables.sourcePairs) { taken += 1 }
        if Self.adopt(&destinationPairs, from: &tables.destinationPairs) { taken += 1 }
        sourceSketches.adopt(&tables.sourceSketchBlock)
        destinationSketches.adopt(&tables.destinationSketchBlock)
        spare = taken == 3 ? nil : tables  // the small tables swapped in are not worth keeping
    }

    private static func adopt(_ own: inout PackedSet, from spare: inout PackedSet) -> Bool {
        guard spare.capacity > own.capacity, HourTables.holds(spare.capacity, own.count) else { return false }
        for key in own.elements { spare.insert(key) }
        swap(&own, &spare)
        return true
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
        totals = packets.indices.map { RowTotals(packets: packets[$0], sources: sources[$0], destinations: destinations[$0]) }
        self.sourcePairs = PackedSet(sourcePairs)
        self.destinationPairs = PackedSet(destinationPairs)
        for (index, row) in self.rows.enumerated() { rowOfKey.set(row.packed, Int32(index)) }
        gap = true
    }

    /// Look-ahead (SensorPipeline), first step: the row index's slot for
    /// `row`, and the slots of the packet's two distinct pairs (a pair is
    /// named by its row's identity, not the row's index, so it can be
    /// asked for before the index is known, and for a row new to the hour).
    @inline(__always)
    mutating func prefetchRow(_ row: CountRow, source: IPAddress, destination: IPAddress) {
        rowOfKey.prefetch(row.packed)
        sourcePairs.prefetch(Self.pair(row, source))
        destinationPairs.prefetch(Self.pair(row, destination))
    }

    /// Look-ahead, second step (the row index's slot is in cache by now):
    /// the row's index, for a row already known, and its totals' line.
    /// (Rows keep their index for the hour.)
    @inline(__always)
    mutating func locateRow(_ row: CountRow) -> Int32? {
        guard let found = rowOfKey[row.packed] else { return nil }
        totals.withUnsafeBufferPointer { teiten_prefetch($0.baseAddress! + Int(found)) }
        return found
    }

    /// One packet of `row`; `index`: the row's index, when the look-ahead
    /// found it in this hour (`prefetchPairs`).
    @inline(__always)
    mutating func add(_ row: CountRow, index known: Int32? = nil, at time: PacketTime, source: IPAddress, destination: IPAddress) {
        let index: Int
        if let known {
            index = Int(known)
        } else if let existing = rowOfKey[row.packed] {
            index = Int(existing)
        } else {
            index = rows.count
            rowOfKey.set(row.packed, Int32(index))
            rows.append(row)
            totals.append(RowTotals())
        }
        totals[index].packets &+= 1
        totalPackets &+= 1
        if firstPacket == nil || time < firstPacket! { firstPacket = time }
        if lastPacket == nil || time > lastPacket! { lastPacket = time }
        let source = Self.pair(row, source), destination = Self.pair(row, destination)
        switch Self.insert(source, into: &sourcePairs, limit: pairLimit) {
        case .new: totals[index].sources &+= 1
        case .known: break
        case .overflow: countsExact = false; sourceSketches.insert(source, row: index)
        }
        switch Self.insert(destination, into: &destinationPairs, limit: pairLimit) {
        case .new: totals[index].destinations &+= 1
        case .known: break
        case .overflow: countsExact = false; destinationSketches.insert(destination, row: index)
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

    /// (row, address) in one integer: IPv4 exactly (the row's 31-bit
    /// identity in the high 32 bits), IPv6 as a mixed hash with the top bit
    /// set, so the two never meet.
    @inline(__always)
    static func pair(_ row: CountRow, _ address: IPAddress) -> UInt64 {
        if address.isIPv4 { return row.identity << 32 | UInt64(address.ipv4) }
        return KeyHash.mix(row.identity ^ KeyHash.address(address)) | 1 << 63
    }

    /// Folds the sketches' estimates into the counts and takes the pair
    /// sets and row index out, once the hour is final (before it goes to
    /// the writer thread). Returns them emptied, for a later hour to reuse;
    /// nil unless `forReuse` (emptying them is a `memset` of tens of MiB,
    /// which at the end of a run the run would wait for).
    @discardableResult
    mutating func releasePairs(forReuse: Bool = true) -> HourTables? {
        var estimated = Set<Int32>()
        for (row, count) in sourceSketches.estimates() { totals[row].sources &+= UInt32(clamping: count); estimated.insert(Int32(row)) }
        for (row, count) in destinationSketches.estimates() { totals[row].destinations &+= UInt32(clamping: count); estimated.insert(Int32(row)) }
        estimatedRows = estimated.count
        var tables = HourTables(rowOfKey: rowOfKey, sourcePairs: sourcePairs, destinationPairs: destinationPairs,
                                sourceSketchBlock: sourceSketches.takeBlock(), destinationSketchBlock: destinationSketches.takeBlock())
        sourcePairs = PackedSet()
        destinationPairs = PackedSet()
        rowOfKey = PackedMap()
        guard forReuse else { return nil }
        tables.empty()
        return tables
    }
}

/// An hour's three hashed tables (row index, source pairs, destination
/// pairs), emptied when the hour closes and handed on: the hour then open
/// (a minute old: it started small during the grace) moves into them
/// (`HourCounts.adopt`), or else the next hour to open starts with them
/// (`HourlyCounter`). One hour's worth of big tables circulates.
///
/// Why not free them and map new ones: memory the kernel hands out fresh
/// must be zeroed page by page on first touch, and on the benchmark's 10 M
/// packets that was a tenth of the capture thread (tens of MiB an hour, at
/// a page fault each; dearer in a VM). Zeroing tables the process already
/// holds is one `memset`, a few milliseconds an hour.
struct HourTables {
    var rowOfKey: PackedMap
    var sourcePairs: PackedSet
    var destinationPairs: PackedSet
    /// The row sketches' register blocks (`RowSketches.init(reusing:)`).
    var sourceSketchBlock: [UInt8]
    var destinationSketchBlock: [UInt8]

    /// Empties every table, keeping its memory (a table still shared with a
    /// checkpoint being written is left to it, and a new one taken).
    mutating func empty() {
        rowOfKey.removeAll(keepingCapacity: true)
        sourcePairs.removeAll(keepingCapacity: true)
        destinationPairs.removeAll(keepingCapacity: true)
    }

    /// `table` if it holds `count` keys without growing and is at most four
    /// times the size needed (a quiet hour after a busy one does not keep a
    /// busy hour's memory); nil otherwise.
    static func fitting(_ table: PackedSet?, _ count: Int) -> PackedSet? {
        guard let table, fits(table.capacity, count) else { return nil }
        return table
    }

    static func fitting(_ table: PackedMap?, _ count: Int) -> PackedMap? {
        guard let table, fits(table.capacity, count) else { return nil }
        return table
    }

    private static func fits(_ capacity: Int, _ count: Int) -> Bool {
        holds(capacity, count) && capacity <= 4 * PackedSlots.capacity(for: count)
    }

    /// Whether a table of `capacity` slots takes `count` keys without growing.
    static func holds(_ capacity: Int, _ count: Int) -> Bool {
        capacity >= PackedSlots.capacity(for: count)
    }
}

/// One count-file row's counts in the hour.
public struct RowTotals: Sendable, Equatable {
    public var packets: UInt64 = 0
    /// Distinct sources and destinations (exact, or with a sketch's estimate; see `HourCounts`).
    public var sources: UInt32 = 0
    public var destinations: UInt32 = 0
    public init() {}
    public init(packets: UInt64, sources: UInt32, destinations: UInt32) {
        self.packets = packets
        self.sources = sources
        self.destinations = destinations
    }
}

/// The sketches of one column's rows whose pairs no longer fit the exact
/// set: at most `HourCounts.maximumSketches`, found by row index without
/// hashing.
///
/// A sketch starts as a list of the registers it has set (`listLength` of
/// them in one 64-byte line) and takes 2^`registerBits` bytes of registers
/// only when it needs more: past the pair cap most rows see a few pairs,
/// and a register block per row was 4 KiB for a handful of bytes, 16 MiB a
/// column once the sketches ran out. Registers a list does not hold are
/// zero, so a list's estimate is the one its full registers would give.
/// The full registers of every sketch that has them sit in one block, a
/// sketch's at its number among them times their count.
///
/// Updates are batched: `insert` only notes the pair, and every
/// `batchSize` pairs the batch is applied in two passes, the first finding
/// each pair's register (updating lists, which stay in cache, at once), the
/// second updating full registers with each register's line asked for
/// `prefetchDistance` updates ahead. Past the cap of a busy hour a third of
/// all packets land here, at random in the block: applied one at a time,
/// those misses were an eighth of the sensor's time. A register only ever
/// takes the largest rank it is given, so the order of updates, and the
/// batching, cannot change an estimate.
struct RowSketches {
    static let registerBits = DistinctCount.rowRegisterBits
    static let batchSize = 2048
    static let prefetchDistance = 16
    /// Registers a sketch lists before it takes full registers.
    static let listLength = 15
    /// Words per sketch in `lists`: its registers, then its length (or
    /// `fullMark` and, in word 0, the number of its full registers).
    private static let listWords = 16
    private static let fullMark = UInt32.max
    /// By row index: the row's sketch's index + 1, or 0 (none yet).
    private var sketchOfRow: [Int32] = []
    /// Each sketch's list: `register << 8 | rank` per register it has set.
    private var lists: [UInt32] = []
    private var registers: [UInt8] = []
    /// Sketches with full registers (the block may hold a closed hour's
    /// registers beyond them until the first is made).
    private var fullSketches = 0
    private var rowOfSketch: [Int] = []
    /// Pairs noted and not yet applied, with their rows.
    private var waiting: [(pair: UInt64, row: Int)] = []
    /// A batch's registers to update (kept to be reused).
    private var updates: [(slot: Int, rank: UInt8)] = []

    init() {}

    /// Sketches that start with `block`'s memory (the block of an hour that
    /// has closed: `HourTables`), so that a new hour's sketches do not map
    /// and zero their registers afresh. The block is emptied when the
    /// first full registers are made, not here: here it is still shared
    /// with the tables handed on, and emptying a shared array allocates a
    /// new one.
    init(reusing block: [UInt8]?) {
        if let block { registers = block }
    }

    /// Adds `pair` to `row`'s sketch, made on first use; a row that finds
    /// every sketch taken goes uncounted (its count is a lower bound).
    @inline(__always)
    mutating func insert(_ pair: UInt64, row: Int) {
        if waiting.isEmpty { waiting.reserveCapacity(Self.batchSize) }
        waiting.append((pair, row))
        if waiting.count == Self.batchSize { apply() }
    }

    /// Applies the waiting pairs, in the order they came (which decides
    /// which rows get the sketches while some remain).
    private mutating func apply() {
        guard !waiting.isEmpty else { return }
        // First pass: each pair's register and rank; a listed sketch takes
        // it now, full registers are noted by their slot in the block (a
        // row left without a sketch has none).
        updates.removeAll(keepingCapacity: true)
        for (pair, row) in waiting {
            if row >= sketchOfRow.count { sketchOfRow += repeatElement(0, count: row + 1 - sketchOfRow.count) }
            var index = Int(sketchOfRow[row]) - 1
            if index < 0 {
                guard rowOfSketch.count < HourCounts.maximumSketches else { continue }
                if lists.isEmpty { lists.reserveCapacity(HourCounts.maximumSketches * Self.listWords) }
                lists += repeatElement(0, count: Self.listWords)
                rowOfSketch.append(row)
                index = rowOfSketch.count - 1
                sketchOfRow[row] = Int32(rowOfSketch.count)
            }
            let (register, rank) = HyperLogLog.register(of: pair, registerBits: Self.registerBits)
            if let full = listOrFull(index, register: register, rank: rank) {
                updates.append((full << Self.registerBits | register, rank))
            }
        }
        waiting.removeAll(keepingCapacity: true)
        guard !updates.isEmpty else { return }  // every pair listed, or past the sketches' cap
        // Second pass: the updates, each register's line asked for ahead.
        registers.withUnsafeMutableBufferPointer { registers in
            let base = registers.baseAddress!
            for (number, update) in updates.enumerated() {
                let ahead = number &+ Self.prefetchDistance
                if ahead < updates.count { teiten_prefetch(base + updates[ahead].slot) }
                if update.rank > base[update.slot] { base[update.slot] = update.rank }
            }
        }
    }

    /// Sets `register` to at least `rank` in sketch `index`'s list, moving
    /// the sketch to full registers when the list is full; returns the
    /// number of the sketch's full registers instead when it has them.
    @inline(__always)
    private mutating func listOrFull(_ index: Int, register: Int, rank: UInt8) -> Int? {
        let first = index &* Self.listWords, lengthWord = first &+ Self.listWords &- 1
        let length = lists[lengthWord]
        if length == Self.fullMark { return Int(lists[first]) }
        let entry = UInt32(truncatingIfNeeded: register) << 8 | UInt32(rank)
        for word in first..<(first &+ Int(length)) where lists[word] >> 8 == UInt32(truncatingIfNeeded: register) {
            if lists[word] < entry { lists[word] = entry }
            return nil
        }
        if Int(length) < Self.listLength {
            lists[first &+ Int(length)] = entry
            lists[lengthWord] = length &+ 1
            return nil
        }
        // Full registers: the listed ones, and this one (by the caller).
        if fullSketches == 0 { registers.removeAll(keepingCapacity: true) }  // a reused block's old registers
        if registers.capacity == 0 { registers.reserveCapacity(HourCounts.maximumSketches << Self.registerBits) }
        let full = fullSketches
        fullSketches += 1
        registers += repeatElement(0, count: 1 << Self.registerBits)
        for word in first..<lengthWord {
            registers[full << Self.registerBits | Int(lists[word] >> 8)] = UInt8(truncatingIfNeeded: lists[word])
        }
        lists[first] = UInt32(full)
        lists[lengthWord] = Self.fullMark
        return full
    }

    /// Each sketched row and its estimate (waiting pairs applied first).
    mutating func estimates() -> [(row: Int, count: Int)] {
        apply()
        return rowOfSketch.indices.map { index in
            let first = index * Self.listWords, length = lists[first + Self.listWords - 1]
            if length == Self.fullMark {
                let full = Int(lists[first]) << Self.registerBits
                return (rowOfSketch[index], registers.withUnsafeBufferPointer {
                    HyperLogLog.estimate(UnsafeBufferPointer(rebasing: $0[full..<(full + (1 << Self.registerBits))]))
                })
            }
            // A list's other registers are zero: counted as such, not built.
            return (rowOfSketch[index], withUnsafeTemporaryAllocation(of: Int.self, capacity: 256) { byRank in
                byRank.initialize(repeating: 0)
                byRank[0] = (1 << Self.registerBits) - Int(length)
                for word in lists[first..<(first + Int(length))] { byRank[Int(word & 0xFF)] &+= 1 }
                return HyperLogLog.estimate(byRank: UnsafeBufferPointer(byRank), registerCount: 1 << Self.registerBits)
            })
        }
    }

    /// The register block, for a later hour's sketches (`init(reusing:)`).
    mutating func takeBlock() -> [UInt8] {
        defer { self = RowSketches() }
        return registers
    }

    /// Takes `block` for its registers when it has no full registers of its
    /// own yet (a young hour, adopting the closed hour's tables); `block`
    /// is left empty.
    mutating func adopt(_ block: inout [UInt8]) {
        guard fullSketches == 0, registers.capacity < block.capacity else { return }
        registers = block  // pairs waiting to be applied, and lists, stay
        block = []
    }
}
