/// Counts distinct elements per key within a sliding window of packet time,
/// exactly, in fixed memory: the building block of every scan detector.
///
/// Each tracked key owns up to `capacity` entries (element, last time
/// seen), where `capacity` is the detector's threshold: a key needs no more
/// to tell whether the threshold is reached, because once it is, the alert
/// ledger takes over the counting. A key's live entries are kept packed;
/// expired ones are swapped out as they are met, so observing a key costs as
/// much as its live elements, and the window slides with every packet: a
/// scan that straddles any minute, hour or window boundary is still seen.
///
/// Keys live in a set-associative table (scanlogd's fixed hash table): four
/// ways per bucket of two adjacent cache lines, and a new key takes the
/// stalest way of its bucket. An evicted key that was still within its
/// window is counted in `evictions`. A spoofed flood of fresh sources
/// churns the table but never grows it.
///
/// Most keys a sensor sees hold one element in their window (every probe of
/// a sweeper is a new (source, destination) key for the vertical detector
/// and a new (destination, port) key for the flood detector), so a key's
/// first entry lives in its way, beside the key: a key with one element
/// costs its bucket and nothing more. A window that holds two entries or
/// more takes a region of `capacity` entries from a pool, and gives it back
/// when it is down to one entry again or its way goes to another key.
/// There are as many regions as ways, so a window never lacks one; but
/// regions given back are taken again first, so the memory a run touches
/// is that of the most windows that held two entries at once, not that of
/// every way that ever did (with a region fixed to each way, keys passing
/// through a busy table touched all of them: a fifth of the sensor's
/// memory, paid for at first touch). The tables are bound by memory, not
/// instructions; lines and pages are what this layout saves. (Two ways
/// per one-line bucket were a few per cent faster still, but evicted more
/// live keys under churn and missed some scans the four ways see.)
///
/// The arrays come zeroed (`ZeroedStorage`), and all-zero means empty: the
/// kernel commits a page only when a key first lands in it, so a short run
/// or a quiet sensor does not pay for the whole table.
struct WindowTable {
    static let ways = 4

    /// A key and its window's head, 32 bytes: four of them make a bucket.
    private struct Way {
        /// The key's identity in bits 10–63 (its bucket holds bits 0–9 and
        /// more, so together they are the whole key); bits 0–7: live
        /// entries; bit 8: the region holds the packet count's high half;
        /// bit 9: the entries are in a region. 0: the way is empty.
        var word: UInt64 = 0
        var lastSeen: Int64 = 0
        /// Entry 0 of the window, while it has no region.
        var firstTime: Int64 = 0
        /// Entry 0's element, or the number of the window's region.
        var firstElement: UInt32 = 0
        /// Packets seen for the key since its window was last empty (low 32 bits).
        var packets: UInt32 = 0
    }

    /// An entry of a window in a region; the entry after a region's
    /// `capacity` entries holds, in `time`, the high half of the key's
    /// packet count.
    ///
    /// Twelve bytes, the time in two 32-bit halves: with an `Int64` field
    /// the entry would be aligned to 16 bytes, a quarter of it padding.
    private struct Entry {
        private var timeLow: UInt32 = 0
        private var timeHigh: UInt32 = 0
        var element: UInt32 = 0

        init(time: Int64, element: UInt32) {
            self.element = element
            self.time = time
        }

        var time: Int64 {
            @inline(__always) get { Int64(bitPattern: UInt64(timeHigh) << 32 | UInt64(timeLow)) }
            @inline(__always) set {
                timeLow = UInt32(truncatingIfNeeded: newValue)
                timeHigh = UInt32(truncatingIfNeeded: UInt64(bitPattern: newValue) >> 32)
            }
        }
    }

    private static let countMask: UInt64 = 0xFF
    private static let highPacketsFlag: UInt64 = 0x100
    private static let regionFlag: UInt64 = 0x200
    private static let identityMask: UInt64 = ~0x3FF

