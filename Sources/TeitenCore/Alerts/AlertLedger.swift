public import PacketDecoding

/// Turns detector crossings into episodes and episodes into alert lines:
/// `start` when a threshold is first crossed, `update` at most every
/// `updateIntervalSeconds` while it grows, `end` with final totals when
/// nothing has added to it for its window, or when the run ends. An episode
/// is keyed by (source, kind, port or target); once it ends, the same
/// source scanning again opens a new one: nothing is silently folded away.
///
/// Bounded: at most `maximumEpisodes` at once (further ones are counted in
/// `episodesRefused`), and at most `alertsPerSecond` new-episode or update
/// lines per second of packet time (further ones counted in
/// `linesSuppressed`; an episode whose start was not written writes no end).
public struct AlertLedger {
    /// What a detector knows when its threshold is crossed.
    struct Opening {
        var kind: Alert.Kind
        var method: Alert.Method
        var source: IPAddress?
        var destination: IPAddress?
        var transport: TransportProtocol
        var windowSeconds: Int
        var firstSeen: PacketTime
        var packets: UInt64
        var targets: [UInt64] = []
        var ports: [UInt64] = []
        var sources: [UInt64] = []
        var signature: String? = nil
        var tool: String? = nil
        /// Backscatter: the replying service ports known so far.
        var sourcePorts: [UInt16] = []
        /// A distinct-source count known without the elements (port surge).
        var presetSources = 0
        /// The port's baseline when it surged (port surge).
        var baseline: Double? = nil
    }

    /// What every packet of an episode updates (`add`) comes first, the
    /// opening (read when a line is written) last: an episode is 7 cache
    /// lines, and a packet that extends it now touches the first few only.
    private struct Episode {
        var packets: UInt64
        var lastSeen: PacketTime
        var lastLineAt: PacketTime
        var packetsAtLastLine: UInt64
        var written: Bool
        /// The opening's kind, kept beside the counters.
        let kind: Alert.Kind
        var targets = DistinctCount()
        var ports = DistinctCount()
        var sources = DistinctCount()
        var listedPorts: [UInt16] = []
        var sourcePorts: [UInt16] = []
        let id: UInt64
        var opening: Opening

        init(id: UInt64, opening: Opening, lastSeen: PacketTime, packets: UInt64,
             lastLineAt: PacketTime, packetsAtLastLine: UInt64, written: Bool) {
            self.packets = packets
            self.lastSeen = lastSeen
            self.lastLineAt = lastLineAt
            self.packetsAtLastLine = packetsAtLastLine
            self.written = written
            kind = opening.kind
            self.id = id
            self.opening = opening
        }
    }

    public let tunables: Tunables
    /// False when no alert stream is written (`teiten run` without
    /// `--alerts`): episodes are opened, counted and ended as always, but
    /// their lines are not built, since nobody would read them.
    public var buildsLines = true
    /// Resolves a source's country for the alert line; "ZZ" when absent.
    public var country: @Sendable (IPAddress) -> String = { _ in "ZZ" }

    /// Open episodes: their places in `store` by key (`EpisodeIndex`), the
    /// store itself (nil: a free place, listed in `freePlaces`), and each
    /// place's key.
    private var index: EpisodeIndex
    private var store: [Episode?] = []
    private var keyOfPlace: [UInt64] = []
    private var freePlaces: [Int] = []
    /// Open episodes per `key & filterMask`: a zero answers "no episode"
    /// without looking the key up in `index` (the answer for almost every
    /// packet of almost every source). Counts, not bits, so closing one
    /// episode leaves the others sharing its counter visible; one byte each
    /// (256 KiB, which stays in the core's cache; at 64 KiB, thousands of open
    /// worm episodes made a third of all keys a "maybe"), and a counter that reaches 255 stays
    /// there: "maybe" for good, never a wrong "no".
    private let openByFilterSlot = ZeroedStorage<UInt8>(count: filterMask + 1)
    private static let filterMask = (1 << 18) - 1
    private var nextID: UInt64 = 1
    /// Every open episode under its end as last known (they only move later):
    /// `expire` looks at the episodes that may have ended, not at all of them.
    private var deadlines = DeadlineHeap()
    private var currentSecond: Int64 = .min
    private var linesThisSecond = 0
    /// Alert lines ready to be written, oldest first.
    public private(set) var outbox: [Alert] = []

    public private(set) var episodesOpened: UInt64 = 0
    public private(set) var episodesRefused: UInt64 = 0
    public private(set) var linesSuppressed: UInt64 = 0
    public private(set) var alertsByKind = [UInt64](repeating: 0, count: Alert.Kind.allCases.count)

    public init(tunables: Tunables) {
        self.tunables = tunables
        index = EpisodeIndex(maximumCount: tunables.maximumEpisodes)
        outbox.reserveCapacity(256)
    }

    @inline(__always)
    func isActive(_ key: UInt64) -> Bool { mayBeActive(key) && index[key] != nil }

