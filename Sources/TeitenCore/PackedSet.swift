#if canImport(Glibc)
internal import Glibc
#endif
internal import CPrefetch

/// A set of 64-bit keys in one open-addressed array (linear probing, load at
/// most 0.7), for the per-packet tables that see millions of keys an hour:
/// the hourly cube's (row, address) pairs and the port-surge pairs. Against
/// Swift's `Set`, it hashes with one keyed 64-bit mix instead of SipHash and
/// probes one cache line instead of a bitmap and an element array.
///
/// The hash is keyed with a per-process random seed, so an attacker who
/// chooses source addresses cannot aim them at one probe chain (the tables
/// are keyed by spoofable addresses). A value type with copy-on-write
/// storage, like `Set`: a checkpoint's copy shares it until the next insert.
public struct PackedSet: Sendable {
    private var storage: PackedSlots

    public init(minimumCapacity: Int = 16) {
        storage = PackedSlots(capacity: PackedSlots.capacity(for: minimumCapacity))
    }

    /// A set whose table doubles in place up to `reservingCapacity` slots
    /// (tests: tables do so by themselves once they are large).
    init(minimumCapacity: Int = 16, reservingCapacity: Int) {
        storage = PackedSlots(capacity: PackedSlots.capacity(for: minimumCapacity), reservingCapacity: reservingCapacity)
    }

    public init(_ keys: [UInt64]) {
        self.init(minimumCapacity: keys.count)
        for key in keys { insert(key) }
    }

    public var count: Int { storage.count }

    /// Slots in the table (a power of two; it holds 0.7 of that before growing).
    public var capacity: Int { storage.capacity }

    /// Which table holds the keys: tests check that a table is handed on,
    /// not copied (a copy costs fresh memory, zeroed on first touch).
    var tableIdentity: ObjectIdentifier { ObjectIdentifier(storage) }

    /// Where the slots are (tests check that a table doubles in place).
    var slotsAddress: UInt { storage.address }

    @inline(__always)
    public func contains(_ key: UInt64) -> Bool { storage.find(key).found }

    /// Asks the caches for `key`'s home slot (SensorPipeline's look-ahead).
    @inline(__always)
    public func prefetch(_ key: UInt64) { storage.prefetch(key) }

    /// Inserts `key`; true if it was not there before.
    @inline(__always) @discardableResult
    public mutating func insert(_ key: UInt64) -> Bool {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage.insert(key).inserted
    }

    /// Every key, in no particular order.
    public var elements: [UInt64] { storage.keys() }

    /// Empties the set; keeping the capacity spares regrowing a table that
    /// refills every interval (port surge).
    public mutating func removeAll(keepingCapacity: Bool = false) {
        if keepingCapacity && isKnownUniquelyReferenced(&storage) {
            storage.clear()
        } else {
            storage = PackedSlots(capacity: keepingCapacity ? storage.capacity : 16)
        }
    }
}

/// A map from 64-bit keys to 32-bit values, built like `PackedSet` (the
/// hourly cube's row index by packed row key).
public struct PackedMap: Sendable {
    private var storage: PackedSlots

    public init(minimumCapacity: Int = 16) {
        storage = PackedSlots(capacity: PackedSlots.capacity(for: minimumCapacity), withValues: true)
    }

    /// A map whose table doubles in place up to `reservingCapacity` slots (tests).
    init(minimumCapacity: Int = 16, reservingCapacity: Int) {
        storage = PackedSlots(capacity: PackedSlots.capacity(for: minimumCapacity), withValues: true,
                              reservingCapacity: reservingCapacity)
    }

    public var count: Int { storage.count }

    @inline(__always)
    public func prefetch(_ key: UInt64) { storage.prefetch(key) }

    @inline(__always)
    public subscript(key: UInt64) -> Int32? {
        let (found, slot) = storage.find(key)
        return found ? storage.value(at: slot) : nil
    }

    /// Sets `key`'s value (inserting it if new).
    @inline(__always)
    public mutating func set(_ key: UInt64, _ value: Int32) {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        let slot = storage.insert(key).slot
        storage.setValue(value, at: slot)
    }

    /// Slots in the table (a power of two; it holds 0.7 of that before growing).
    public var capacity: Int { storage.capacity }

    /// Empties the map; `keepingCapacity` keeps (and zeroes) its memory for
    /// reuse, as `PackedSet.removeAll(keepingCapacity:)` does.
    public mutating func removeAll(keepingCapacity: Bool = false) {
        if keepingCapacity && isKnownUniquelyReferenced(&storage) {
            storage.clear()
        } else {
            storage = PackedSlots(capacity: keepingCapacity ? storage.capacity : 16, withValues: true)
        }
    }
}