    let capacity: Int
    let windowNanoseconds: Int64
    /// Buckets − 1 (a power of two; at least 1,024 buckets, so that the
    /// bucket index covers the bits the way's word lends to its counters).
    private let bucketMask: Int
    /// Entries per region: `capacity`, then the high packet count. (Not
    /// rounded to whole cache lines: a region starting mid-line costs a
    /// line more at most, and rounding cost memory in every region.)
    private let regionSize: Int
    private let tableStorage: ZeroedStorage<Way>
    private let regionStorage: ZeroedStorage<Entry>
    /// Regions given back, taken again last in, first out.
    private let freeRegions: ZeroedStorage<UInt32>
    private var freeCount = 0
    /// Regions taken from the pool's unused end so far.
    private(set) var regionsOpened = 0
    /// Regions asked to be committed ahead of use (`IdlePrefault`): the
    /// first write to a fresh page commits it, a 2 MiB huge page at a time,
    /// and on the detection thread those commits were a twentieth of its
    /// time (in a VM, about 2.6 ms a MiB).
    private(set) var regionsPrefaulted = 0
    private var table: UnsafeMutablePointer<Way> { tableStorage.base }
    private(set) var evictions: UInt64 = 0

    /// Capacities are capped here: a way counts its entries in one byte.
    static let maximumCapacity = 255

    init(capacity: Int, windowSeconds: Int, maximumKeys: Int) {
        precondition(MemoryLayout<Way>.stride * Self.ways == 128, "a bucket is two cache lines")
        self.capacity = min(Self.maximumCapacity, max(1, capacity))
        windowNanoseconds = Int64(windowSeconds) * 1_000_000_000
        var count = Self.ways * 1024
        while count < maximumKeys { count <<= 1 }
        bucketMask = count / Self.ways - 1
        precondition(MemoryLayout<Entry>.stride == Self.entryBytes, "an entry is twelve bytes")
        regionSize = self.capacity + 1
        tableStorage = ZeroedStorage(count: count)
        regionStorage = ZeroedStorage(count: count * regionSize)
        freeRegions = ZeroedStorage(count: count)
        // The buckets fill at random, so under any load every page of them
        // is soon written (with huge pages, the first key writes them all).
        tableStorage.prefault(0..<count)
    }

    /// Look-ahead, first step: the key's bucket, both its lines (DetectionWorker).
    @inline(__always)
    func prefetchBucket(_ key: UInt64) {
        let bucket = Self.bucket(Self.stored(key), mask: bucketMask)
        tableStorage.prefetch(bucket)
        tableStorage.prefetch(bucket &+ Self.ways / 2)
    }

    /// Look-ahead, second step (the bucket is in cache by now): the first
    /// lines of the key's region, when its window has one (up to its last
    /// live entry, or the eleventh). A new key and a key with one entry
    /// need nothing more than their bucket.
    @inline(__always)
    func prefetchWindow(_ key: UInt64) {
        guard let slot = find(Self.stored(key)), table[slot].word & Self.regionFlag != 0 else { return }
        let count = Int(table[slot].word & Self.countMask)
        let first = Int(table[slot].firstElement) &* regionSize
        regionStorage.prefetch(first)
        if count > 1 { regionStorage.prefetch(first &+ Swift.min(count &- 1, 10)) }
    }

    /// Records `element` for `key` at `time`; returns how many distinct
    /// elements the key has within the window ending at `time` (at most
    /// `capacity`). `key` must already be well mixed (KeyHash).
    mutating func observe(key: UInt64, element: UInt32, at time: Int64) -> Int {
        let key = Self.stored(key)
        let slot = find(key) ?? claim(key, at: time)
        let cutoff = time &- windowNanoseconds
        let way = table + slot
        var count = Int(way.pointee.word & Self.countMask)
        var found = false
        // Expired entries go (the last live entry takes an expired one's
        // place); the element is looked for among the live ones.
        if way.pointee.word & Self.regionFlag != 0 {
            let region = self.region(way)
            var index = 0
            while index < count {
                let entryTime = region[index].time
                if entryTime <= cutoff {
                    count &-= 1
                    region[index] = region[count]
                    continue
                }
                if region[index].element == element {
                    found = true
                    if time > entryTime { region[index].time = time }
                }
                index &+= 1
            }
        } else if count == 1 {
            if way.pointee.firstTime <= cutoff {
                count = 0
            } else if way.pointee.firstElement == element {
                found = true
                if time > way.pointee.firstTime { way.pointee.firstTime = time }
            }
        }
        if count == 0 {
            way.pointee.packets = 1
            way.pointee.word &= ~Self.highPacketsFlag
        } else {
            countPacket(way, entries: count)
        }
        if !found && count < capacity {
            if way.pointee.word & Self.regionFlag != 0 {
                region(way)[count] = Entry(time: time, element: element)
            } else if count == 0 {
                way.pointee.firstTime = time
                way.pointee.firstElement = element
            } else {
                openRegion(way, entries: count)[count] = Entry(time: time, element: element)
            }
            count &+= 1
        }
        if count <= 1 && way.pointee.word & (Self.regionFlag | Self.highPacketsFlag) == Self.regionFlag {
            closeRegion(way, entries: count)
        }
        if time > way.pointee.lastSeen { way.pointee.lastSeen = time }
        way.pointee.word = way.pointee.word & ~Self.countMask | UInt64(count)
        return count
    }