    /// False: `key` certainly has no open episode. True: it may have one.
    @inline(__always)
    func mayBeActive(_ key: UInt64) -> Bool { openByFilterSlot[Int(truncatingIfNeeded: key) & Self.filterMask] != 0 }

    /// Look-ahead: the index line `extend` will read for a key that may
    /// have an episode (a miss otherwise taken on the spot).
    @inline(__always)
    func prefetch(_ key: UInt64) { index.prefetch(key) }

    /// Look-ahead: the filter line `mayBeActive(key)` reads.
    @inline(__always)
    func prefetchFilter(_ key: UInt64) { openByFilterSlot.prefetch(Int(truncatingIfNeeded: key) & Self.filterMask) }

    /// Opens an episode under `key` and writes its start line.
    mutating func open(_ key: UInt64, _ opening: Opening, at time: PacketTime) {
        guard index.count < tunables.maximumEpisodes else { episodesRefused &+= 1; return }
        var episode = Episode(id: nextID, opening: opening, lastSeen: time, packets: opening.packets,
                              lastLineAt: time, packetsAtLastLine: opening.packets, written: false)
        nextID &+= 1
        for target in opening.targets { episode.targets.insert(target) }
        for port in opening.ports {
            episode.ports.insert(port)
            if episode.listedPorts.count < tunables.maximumListedPorts { episode.listedPorts.append(UInt16(truncatingIfNeeded: port)) }
        }
        for source in opening.sources { episode.sources.insert(source) }
        episode.sourcePorts = Array(opening.sourcePorts.prefix(tunables.maximumListedPorts))
        episode.written = allowLine(at: time)
        episodesOpened &+= 1
        if episode.written {
            alertsByKind[kindIndex(opening.kind)] &+= 1
            if buildsLines { outbox.append(line(episode, phase: .start, at: time)) }
        }
        // Before the episode is stored: stored first, it was copied to be read here.
        deadlines.push(.init(deadline: Self.end(of: episode), key: key, episode: episode.id))
        if let place = index[key] {
            store[place] = episode
        } else {
            let place: Int
            if let free = freePlaces.popLast() {
                place = free
                store[place] = episode
                keyOfPlace[place] = key
            } else {
                place = store.count
                store.append(episode)
                keyOfPlace.append(key)
            }
            index.insert(key, place: place)
            let slot = Int(truncatingIfNeeded: key) & Self.filterMask
            if openByFilterSlot[slot] < .max { openByFilterSlot[slot] += 1 }
        }
    }

    /// The packet time after which an episode idle since its last packet ends.
    @inline(__always)
    private static func end(of episode: Episode) -> Int64 {
        episode.lastSeen.nanoseconds &+ Int64(episode.opening.windowSeconds) &* 1_000_000_000
    }

    /// An episode's id, end and last packet, read in place (`inout` only for
    /// that: `store[place]!` read as a value copied the episode, its sets
    /// retained and released, for every deadline checked).
    @inline(__always)
    private static func timing(of episode: inout Episode) -> (id: UInt64, end: Int64, lastSeen: PacketTime) {
        (episode.id, end(of: episode), episode.lastSeen)
    }

    /// Adds a packet to an open episode; returns false when `key` has none.
    /// The episode is changed in place (through `store[place]`): reading it
    /// out and writing it back would copy its sets on every packet.
    @discardableResult
    mutating func extend(_ key: UInt64, packet: DetectionEvent, target: UInt64?, port: UInt16?, source: UInt64?) -> Bool {
        guard mayBeActive(key), let place = index[key] else { return false }
        let updateDue = Self.add(packet, target: target, port: port, source: source,
                                 to: &store[place]!, tunables: tunables)
        if updateDue && allowLine(at: packet.time) {
            store[place]!.lastLineAt = packet.time
            store[place]!.packetsAtLastLine = store[place]!.packets
            if buildsLines { outbox.append(line(store[place]!, phase: .update, at: packet.time)) }
        }
        return true
    }

    /// Adds one packet to an episode's totals; true when an update line is due.
    private static func add(_ packet: DetectionEvent, target: UInt64?, port: UInt16?, source: UInt64?,
                            to episode: inout Episode, tunables: Tunables) -> Bool {
        episode.packets &+= 1
        if packet.time > episode.lastSeen { episode.lastSeen = packet.time }
        if let target { episode.targets.insert(target) }
        if let port, episode.ports.insert(UInt64(port)) && episode.listedPorts.count < tunables.maximumListedPorts {
            episode.listedPorts.append(port)
        }
        if let source { episode.sources.insert(source) }
        if episode.kind == .backscatter && episode.sourcePorts.count < tunables.maximumListedPorts
            && !episode.sourcePorts.contains(packet.sourcePort) {
            episode.sourcePorts.append(packet.sourcePort)
        }
        return tunables.updateIntervalSeconds > 0 && episode.written
            && packet.time.nanoseconds - episode.lastLineAt.nanoseconds >= Int64(tunables.updateIntervalSeconds) * 1_000_000_000
            && episode.packets > episode.packetsAtLastLine
    }

