/// The alert ledger's index from episode key to the episode's place in its
/// store: open addressing with linear probing over a fixed table of twice
/// `maximumEpisodes` slots (load at most one half, so probe chains stay
/// short), and backward-shift deletion (no tombstones to pile up).
///
/// It replaces a `Dictionary`, whose SipHash and copy-on-write checks the
/// packets of every open episode paid. Keys are hashed again with a
/// per-process seed: they derive from source addresses an attacker chooses.
struct EpisodeIndex {
    private struct Slot {
        var key: UInt64 = 0
        /// Place in the store + 1; 0 marks an empty slot (so key 0 is a key like any other).
        var place: UInt32 = 0
    }

    private let slots: ZeroedStorage<Slot>
    private let mask: Int
    private(set) var count = 0
    private static let processSeed: UInt64 = UInt64.random(in: 1...UInt64.max)
    /// `processSeed`, read once: a global behind a lazy initializer costs a
    /// `swift_once` call per read, and `home` is read per packet.
    private let seed = EpisodeIndex.processSeed

    /// Room for `maximumCount` keys.
    init(maximumCount: Int) {
        var capacity = 1024
        while capacity < 2 * maximumCount { capacity <<= 1 }
        slots = ZeroedStorage(count: capacity)
        mask = capacity - 1
    }

    @inline(__always)
    private func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: KeyHash.mix(key ^ seed)) & mask }

    /// Asks the caches for the line where the search for `key` starts (look-ahead).
    @inline(__always)
    func prefetch(_ key: UInt64) { slots.prefetch(home(key)) }

    /// The store place of `key`, if it has one.
    @inline(__always)
    subscript(key: UInt64) -> Int? {
        var slot = home(key)
        while slots[slot].place != 0 {
            if slots[slot].key == key { return Int(slots[slot].place) - 1 }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Adds `key` at `place` (the caller knows the key is absent and the index not full).
    mutating func insert(_ key: UInt64, place: Int) {
        precondition(count < (mask + 1) / 2, "EpisodeIndex sized for fewer keys")
        var slot = home(key)
        while slots[slot].place != 0 { slot = (slot + 1) & mask }
        slots[slot] = Slot(key: key, place: UInt32(place + 1))
        count += 1
    }

    /// Removes `key`; later keys of its chain move back so that no chain breaks.
    mutating func remove(_ key: UInt64) {
        var slot = home(key)
        while slots[slot].place != 0 && slots[slot].key != key { slot = (slot + 1) & mask }
        guard slots[slot].place != 0 else { return }
        count -= 1
        var hole = slot
        var next = (hole + 1) & mask
        while slots[next].place != 0 {
            let wanted = home(slots[next].key)
            // Move `next` into the hole unless its home lies cyclically in (hole, next].
            let stays = hole <= next ? (wanted > hole && wanted <= next) : (wanted > hole || wanted <= next)
            if !stays {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole] = Slot()
    }
}