    /// One more packet for a key whose window holds `entries`: the low half
    /// counts in the way, and its wrap-around (four billion packets in one
    /// window) carries into the region's last entry.
    @inline(__always)
    private mutating func countPacket(_ way: UnsafeMutablePointer<Way>, entries: Int) {
        let (low, wrapped) = way.pointee.packets.addingReportingOverflow(1)
        way.pointee.packets = low
        guard wrapped else { return }
        if way.pointee.word & Self.regionFlag == 0 { _ = openRegion(way, entries: entries) }
        let high = region(way) + capacity
        if way.pointee.word & Self.highPacketsFlag == 0 {
            way.pointee.word |= Self.highPacketsFlag
            high.pointee.time = 1
        } else {
            high.pointee.time &+= 1
        }
    }

    /// Gives the window a region and moves its `entries` (0 or 1) there.
    private mutating func openRegion(_ way: UnsafeMutablePointer<Way>, entries: Int) -> UnsafeMutablePointer<Entry> {
        let number: UInt32
        if freeCount > 0 {
            freeCount &-= 1
            number = freeRegions[freeCount]
        } else {
            // A way holds one region at most, and takes a new one only when
            // none is free: the pool never runs out.
            precondition(regionsOpened < freeRegions.count, "a window region was not given back")
            number = UInt32(truncatingIfNeeded: regionsOpened)
            regionsOpened &+= 1
            if regionsOpened > regionsPrefaulted &- regionsPerPrefault / 2 && regionsPrefaulted < regionCount {
                prefaultRegions()
            }
        }
        let first = Entry(time: way.pointee.firstTime, element: way.pointee.firstElement)
        way.pointee.firstElement = number
        way.pointee.word |= Self.regionFlag
        let region = region(way)
        if entries > 0 { region[0] = first }
        return region
    }

    private static let entryBytes = 12
    /// Region memory asked for at a time, half of it ahead of use.
    static let prefaultRegionBytes = 2 << 20

    /// Regions in the pool (as many as ways).
    var regionCount: Int { freeRegions.count }

    /// Regions asked for at a time; the next are asked for when half of them are taken.
    var regionsPerPrefault: Int { Swift.max(2, Self.prefaultRegionBytes / Self.entryBytes / regionSize) }

    /// Asks for the next regions of the pool's unused end to be committed.
    private mutating func prefaultRegions() {
        let from = Swift.max(regionsPrefaulted, regionsOpened)
        regionsPrefaulted = Swift.min(regionCount, from &+ regionsPerPrefault)
        regionStorage.prefault(from &* regionSize..<regionsPrefaulted &* regionSize)
    }

    /// Gives the window's region back, its `entries` (0 or 1) moving into the way.
    private mutating func closeRegion(_ way: UnsafeMutablePointer<Way>, entries: Int) {
        let number = way.pointee.firstElement
        if entries > 0 {
            let entry = region(way)[0]
            way.pointee.firstTime = entry.time
            way.pointee.firstElement = entry.element
        }
        freeRegions[freeCount] = number
        freeCount &+= 1
        way.pointee.word &= ~(Self.regionFlag | Self.highPacketsFlag)
    }

    /// What a window held when its key crossed the threshold.
    typealias Snapshot = (elements: [UInt64], firstSeen: Int64, packets: UInt64)

    /// Records `element` for `key`; when the key's distinct count reaches
    /// `threshold`, returns what the window held and forgets it (the episode
    /// that opens now counts from here). Nil below the threshold.
    mutating func crossing(key: UInt64, element: UInt32, at time: Int64, threshold: Int) -> Snapshot? {
        guard observe(key: key, element: element, at: time) >= threshold else { return nil }
        let window = snapshot(key: key, at: time)
        reset(key: key)
        return window
    }

