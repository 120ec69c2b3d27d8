import Testing
@testable import TeitenCore

@Suite("Packed set and map")
struct PackedSetTests {
    /// Against Swift's Set on a mixed stream (zero, small, huge, repeats),
    /// through several doublings.
    @Test func behavesLikeSet() {
        var packed = PackedSet()
        var reference = Set<UInt64>()
        var state: UInt64 = 0x1234_5678
        for step in 0..<200_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let key: UInt64 = switch step % 5 {
            case 0: 0
            case 1: state >> 50  // small, many repeats
            case 2: UInt64.max - (state >> 60)
            default: state
            }
            #expect(packed.insert(key) == reference.insert(key).inserted)
            if step % 997 == 0 { #expect(packed.contains(state) == reference.contains(state)) }
        }
        #expect(packed.count == reference.count)
        #expect(Set(packed.elements) == reference)
        #expect(PackedSet(packed.elements).count == reference.count)
    }

    /// A copy keeps its contents while the original changes (checkpoints rely on it).
    @Test func copiesAreIndependent() {
        var original = PackedSet()
        for key in 1...1000 as ClosedRange<UInt64> { original.insert(key) }
        let copy = original
        for key in 1001...5000 as ClosedRange<UInt64> { original.insert(key) }
        original.removeAll(keepingCapacity: true)
        #expect(copy.count == 1000 && copy.contains(500) && !copy.contains(2000))
        #expect(original.count == 0 && !original.contains(500))
        original.insert(0)
        #expect(original.count == 1 && original.contains(0))
    }

    /// Doubling in place (what a table does once it is large), from 16
    /// slots up, against Set and Dictionary after every doubling: at a load
    /// of 0.7 many doublings meet a run of keys that wrapped around the
    /// table's end, and keys whose home moves leave gaps that later keys
    /// must close up without breaking a probe path.
    @Test func doublesInPlaceLikeSetAndDictionary() {
        for trial in 0..<24 {
            var set = PackedSet(reservingCapacity: 1 << 16)
            var map = PackedMap(reservingCapacity: 1 << 16)
            var referenceSet = Set<UInt64>(), referenceMap: [UInt64: Int32] = [:]
            let address = set.slotsAddress
            var state = UInt64(trial) &* 0x9E37_79B9_7F4A_7C15 | 1
            var capacity = set.capacity
            for step in 0..<40_000 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let key = step % 97 == 0 ? 0 : state >> (step % 3 == 0 ? 44 : 0)  // zero, repeats, and fresh keys
                #expect(set.insert(key) == referenceSet.insert(key).inserted)
                map.set(key, Int32(truncatingIfNeeded: step))
                referenceMap[key] = Int32(truncatingIfNeeded: step)
                guard set.capacity != capacity else { continue }
                capacity = set.capacity
                #expect(set.slotsAddress == address, "the table moved instead of doubling in place")
                #expect(set.count == referenceSet.count && map.count == referenceMap.count)
                #expect(referenceSet.allSatisfy { set.contains($0) }, "a key was lost doubling to \(capacity) slots")
                #expect(referenceMap.allSatisfy { map[$0.key] == $0.value }, "a value was lost doubling to \(capacity) slots")
            }
            #expect(capacity == 1 << 16)
            #expect(Set(set.elements) == referenceSet)
        }
    }

    /// A table that grows past `ZeroedMemory.largeBlock` moves once, into a
    /// block with room, and then doubles in place; it stays correct.
    @Test func largeTablesDoubleInPlace() {
        var set = PackedSet()
        var key: UInt64 = 0
        while set.capacity < 1 << 20 { key &+= 0x9E37_79B9_7F4A_7C15; set.insert(key) }  // 8 MiB: a reserved block
        let address = set.slotsAddress
        while set.capacity < 1 << 21 { key &+= 0x9E37_79B9_7F4A_7C15; set.insert(key) }
        #expect(set.slotsAddress == address)
        var check: UInt64 = 0
        var missing = 0
        while check != key { check &+= 0x9E37_79B9_7F4A_7C15; if !set.contains(check) { missing += 1 } }
        #expect(missing == 0)
        #expect(!set.contains(key &+ 0x9E37_79B9_7F4A_7C15))
    }

    /// A copy of a table that grows in place (what a checkpoint's copy
    /// becomes at the next insert) keeps that room: it too doubles in place,
    /// and stays on the same kind of pages (`ZeroedMemory`).
    @Test func copiesOfLargeTablesKeepTheirRoom() {
        var set = PackedSet()
        var key: UInt64 = 0
        var inserted = 0
        func next() -> UInt64 { key &+= 0x9E37_79B9_7F4A_7C15; inserted += 1; return key }
        while set.capacity < 1 << 20 { set.insert(next()) }  // a reserved block
        let originalCount = inserted
        var copy = set
        copy.insert(next())  // the copy is made here
        #expect(copy.tableIdentity != set.tableIdentity)
        let address = copy.slotsAddress
        let capacity = copy.capacity
        while copy.capacity == capacity { copy.insert(next()) }
        #expect(copy.slotsAddress == address, "the copy moved instead of doubling in place")
        #expect(copy.count == inserted && set.count == originalCount)
        #expect(copy.contains(key) && !set.contains(key))
    }

    @Test func mapHoldsValuesThroughGrowth() {
        var map = PackedMap()
        for key in 0..<50_000 as Range<UInt64> { map.set(key &* 0x9E37_79B9_7F4A_7C15, Int32(truncatingIfNeeded: key)) }
        #expect(map.count == 50_000)
        for key in stride(from: 0 as UInt64, to: 50_000, by: 7) {
            #expect(map[key &* 0x9E37_79B9_7F4A_7C15] == Int32(truncatingIfNeeded: key))
        }
        map.set(0, 42)
        #expect(map[0] == 42)
        let copy = map
        map.set(0, 7)
        #expect(copy[0] == 42 && map[0] == 7)
    }
}

