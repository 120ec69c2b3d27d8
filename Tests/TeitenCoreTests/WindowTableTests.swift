import Testing
@testable import TeitenCore

/// `WindowTable` against a plain model of its contract: per key, the
/// distinct elements seen within the window ending now (at most `capacity`
/// of them, the earliest admitted kept), each with the last time it was
/// seen, and the packets since the window was last empty.
@Suite("Window table")
struct WindowTableTests {
    /// The contract, written the obvious way.
    struct Model {
        struct Window {
            var entries: [(element: UInt32, time: Int64)] = []
            var packets: UInt64 = 0
        }
        let capacity: Int
        let window: Int64
        var windows: [UInt64: Window] = [:]

        mutating func observe(_ key: UInt64, _ element: UInt32, at time: Int64) -> Int {
            var state = windows[key] ?? Window()
            state.entries.removeAll { $0.time <= time - window }
            state.packets = state.entries.isEmpty ? 1 : state.packets + 1
            if let index = state.entries.firstIndex(where: { $0.element == element }) {
                state.entries[index].time = max(state.entries[index].time, time)
            } else if state.entries.count < capacity {
                state.entries.append((element, time))
            }
            windows[key] = state
            return state.entries.count
        }

        func snapshot(_ key: UInt64, at time: Int64) -> (elements: Set<UInt64>, firstSeen: Int64, packets: UInt64) {
            guard let state = windows[key] else { return ([], time, 0) }
            let live = state.entries.filter { $0.time > time - window }
            return (Set(live.map { UInt64($0.element) }), live.map(\.time).min().map { min($0, time) } ?? time, state.packets)
        }

        mutating func reset(_ key: UInt64) {
            if windows[key] != nil { windows[key] = Window() }
        }
    }

    /// Random traffic on few keys (no evictions), with repeats, expiry,
    /// time running backwards now and then, and resets as at a crossing.
    @Test(arguments: [1, 2, 5, 17, 255])
    func matchesTheModel(capacity: Int) {
        let second: Int64 = 1_000_000_000
        var table = WindowTable(capacity: capacity, windowSeconds: 10, maximumKeys: 1024)
        var model = Model(capacity: capacity, window: 10 * second)
        var random: UInt64 = 0x9E37_79B9 &+ UInt64(capacity)
        func next(_ bound: Int) -> Int {
            random = random &* 6364136223846793005 &+ 1442695040888963407
            return Int((random >> 33) % UInt64(bound))
        }
        let keys: [UInt64] = (0..<48).map { KeyHash.mix(UInt64($0) &+ 7) } + [0, 1, 0x1FF, 1 << 62]
        var time: Int64 = 1_700_000_000 * second
        for step in 0..<60_000 {
            time += next(8) == 0 ? -Int64(next(3)) * second : Int64(next(400)) * 1_000_000
            let key = keys[next(keys.count)]
            let element = UInt32(next(capacity + 6))
            let count = table.observe(key: key, element: element, at: time)
            #expect(count == model.observe(key, element, at: time), "step \(step)")
            if next(50) == 0 {
                let got = table.snapshot(key: key, at: time)
                let want = model.snapshot(key, at: time)
                #expect(Set(got.elements) == want.elements && got.elements.count == want.elements.count, "step \(step)")
                #expect(got.firstSeen == want.firstSeen && got.packets == want.packets, "step \(step)")
            }
            if next(200) == 0 {
                table.reset(key: key)
                model.reset(key)
            }
        }
        #expect(table.evictions == 0)
    }

    /// The packet count's low half lives in the way; past 2^32 it carries
    /// into the region, and an emptied window starts again from 1.
    @Test func packetCountCarriesPastFourBillion() {
        var table = WindowTable(capacity: 3, windowSeconds: 60, maximumKeys: 1024)
        let key = KeyHash.mix(42), second: Int64 = 1_000_000_000
        _ = table.observe(key: key, element: 1, at: 100 * second)
        table.presetPackets(key: key, to: UInt64(UInt32.max) - 1)
        for offset in 1...3 { _ = table.observe(key: key, element: 1, at: (100 + Int64(offset)) * second) }
        #expect(table.snapshot(key: key, at: 103 * second).packets == UInt64(UInt32.max) + 2)
        table.presetPackets(key: key, to: 5 << 32 | 0xFFFF_FFFF)
        _ = table.observe(key: key, element: 2, at: 104 * second)
        #expect(table.snapshot(key: key, at: 104 * second).packets == 6 << 32)
        _ = table.observe(key: key, element: 3, at: 300 * second)  // everything before expired
        #expect(table.snapshot(key: key, at: 300 * second).packets == 1)
    }