    /// What the window holds for `key` at `time`: its live elements, the
    /// earliest time among them, and the packets since the window was empty.
    func snapshot(key: UInt64, at time: Int64) -> Snapshot {
        guard let slot = find(Self.stored(key)) else { return ([], time, 0) }
        let cutoff = time &- windowNanoseconds
        let way = table + slot
        let inRegion = way.pointee.word & Self.regionFlag != 0
        var live: [UInt64] = []
        var first = time
        for index in 0..<Int(way.pointee.word & Self.countMask) {
            let entry = inRegion ? region(way)[index] : Entry(time: way.pointee.firstTime, element: way.pointee.firstElement)
            guard entry.time > cutoff else { continue }
            live.append(UInt64(entry.element))
            first = min(first, entry.time)
        }
        let high = way.pointee.word & Self.highPacketsFlag == 0 ? 0 : UInt64(bitPattern: region(way)[capacity].time)
        return (live, first, high << 32 | UInt64(way.pointee.packets))
    }

    /// Sets the packet count of `key`'s window (which must hold an entry);
    /// for tests of the count's carry, which real traffic reaches only
    /// after four billion packets of one key.
    mutating func presetPackets(key: UInt64, to packets: UInt64) {
        guard let slot = find(Self.stored(key)) else { return }
        let way = table + slot
        way.pointee.packets = UInt32(truncatingIfNeeded: packets)
        if packets >> 32 == 0 {
            way.pointee.word &= ~Self.highPacketsFlag
            let count = Int(way.pointee.word & Self.countMask)
            if count <= 1 && way.pointee.word & Self.regionFlag != 0 { closeRegion(way, entries: count) }
        } else {
            if way.pointee.word & Self.regionFlag == 0 { _ = openRegion(way, entries: Int(way.pointee.word & Self.countMask)) }
            way.pointee.word |= Self.highPacketsFlag
            region(way)[capacity].time = Int64(packets >> 32)
        }
    }

    /// Forgets a key's window (its episode has started; the ledger counts from here).
    mutating func reset(key: UInt64) {
        guard let slot = find(Self.stored(key)) else { return }
        clearWindow(table + slot)
    }

    /// Empties a way's window (the key stays), its region given back.
    @inline(__always)
    private mutating func clearWindow(_ way: UnsafeMutablePointer<Way>) {
        if way.pointee.word & Self.regionFlag != 0 { closeRegion(way, entries: 0) }
        way.pointee.word &= Self.identityMask
        way.pointee.packets = 0
    }

    /// The window's region (its way must have one).
    @inline(__always)
    private func region(_ way: UnsafeMutablePointer<Way>) -> UnsafeMutablePointer<Entry> {
        regionStorage.base + Int(way.pointee.firstElement) &* regionSize
    }

    /// Key 0 marks an empty way; a real key whose identity bits are all 0
    /// (one in 2^54) is stored with its top bit set.
    @inline(__always)
    private static func stored(_ key: UInt64) -> UInt64 { key & identityMask == 0 ? key | 1 << 63 : key }

    @inline(__always)
    private static func bucket(_ key: UInt64, mask: Int) -> Int { (Int(truncatingIfNeeded: key) & mask) &* ways }

    @inline(__always)
    private func find(_ key: UInt64) -> Int? {
        let first = Self.bucket(key, mask: bucketMask)
        let identity = key & Self.identityMask
        for slot in first..<(first &+ Self.ways) where table[slot].word & Self.identityMask == identity {
            return slot
        }
        return nil
    }

    /// The slot a new key takes: the stalest of its bucket's ways (an empty one first).
    @inline(__always)
    private func victim(for key: UInt64) -> Int {
        let first = Self.bucket(key, mask: bucketMask)
        var victim = first
        for slot in first..<(first &+ Self.ways) {
            if table[slot].word == 0 { return slot }
            if table[slot].lastSeen < table[victim].lastSeen { victim = slot }
        }
        return victim
    }

    private mutating func claim(_ key: UInt64, at time: Int64) -> Int {
        let victim = victim(for: key)
        let old = table + victim
        if old.pointee.word != 0 && old.pointee.lastSeen > time &- windowNanoseconds && old.pointee.word & Self.countMask > 0 {
            evictions &+= 1
        }
        if old.pointee.word & Self.regionFlag != 0 { closeRegion(old, entries: 0) }
        old.pointee = Way(word: key & Self.identityMask, lastSeen: time)
        return victim
    }
}