/// The alert ledger's episode index: inserts and backward-shift removals
/// against a Dictionary, kept near its limit so that probe chains are long
/// and wrap around the table's end (a removal that broke a chain would
/// lose the keys behind it).
@Suite("Episode index")
struct EpisodeIndexTests {
    @Test func behavesLikeDictionary() {
        let limit = 700  // 2,048 slots: chains form at this load
        var index = EpisodeIndex(maximumCount: limit)
        var reference: [UInt64: Int] = [:]
        var state: UInt64 = 0x9E37_79B9
        for step in 0..<300_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            // Few distinct keys (0 among them), so inserts meet removals.
            let key = step % 11 == 0 ? 0 : (state >> 33) % 3000
            if let place = reference[key] {
                #expect(index[key] == place)
                if state & 1 == 0 { index.remove(key); reference[key] = nil }
            } else {
                #expect(index[key] == nil)
                if reference.count < limit { index.insert(key, place: step); reference[key] = step }
            }
            #expect(index.count == reference.count)
        }
        for key in 0..<3000 as Range<UInt64> { #expect(index[key] == reference[key]) }
    }
}

@Suite("Row sketches")
struct RowSketchesTests {
    /// Rows get sketches on first use, in any order, up to the cap; a row
    /// past the cap goes uncounted instead of taking another row's sketch.
    @Test func sketchPerRowUpToTheCap() {
        var sketches = RowSketches()
        for element in 0..<10_000 as Range<UInt64> { sketches.insert(element, row: 7) }
        for element in 0..<100 as Range<UInt64> { sketches.insert(element, row: 2) }
        for row in 10..<(10 + HourCounts.maximumSketches) { sketches.insert(1, row: row) }
        let estimates = Dictionary(uniqueKeysWithValues: sketches.estimates().map { ($0.row, $0.count) })
        #expect(estimates.count == HourCounts.maximumSketches)
        #expect(abs(estimates[7]! - 10_000) < 10_000 * 4 * 17 / 1000)  // four standard errors (1.6 %)
        #expect(abs(estimates[2]! - 100) <= 5 && estimates[10] == 1)
        #expect(estimates[10 + HourCounts.maximumSketches - 1] == nil)  // the row past the cap
    }
}

