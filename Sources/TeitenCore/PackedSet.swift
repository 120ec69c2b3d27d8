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
    private var mask: Int
    private(set) var count = 0
    private var hasZero = false
    /// Per-process key for the hash (see `PackedSet`).
    private static let seed: UInt64 = UInt64.random(in: 1...UInt64.max)

    static func capacity(for count: Int) -> Int {
        var capacity = 16
        while capacity * 7 < max(count, 1) * 10 { capacity <<= 1 }
        return capacity
    }

    init(capacity: Int, withValues: Bool = false) {
        mask = capacity - 1
        shift = withValues ? 1 : 0
        (memory, words) = Self.allocate(words: (capacity + 1) << shift)
    }

    deinit { memory.release() }

    private static func allocate(words count: Int) -> (ZeroedMemory, UnsafeMutablePointer<UInt64>) {
        let memory = ZeroedMemory(bytes: count * MemoryLayout<UInt64>.stride)
        return (memory, memory.base.bindMemory(to: UInt64.self, capacity: count))
    }

    var capacity: Int { mask + 1 }

    private var wordCount: Int { (mask + 2) << shift }

    func clear() {
        words.update(repeating: 0, count: wordCount)
        count = 0
        hasZero = false
    }

    func copy() -> PackedSlots {
        let copy = PackedSlots(capacity: mask + 1, withValues: shift == 1)
        copy.words.update(from: words, count: wordCount)
        copy.count = count
        copy.hasZero = hasZero
        return copy
    }

    @inline(__always)
    private func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: KeyHash.mix(key ^ Self.seed)) & mask }

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
        return (true, slot)
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

    /// Doubles the table, rehashing every key (and moving its value).
    private func grow() {
        let oldWords = words, oldMemory = memory, oldCapacity = mask + 1
        let capacity = oldCapacity * 2
        mask = capacity - 1
        (memory, words) = Self.allocate(words: (capacity + 1) << shift)
        if shift == 1 { words[capacity << 1 | 1] = oldWords[oldCapacity << 1 | 1] }  // the zero key's value
        for old in 0..<oldCapacity where oldWords[old << shift] != 0 {
            var slot = home(oldWords[old << shift])
            while key(at: slot) != 0 { slot = (slot + 1) & mask }
            words[slot << shift] = oldWords[old << shift]
            if shift == 1 { words[slot << 1 | 1] = oldWords[old << 1 | 1] }
        }
        oldMemory.release()
    }
}
