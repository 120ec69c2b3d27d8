/// A min-heap of (deadline, key, episode): the alert ledger's episodes by
/// the earliest packet time at which each could end. Entries are not updated
/// when an episode's end moves later (that happens on every packet); the
/// ledger checks an entry when it comes due and pushes it again with the
/// episode's real end. So a packet costs the heap nothing, and an expiry
/// check costs as much as the entries that came due.
struct DeadlineHeap {
    private var entries: [Entry] = []

    struct Entry {
        var deadline: Int64
        var key: UInt64
        /// The episode's id: an entry left by an episode that ended is skipped.
        var episode: UInt64
    }

    var earliest: Int64? { entries.first?.deadline }

    mutating func push(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the entry with the earliest deadline.
    mutating func pop() -> Entry? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let top = entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < entries.count && entries[left].deadline < entries[smallest].deadline { smallest = left }
            if right < entries.count && entries[right].deadline < entries[smallest].deadline { smallest = right }
            guard smallest != parent else { break }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }

    mutating func removeAll() { entries.removeAll() }
}