    /// A full bucket gives its stalest way to a new key; a way still within
    /// its window counts as an eviction, one already idle past it does not.
    @Test func stalestWayIsEvictedAndCounted() {
        var table = WindowTable(capacity: 4, windowSeconds: 10, maximumKeys: 1024)
        let second: Int64 = 1_000_000_000
        // Keys sharing one bucket: the same low bits, different identities.
        let keys = (1...6).map { UInt64($0) << 20 | 0x155 }
        for (index, key) in keys.prefix(4).enumerated() {
            _ = table.observe(key: key, element: 9, at: Int64(index) * second)
        }
        _ = table.observe(key: keys[4], element: 9, at: 5 * second)  // keys[0] was seen 5 s ago: within its window
        #expect(table.evictions == 1)
        #expect(table.snapshot(key: keys[0], at: 5 * second).elements.isEmpty)
        #expect(table.snapshot(key: keys[1], at: 5 * second).elements == [9])
        _ = table.observe(key: keys[5], element: 9, at: 30 * second)  // every way idle past the window
        #expect(table.evictions == 1)
    }

    /// Windows of two entries or more take regions from a pool and give
    /// them back (down to one entry, a reset, the way going to another
    /// key); a region taken again must hold nothing of its last window.
    /// Forty thousand keys churn through 4,096 ways, each with one to four
    /// elements of its own, some reset; then the last keys' windows expire
    /// to one new entry and grow again. Every window must hold exactly its
    /// own elements.
    @Test func regionsTakenAgainHoldNothingOfTheirLastWindow() {
        var table = WindowTable(capacity: 4, windowSeconds: 10, maximumKeys: 1024)
        let millisecond: Int64 = 1_000_000
        func elements(_ index: UInt64, first: UInt32 = 0) -> [UInt32] {
            (first..<(first + UInt32(index % 4) + 1)).map { $0 &* 7919 &+ UInt32(truncatingIfNeeded: index) }
        }
        var time: Int64 = 0
        for index in 0..<40_000 as Range<UInt64> {
            time += millisecond
            for element in elements(index) { _ = table.observe(key: KeyHash.mix(index), element: element, at: time) }
            if index % 7 == 0 { table.reset(key: KeyHash.mix(index)) }
        }
        #expect(table.evictions > 0)
        let recent = (39_800..<40_000 as Range<UInt64>).filter { $0 % 7 != 0 }
        func check(first: UInt32) -> Int {
            var held = 0
            for index in recent {
                let got = table.snapshot(key: KeyHash.mix(index), at: time).elements
                if got.isEmpty { continue }  // evicted by another recent key of its bucket
                held += 1
                #expect(got.sorted() == elements(index, first: first).map(UInt64.init).sorted(), "key \(index)")
            }
            return held
        }
        #expect(check(first: 0) > recent.count * 9 / 10)
        // Everything expires; each window restarts with one entry (its region
        // given back), then grows into a region taken from the pool again.
        time += 11_000 * millisecond
        for index in recent {
            for element in elements(index, first: 100) { _ = table.observe(key: KeyHash.mix(index), element: element, at: time) }
        }
        #expect(check(first: 100) > recent.count * 9 / 10)
    }

    /// The region pool asks for its memory to be committed ahead of use
    /// (IdlePrefault), a step at a time: at least half a step ahead, at
    /// most a step and a half, never past its end.
    @Test func regionMemoryIsAskedForAheadOfUse() {
        var table = WindowTable(capacity: 200, windowSeconds: 3600, maximumKeys: 4096)
        let step = table.regionsPerPrefault
        #expect(table.regionsPrefaulted == 0 && step < table.regionCount / 4)
        var asked: Set<Int> = []
        for index in 0..<20_000 as Range<UInt64> {  // two elements: a region each, until ways are taken again
            for element in 0..<2 as Range<UInt32> { _ = table.observe(key: KeyHash.mix(index), element: element, at: 1) }
            #expect(table.regionsPrefaulted >= min(table.regionCount, table.regionsOpened + step / 2))
            #expect(table.regionsPrefaulted <= min(table.regionCount, table.regionsOpened + step + step / 2))
            asked.insert(table.regionsPrefaulted)
        }
        #expect(table.regionsOpened == table.regionCount && table.regionsPrefaulted == table.regionCount && asked.count > 4)
    }
}