/// The slots behind `PackedSet` and `PackedMap`. Slot value 0 means empty;
/// the key 0 itself lives in a side slot (index `capacity`).
///
/// A map keeps each value beside its key (two words a slot, `shift` 1), so
/// that a lookup reads one cache line, not a key line and a value line;
/// a set keeps keys only (`shift` 0).
final class PackedSlots: @unchecked Sendable {  // mutated only through a uniquely referenced owner
    private var memory: ZeroedMemory
    /// Slot `i`'s key at word `i << shift`, its value (maps) in the word after.
    private var words: UnsafeMutablePointer<UInt64>
    private let shift: Int
    /// Slots of a 64-byte line, less one (`home` clears these bits).
    private let lineMask: Int
    private var mask: Int
    private(set) var count = 0
    private var hasZero = false
    /// Per-process key for the hash (see `PackedSet`).
    private static let processSeed: UInt64 = UInt64.random(in: 1...UInt64.max)
    /// `processSeed`, read once: a global behind a lazy initializer costs a
    /// `swift_once` call per read, and `home` is read per packet.
    private let seed = PackedSlots.processSeed

    static func capacity(for count: Int) -> Int {
        var capacity = 16
        while capacity * 7 < max(count, 1) * 10 { capacity <<= 1 }
        return capacity
    }

    /// `reservingCapacity`: slots the table may double to in place.
    init(capacity: Int, withValues: Bool = false, reservingCapacity: Int = 0) {
        mask = capacity - 1
        shift = withValues ? 1 : 0
        lineMask = ((ZeroedMemory.line / MemoryLayout<UInt64>.stride) >> shift) - 1
        memory = ZeroedMemory(bytes: Self.bytes(slots: capacity, shift: shift),
                              reserving: Self.bytes(slots: reservingCapacity, shift: shift), hugePages: false)
        words = memory.base.bindMemory(to: UInt64.self, capacity: memory.capacity / MemoryLayout<UInt64>.stride)
        setPrefaultMark()
    }

    /// The bytes a table of `slots` slots takes, its side slot included
    /// (the words of slot `slots`, where the key 0 lives).
    private static func bytes(slots: Int, shift: Int) -> Int { ((slots + 1) << shift) * MemoryLayout<UInt64>.stride }

    deinit { memory.release() }

    var capacity: Int { mask + 1 }

    var address: UInt { UInt(bitPattern: words) }

    private var wordCount: Int { (mask + 2) << shift }

    func clear() {
        words.update(repeating: 0, count: wordCount)
        count = 0
        hasZero = false
    }

    /// A copy with the same room to grow in place.
    func copy() -> PackedSlots {
        let memoryWords = memory.capacity / MemoryLayout<UInt64>.stride
        let reservedSlots = memory.capacity > Self.bytes(slots: mask + 1, shift: shift) ? (memoryWords >> shift) - 1 : 0
        let copy = PackedSlots(capacity: mask + 1, withValues: shift == 1, reservingCapacity: reservedSlots)
        copy.words.update(from: words, count: wordCount)
        copy.count = count
        copy.hasZero = hasZero
        return copy
    }

