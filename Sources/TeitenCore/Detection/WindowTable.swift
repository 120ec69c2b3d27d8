/// Counts distinct elements per key within a sliding window of packet time,
/// exactly, in fixed memory: the building block of every scan detector.
///
/// Each tracked key owns a slot of `capacity` entries (element, last time
/// seen), where `capacity` is the detector's threshold: a key needs no more
/// to tell whether the threshold is reached, because once it is, the alert
/// ledger takes over the counting. A slot keeps its live entries packed at
/// the front; expired ones are swapped out as they are met, so observing a
/// key costs as much as its live elements, and the window slides with every
/// packet: a scan that straddles any minute, hour or window boundary is
/// still seen.
///
/// Keys live in a set-associative table (scanlogd's fixed hash table, with
/// four ways per bucket, one cache line a bucket): a key can only be in the
/// four slots of its bucket;
/// a new key takes the stalest of them. An evicted key that was still within
/// its window is counted in `evictions`. A spoofed flood of fresh sources
/// churns the table but never grows it.
///
/// A key can own two windows (`secondCapacity`), counted separately (the
/// block-scan detector's ports and targets of one source): one bucket
/// lookup, one claim and one eviction then serve both.
///
/// The arrays come zeroed (`ZeroedStorage`), and all-zero means
/// empty: the kernel commits a page only when a key first lands in it, so a
/// short run or a quiet sensor does not pay for the whole table.
struct WindowTable {
    static let ways = 4

    /// A key and when it was last seen: four of them make one 64-byte
    /// bucket, so finding a key costs one cache line. Key 0 means empty
    /// (`stored` moves a real key 0 aside).
    private struct Slot {
        var key: UInt64 = 0
        var lastSeen: Int64 = 0
    }

    /// One element of a key's window, or (the first entry of every slot's
    /// region) the slot's head: `time` holds the packets seen for the key
    /// since its window was last empty, `element` how many entries are live.
    private struct Entry {
        var time: Int64 = 0
        var element: UInt32 = 0
    }

    let capacity: Int
    /// The second window's capacity; 0 when keys have one window.
    let secondCapacity: Int
    let windowNanoseconds: Int64
    /// Buckets − 1; the table has `ways` slots per bucket, a power of two in all.
    private let bucketMask: Int
    /// Entries per slot: the head, then `capacity` elements; then, with a
    /// second window, its head and `secondCapacity` elements.
    private let regionSize: Int
    private let tableStorage: ZeroedStorage<Slot>
    private let entryStorage: ZeroedStorage<Entry>
    private var table: UnsafeMutablePointer<Slot> { tableStorage.base }
    private var entries: UnsafeMutablePointer<Entry> { entryStorage.base }
    private(set) var evictions: UInt64 = 0

    init(capacity: Int, windowSeconds: Int, maximumKeys: Int, secondCapacity: Int? = nil) {
        self.capacity = min(255, max(1, capacity))
        self.secondCapacity = secondCapacity.map { min(255, max(1, $0)) } ?? 0
        windowNanoseconds = Int64(windowSeconds) * 1_000_000_000
        var count = Self.ways * 16
        while count < maximumKeys { count <<= 1 }
        bucketMask = count / Self.ways - 1
        regionSize = self.capacity + 1 + (self.secondCapacity > 0 ? self.secondCapacity + 1 : 0)
        tableStorage = ZeroedStorage(count: count)
        entryStorage = ZeroedStorage(count: count * regionSize)
    }

    /// Look-ahead, first step: the key's bucket (SensorPipeline).
    @inline(__always)
    func prefetchBucket(_ key: UInt64) {
        tableStorage.prefetch(Self.bucket(Self.stored(key), mask: bucketMask))
    }

    /// Look-ahead, second step (the bucket is in cache by now): the first
    /// lines of the key's window, or of the slot a new key will take.
    @inline(__always)
    func prefetchWindow(_ key: UInt64) {
        let key = Self.stored(key)
        let slot = find(key) ?? victim(for: key)
        entryStorage.prefetch(slot &* regionSize)  // the head and the first three elements
        if secondCapacity > 0 { entryStorage.prefetch(slot &* regionSize &+ capacity &+ 1) }
    }