extension RowSketchesTests {
    /// Batched updates (pairs of many rows interleaved, across many
    /// batches) set exactly the registers that updating one pair at a time
    /// sets, so every estimate is the one HyperLogLog gives for the row's
    /// pairs: for rows whose registers are still listed, rows that move to
    /// full registers on the way (a row of n pairs sets about n registers:
    /// rows of 1 to 40 pairs cross the list's 15), and rows full from
    /// early on. Sketches made in a reused block (an hour that closed)
    /// start from zero.
    @Test func batchesListsAndReusedBlocksGiveTheDirectEstimates() {
        var used = RowSketches()
        for element in 0..<50_000 as Range<UInt64> { used.insert(element &* 31, row: Int(element % 7)) }
        _ = used.estimates()
        var sketches = RowSketches(reusing: used.takeBlock())
        var direct = [[UInt8]](repeating: [UInt8](repeating: 0, count: 1 << RowSketches.registerBits), count: 80)
        func insert(_ pair: UInt64, row: Int) {
            sketches.insert(pair, row: row)
            let (register, rank) = HyperLogLog.register(of: pair, registerBits: RowSketches.registerBits)
            direct[row][register] = max(direct[row][register], rank)
        }
        var state: UInt64 = 0x5EED
        for step in 0..<(9 * RowSketches.batchSize + 17) {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            insert(state >> 20, row: Int(state >> 59) + Int(state >> 40 & 7))  // rows 0..<39, unevenly
            // Rows 40..<80: row 40 + n gets n + 1 pairs (and repeats of them), spread over the batches.
            let small = 40 + step % 40
            if step / 40 <= 2 * (small - 40) + 1 { insert(UInt64(small) << 32 | UInt64(step / 40 % (small - 39)), row: small) }
        }
        let estimates = sketches.estimates()
        #expect(estimates.count == direct.filter { $0.contains { $0 != 0 } }.count)
        for (row, count) in estimates {
            #expect(count == direct[row].withUnsafeBufferPointer { HyperLogLog.estimate($0) }, "row \(row)")
        }
        #expect(Set(estimates.map(\.row)).isSuperset(of: 40..<80))
        #expect(estimates.first { $0.row == 40 }?.count == 1)
    }
}

/// Distinct counts: exact to 4,096 elements, then HyperLogLog estimates
/// within their documented error (checked at four standard errors, so the
/// test fails on a broken sketch, not on chance).
@Suite("Distinct counts")
struct DistinctCountTests {
    /// The first elements are held inline, then in a set: the answers and
    /// the count must not change at the hand-over, for 0 (the set's empty
    /// key) and for repeats on either side of it.
    @Test func inlineElementsThenTheSet() {
        var count = DistinctCount()
        var reference = Set<UInt64>()
        let elements: [UInt64] = [0, 7, 0, 7, UInt64.max, 3, 3, 9, 0, 11, 9, 12, UInt64.max, 13]
        for element in elements {
            #expect(count.insert(element) == reference.insert(element).inserted, "\(element) after \(reference.sorted())")
            #expect(count.count == reference.count && count.isExact)
        }
        #expect(reference.count > DistinctCount.inlineLimit, "the set took over")
    }

    @Test(arguments: [(DistinctCount.episodeRegisterBits, 0.033), (DistinctCount.rowRegisterBits, 0.017)])
    func exactThenWithinItsError(registerBits: Int, standardError: Double) {
        var count = DistinctCount(registerBits: registerBits)
        var generator = SystemRandomNumberGenerator()
        var inserted = Set<UInt64>()
        while inserted.count < DistinctCount.exactLimit {
            let element = generator.next() as UInt64
            #expect(count.insert(element) == inserted.insert(element).inserted)
        }
        #expect(count.isExact && count.count == DistinctCount.exactLimit)
        for (index, element) in inserted.enumerated() where index % 3 == 0 { count.insert(element) }  // repeats
        #expect(count.count == DistinctCount.exactLimit)

        for target in [20_000, 200_000] {
            while inserted.count < target { let element = generator.next() as UInt64; inserted.insert(element); count.insert(element) }
            #expect(!count.isExact)
            let error = abs(Double(count.count) - Double(target)) / Double(target)
            #expect(error < 4 * standardError, "\(count.count) for \(target) distinct")
        }
        guard registerBits == RowSketches.registerBits else { return }
        // The hourly counts' row sketches: the same estimate from their shared block of registers.
        var rows = RowSketches()
        for element in inserted { rows.insert(element, row: 3) }
        let estimate = rows.estimates().first!.count
        #expect(abs(Double(estimate) - Double(inserted.count)) / Double(inserted.count) < 4 * standardError)
    }
}