    /// Ends every episode idle for longer than its window at `now`.
    mutating func expire(now: PacketTime) {
        var ended: [UInt64] = []
        while let earliest = deadlines.earliest, now.nanoseconds > earliest {
            var entry = deadlines.pop()!
            guard let place = index[entry.key] else { continue }  // ended already
            let (id, end, _) = Self.timing(of: &store[place]!)
            guard id == entry.episode else { continue }  // ended, and the key opened again
            entry.deadline = end
            if now.nanoseconds > entry.deadline { ended.append(entry.key) } else { deadlines.push(entry) }
        }
        // Oldest first, so the stream reads in time order.
        let endings = ended.map { (key: $0, lastSeen: Self.timing(of: &store[index[$0]!]!).lastSeen) }.sorted { $0.lastSeen < $1.lastSeen }
        for ending in endings { close(ending.key, at: ending.lastSeen) }
    }

    /// The run ends: every open episode ends now, with its final totals.
    mutating func finish(now: PacketTime) {
        let keys = store.indices.filter { store[$0] != nil }.sorted { store[$0]!.id < store[$1]!.id }.map { keyOfPlace[$0] }
        for key in keys { close(key, at: now) }
        deadlines.removeAll()
    }

    /// Hands over the lines written since the last call.
    public mutating func takeAlerts() -> [Alert] {
        defer { outbox.removeAll(keepingCapacity: true) }
        return outbox
    }

    public var hasAlerts: Bool { !outbox.isEmpty }

    /// Episodes open now (for the metrics endpoint).
    public var openEpisodes: Int { index.count }

    private mutating func close(_ key: UInt64, at time: PacketTime) {
        guard let place = index[key], let episode = store[place].take() else { return }
        index.remove(key)
        freePlaces.append(place)
        let slot = Int(truncatingIfNeeded: key) & Self.filterMask
        if openByFilterSlot[slot] < .max { openByFilterSlot[slot] -= 1 }
        if episode.written && buildsLines { outbox.append(line(episode, phase: .end, at: max(time, episode.lastSeen))) }
    }

    private mutating func allowLine(at time: PacketTime) -> Bool {
        let second = time.seconds
        if second != currentSecond { currentSecond = second; linesThisSecond = 0 }
        guard linesThisSecond < tunables.alertsPerSecond else { linesSuppressed &+= 1; return false }
        linesThisSecond += 1
        return true
    }

    private func kindIndex(_ kind: Alert.Kind) -> Int { Alert.Kind.allCases.firstIndex(of: kind)! }

    private func line(_ episode: Episode, phase: Alert.Phase, at time: PacketTime) -> Alert {
        let opening = episode.opening
        let targets = max(episode.targets.count, opening.destination == nil ? 0 : 1)
        let ports = max(episode.ports.count, episode.listedPorts.isEmpty ? 0 : 1)
        let sources = max(episode.sources.count, opening.presetSources)
        let usesSources = opening.kind == .flood || opening.kind == .portSurge
        return Alert(
            timestamp: time, phase: phase, kind: opening.kind, episodeID: episode.id,
            source: opening.source, sourceCountry: opening.source.map(country) ?? "ZZ",
            transport: opening.transport, destinationPorts: episode.listedPorts.map(Int.init).sorted(),
            destination: opening.destination, targets: targets, ports: ports,
            sources: usesSources ? sources : nil, packets: episode.packets,
            firstSeen: opening.firstSeen, lastSeen: episode.lastSeen, windowSeconds: opening.windowSeconds,
            severity: Self.severity(kind: opening.kind, targets: targets, ports: ports, sources: sources, tunables: tunables),
            tool: opening.tool, signature: opening.signature, method: opening.method,
            sourcePorts: opening.kind == .backscatter ? episode.sourcePorts.map(Int.init).sorted() : nil,
            countsExact: episode.targets.isExact && episode.ports.isExact && episode.sources.isExact,
            baseline: opening.baseline)
    }

    /// Worms and floods are high; backscatter and surges medium; scans low,
    /// medium once ten times their threshold (documented in docs/alerts.md).
    static func severity(kind: Alert.Kind, targets: Int, ports: Int, sources: Int, tunables: Tunables) -> Alert.Severity {
        switch kind {
        case .worm, .flood: return .high
        case .backscatter, .portSurge: return .medium
        case .verticalScan: return ports >= 10 * tunables.verticalScanPorts ? .medium : .low
        case .horizontalSweep: return targets >= 10 * tunables.horizontalSweepTargets ? .medium : .low
        case .blockScan: return targets * ports >= 100 * tunables.blockScanTargets * tunables.blockScanPorts ? .medium : .low
        }
    }
}