    /// Where window `second ? 1 : 0` of a slot starts (its head), and how many elements it holds at most.
    @inline(__always)
    private func window(_ slot: Int, second: Bool) -> (head: Int, capacity: Int) {
        second ? (slot &* regionSize &+ capacity &+ 1, secondCapacity) : (slot &* regionSize, capacity)
    }

    /// Records `element` for `key` at `time`; returns how many distinct
    /// elements the key has within the window ending at `time` (at most
    /// `capacity`). `key` must already be well mixed (KeyHash). `second`:
    /// the key's second window.
    mutating func observe(key: UInt64, element: UInt32, at time: Int64, second: Bool = false) -> Int {
        let key = Self.stored(key)
        let slot = find(key) ?? claim(key, at: time)
        let cutoff = time &- windowNanoseconds
        let (head, capacity) = window(slot, second: second)
        let base = head &+ 1
        let entries = self.entries
        let live: Int
        do {
            var index = base
            var end = base &+ Int(entries[head].element)
            var found = false
            while index < end {
                if entries[index].time <= cutoff {  // expired: swap the last live entry in
                    end &-= 1
                    entries[index] = entries[end]
                    continue
                }
                if entries[index].element == element {
                    found = true
                    if time > entries[index].time { entries[index].time = time }
                }
                index &+= 1
            }
            entries[head].time = end == base ? 1 : entries[head].time &+ 1
            if !found && end < base &+ capacity {
                entries[end] = Entry(time: time, element: element)
                end &+= 1
            }
            live = end &- base
        }
        if time > table[slot].lastSeen { table[slot].lastSeen = time }
        entries[head].element = UInt32(truncatingIfNeeded: live)
        return live
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
    func snapshot(key: UInt64, at time: Int64, second: Bool = false) -> Snapshot {
        guard let slot = find(Self.stored(key)) else { return ([], time, 0) }
        let cutoff = time &- windowNanoseconds
        var live: [UInt64] = []
        var first = time
        let head = window(slot, second: second).head
        for index in (head + 1)..<(head + 1 + Int(entries[head].element)) where entries[index].time > cutoff {
            live.append(UInt64(entries[index].element))
            first = min(first, entries[index].time)
        }
        return (live, first, UInt64(entries[head].time))
    }

    /// Forgets a key's windows (its episode has started; the ledger counts from here).
    mutating func reset(key: UInt64) {
        guard let slot = find(Self.stored(key)) else { return }
        clearWindows(slot)
    }

    @inline(__always)
    private func clearWindows(_ slot: Int) {
        entries[window(slot, second: false).head] = Entry()
        if secondCapacity > 0 { entries[window(slot, second: true).head] = Entry() }
    }

    /// Key 0 marks an empty slot; a real key 0 (one in 2^64) is stored as 1.
    @inline(__always)
    private static func stored(_ key: UInt64) -> UInt64 { key == 0 ? 1 : key }

    @inline(__always)
    private static func bucket(_ key: UInt64, mask: Int) -> Int { (Int(truncatingIfNeeded: key) & mask) &* ways }

    @inline(__always)
    private func find(_ key: UInt64) -> Int? {
        let first = Self.bucket(key, mask: bucketMask)
        for slot in first..<(first &+ Self.ways) where table[slot].key == key {
            return slot
        }
        return nil
    }

    /// The slot a new key takes: the stalest of its bucket's four (an empty one first).
    @inline(__always)
    private func victim(for key: UInt64) -> Int {
        let first = Self.bucket(key, mask: bucketMask)
        var victim = first
        for slot in first..<(first &+ Self.ways) {
            if table[slot].key == 0 { return slot }
            if table[slot].lastSeen < table[victim].lastSeen { victim = slot }
        }
        return victim
    }

    private mutating func claim(_ key: UInt64, at time: Int64) -> Int {
        let victim = victim(for: key)
        let old = table[victim]
        let head = victim * regionSize
        if old.key != 0 && old.lastSeen > time &- windowNanoseconds && entries[head].element > 0 {
            evictions &+= 1
        }
        table[victim] = Slot(key: key, lastSeen: time)
        clearWindows(victim)
        return victim
    }
}