    /// A key's home is the first slot of a 64-byte line (8 slots in a set,
    /// 4 in a map): a search runs on from it until it meets the key or an
    /// empty slot, and from a line's start it nearly always ends within the
    /// line (a line's share of keys is over 8 only at the highest loads), so
    /// the look-ahead asks for one line per key. From a home anywhere in the
    /// line, a search for a new key (six slots on average at a load of 0.7)
    /// often ran into the next line, which the look-ahead had not asked for:
    /// half the inserts still waited for memory.
    @inline(__always)
    private func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: KeyHash.mix(key ^ seed)) & mask & ~lineMask }


    @inline(__always)
    private func key(at slot: Int) -> UInt64 { words[slot << shift] }

    @inline(__always)
    func prefetch(_ key: UInt64) { teiten_prefetch(words + (home(key) << shift)) }

    /// Where `key` is, or the empty slot where it would go.
    @inline(__always)
    func find(_ key: UInt64) -> (found: Bool, slot: Int) {
        if key == 0 { return (hasZero, mask + 1) }
        var slot = home(key)
        while true {
            let held = self.key(at: slot)
            if held == key { return (true, slot) }
            if held == 0 { return (false, slot) }
            slot = (slot + 1) & mask
        }
    }

    @inline(__always)
    func insert(_ key: UInt64) -> (inserted: Bool, slot: Int) {
        let (found, slot) = find(key)
        if found { return (false, slot) }
        if key == 0 {
            hasZero = true
            count += 1
            return (true, slot)
        }
        if (count + 1) * 10 > (mask + 1) * 7 {
            grow()
            return insert(key)
        }
        words[slot << shift] = key
        count += 1
        if count == prefaultMark { prefaultNextHalf() }
        return (true, slot)
    }

    /// The count at which the half the table will next double into is
    /// asked for (`IdlePrefault`): 85 % of the way to doubling, so that a
    /// table which stops short of it (an hour's sources, a set at its cap)
    /// commits nothing it will not use. -1: never (no room to double in place).
    private var prefaultMark = -1

    private func setPrefaultMark() {
        let next = Self.bytes(slots: (mask + 1) * 2, shift: shift)
        prefaultMark = next >= ZeroedMemory.largeBlock && next <= memory.capacity ? (mask + 1) * 7 / 10 * 85 / 100 : -1
    }

    private func prefaultNextHalf() {
        let from = ((mask + 1) << shift) * MemoryLayout<UInt64>.stride  // the words of slots 0..<capacity
        IdlePrefault.shared.request(UnsafeMutableRawPointer(words) + from,
                                    bytes: Self.bytes(slots: (mask + 1) * 2, shift: shift) - from)
    }

    /// A map's value in `slot` (the zero key's in the side slot).
    @inline(__always) func value(at slot: Int) -> Int32 { Int32(truncatingIfNeeded: words[slot << 1 | 1]) }
    @inline(__always) func setValue(_ value: Int32, at slot: Int) { words[slot << 1 | 1] = UInt64(UInt32(bitPattern: value)) }

    func keys() -> [UInt64] {
        var keys: [UInt64] = []
        keys.reserveCapacity(count)
        if hasZero { keys.append(0) }
        for slot in 0...mask where key(at: slot) != 0 { keys.append(key(at: slot)) }
        return keys
    }

    /// A table this big or bigger gets address space to grow in place to
    /// `reserveFactor` times its size, four doublings (`ZeroedMemory`'s
    /// reservation), before it must move: an hour's pair sets grow to 32 MiB each, and moving at
    /// every doubling touched twice that in fresh memory, which a VM zeroes
    /// and commits at a page fault a page (a seventh of the capture
    /// thread's time on the benchmark).
    static let reserveFactor = 16

    /// Doubles the table: in place where its memory has room, else into a
    /// new block (with room to double in place later, when it is large).
    private func grow() {
        let capacity = (mask + 1) * 2
        let bytes = Self.bytes(slots: capacity, shift: shift)
        if bytes <= memory.capacity {
            doubleInPlace()
        } else {
            let reserve = bytes >= ZeroedMemory.largeBlock ? bytes * Self.reserveFactor : 0
            moveAll(to: ZeroedMemory(bytes: bytes, reserving: reserve, hugePages: false), capacity: capacity)
        }
        setPrefaultMark()
    }

    /// Rehashes every key (and its value) into `memory`, sized for `capacity` slots.
    private func moveAll(to memory: ZeroedMemory, capacity: Int) {
        let oldWords = words, oldMemory = self.memory, oldCapacity = mask + 1
        self.memory = memory
        words = memory.base.bindMemory(to: UInt64.self, capacity: memory.capacity / MemoryLayout<UInt64>.stride)
        mask = capacity - 1
        if shift == 1 { words[capacity << 1 | 1] = oldWords[oldCapacity << 1 | 1] }  // the zero key's value
        for old in 0..<oldCapacity where oldWords[old << shift] != 0 {
            place(oldWords[old << shift], value: shift == 1 ? oldWords[old << 1 | 1] : 0)
        }
        oldMemory.release()
    }

    /// Doubles the table within its memory. Keys whose home moves go to the
    /// new upper half; the others close up the gaps this leaves.
    ///
    /// Why this order is safe: apart from the run of keys at slot 0 (which
    /// may have wrapped around the old end, and are taken out first and put
    /// back last), every key sits at or after its home with no empty slot
    /// between. Taking the keys in slot order, each goes to its new home or
    /// the first free slot after it: in the lower half that is at most its
    /// old slot, which has just been emptied; in the upper half, only keys
    /// already placed are met. So a key is only ever placed among keys
    /// already placed, and a slot is only emptied where no placed key's
    /// probe path runs: every probe path stays unbroken.
    private func doubleInPlace() {
        let oldCapacity = mask + 1, capacity = oldCapacity * 2
        let zeroValue = shift == 1 ? words[oldCapacity << 1 | 1] : 0
        if shift == 1 { words[oldCapacity << 1 | 1] = 0 }  // the old side slot is a slot of the new upper half
        var leading: [(key: UInt64, value: UInt64)] = []
        var slot = 0
        while key(at: slot) != 0 {  // ends: the table is at most 0.7 full
            leading.append((key(at: slot), take(slot)))
            slot += 1
        }
        mask = capacity - 1
        for old in slot..<oldCapacity where key(at: old) != 0 {
            let held = key(at: old)
            place(held, value: take(old))
        }
        for (key, value) in leading { place(key, value: value) }
        if shift == 1 { words[capacity << 1 | 1] = zeroValue }
    }

    /// Empties `slot`, returning its value (0 for a set).
    @inline(__always)
    private func take(_ slot: Int) -> UInt64 {
        words[slot << shift] = 0
        guard shift == 1 else { return 0 }
        defer { words[slot << 1 | 1] = 0 }
        return words[slot << 1 | 1]
    }

    /// Puts a key known to be absent (not 0) in the first free slot from its home.
    @inline(__always)
    private func place(_ key: UInt64, value: UInt64) {
        var slot = home(key)
        while self.key(at: slot) != 0 { slot = (slot + 1) & mask }
        words[slot << shift] = key
        if shift == 1 { words[slot << 1 | 1] = value }
    }
}
