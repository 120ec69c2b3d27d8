internal import PacketDecoding

/// A port's distinct sources rising far above its own baseline, as when
/// TCP 135 rose with Blaster in August 2003.
///
/// Distinct probe sources are counted per (protocol, port) in fixed
/// intervals (`surgeIntervalSeconds`, aligned to the epoch). Each port keeps
/// an exponentially weighted moving average of its per-interval counts
/// (weight `surgeAlpha` for the newest interval; empty intervals count as 0,
/// so a quiet port's baseline decays). When an interval closes, a port
/// surges if its count is at least `surgeMinimumSources` and at least
/// `surgeFactor` × max(baseline, 1), once `surgeWarmupIntervals` intervals
/// have built baselines. One `port_surge` episode per surging interval.
///
/// Memory is fixed: counters for 4 × 65,536 ports and a set of (port,
/// source) pairs capped at 2^20 per interval (pairs beyond it are not
/// counted, and the skipped insertions are counted as evictions). Closing
/// an interval costs as much as the ports with traffic or a baseline, and a
/// gap of many empty intervals (a capture file that jumps years) decays the
/// baselines in one step.
struct PortSurge {
    private let tunables: Tunables
    private let intervalNanoseconds: Int64
    private var intervalStart: Int64 = .min
    private var intervalsClosed = 0
    private let sources = ZeroedStorage<UInt32>(count: 4 * 65536)
    private let packets = ZeroedStorage<UInt32>(count: 4 * 65536)
    private let baseline = ZeroedStorage<Float>(count: 4 * 65536)
    private var touched: [Int32] = []
    /// Ports whose baseline is above zero (they decay even when quiet).
    private var active: [Int32] = []
    /// Below this a baseline is taken as zero and the port leaves `active`.
    private static let negligible: Float = 0.01
    private var seenPairs = PackedSet(minimumCapacity: 1 << 16)
    static let maximumPairs = 1 << 20
    private(set) var evictions: UInt64 = 0

    init(tunables: Tunables) {
        self.tunables = tunables
        intervalNanoseconds = Int64(max(1, tunables.surgeIntervalSeconds)) * 1_000_000_000
    }

    @inline(__always)
    static func slot(_ transport: TransportProtocol, _ port: UInt16) -> Int? {
        switch transport {
        case .tcp: Int(port)
        case .udp: 65536 + Int(port)
        case .icmp: 2 * 65536 + Int(port)
        case .icmp6: 3 * 65536 + Int(port)
        default: nil
        }
    }

    /// Look-ahead (SensorPipeline): the pair's slot.
    @inline(__always)
    func prefetch(_ transport: TransportProtocol, port: UInt16, source: UInt32) {
        guard let slot = Self.slot(transport, port) else { return }
        seenPairs.prefetch(UInt64(slot) << 32 | UInt64(source))
    }

    mutating func observe(_ transport: TransportProtocol, port: UInt16, source: UInt32, at time: PacketTime) {
        guard let slot = Self.slot(transport, port) else { return }
        if intervalStart == .min { intervalStart = Self.floor(time.nanoseconds, intervalNanoseconds) }
        if packets[slot] == 0 { touched.append(Int32(slot)) }
        packets[slot] &+= 1
        let pair = UInt64(slot) << 32 | UInt64(source)
        if seenPairs.count >= Self.maximumPairs && !seenPairs.contains(pair) {
            evictions &+= 1
            return
        }
        if seenPairs.insert(pair) { sources[slot] &+= 1 }
    }

    /// Closes every interval that ended by `time`.
    mutating func advance(to time: PacketTime, ledger: inout AlertLedger) {
        guard intervalStart != .min, time.nanoseconds >= intervalStart + intervalNanoseconds else { return }
        close(at: PacketTime(nanoseconds: intervalStart + intervalNanoseconds), ledger: &ledger)
        let next = Self.floor(time.nanoseconds, intervalNanoseconds)
        let skipped = (next - intervalStart) / intervalNanoseconds - 1  // empty intervals in between
        if skipped > 0 { decay(intervals: skipped) }
        intervalStart = next
    }

    /// The run ends: the partial interval is judged too (its counts can only
    /// be lower than a full interval's, so this adds no false alarm).
    mutating func finish(at time: PacketTime, ledger: inout AlertLedger) {
        guard intervalStart != .min else { return }
        close(at: time, ledger: &ledger)
    }

    private mutating func close(at end: PacketTime, ledger: inout AlertLedger) {
        if intervalsClosed >= tunables.surgeWarmupIntervals {
            for slot32 in touched { judge(Int(slot32), end: end, ledger: &ledger) }
        }
        // Baselines move for every port with traffic or a baseline: quiet
        // ports decay. A port outside `active` has a baseline of 0, so the
        // two loops never visit one port twice.
        let alpha = Float(tunables.surgeAlpha)
        var stillActive: [Int32] = []
        stillActive.reserveCapacity(active.count + touched.count)
        for slot32 in touched where baseline[Int(slot32)] == 0 {
            let slot = Int(slot32)
            let value = intervalsClosed == 0 ? Float(sources[slot]) : alpha * Float(sources[slot])
            baseline[slot] = value >= Self.negligible ? value : 0
            if value >= Self.negligible { stillActive.append(slot32) }
        }
        for slot32 in active {
            let slot = Int(slot32)
            let value = alpha * Float(sources[slot]) + (1 - alpha) * baseline[slot]
            baseline[slot] = value >= Self.negligible ? value : 0
            if value >= Self.negligible { stillActive.append(slot32) }
        }
        active = stillActive
        for slot32 in touched { sources[Int(slot32)] = 0; packets[Int(slot32)] = 0 }
        touched.removeAll(keepingCapacity: true)
        seenPairs.removeAll(keepingCapacity: true)
        intervalsClosed += 1
    }

    /// `intervals` empty intervals: each baseline × (1 − α)^intervals.
    private mutating func decay(intervals: Int64) {
        var factor: Float = 1
        let keep = Float(1 - tunables.surgeAlpha)
        for _ in 0..<min(intervals, 64) { factor *= keep }
        active = active.filter { slot32 in
            let slot = Int(slot32)
            baseline[slot] *= factor
            if baseline[slot] < Self.negligible { baseline[slot] = 0; return false }
            return true
        }
        intervalsClosed += Int(min(intervals, Int64(Int32.max)))
    }

    /// Opens a `port_surge` episode when the port's interval count is far above its baseline.
    private func judge(_ slot: Int, end: PacketTime, ledger: inout AlertLedger) {
        let count = Int(sources[slot])
        let expected = max(Double(baseline[slot]), 1)
        guard count >= tunables.surgeMinimumSources, Double(count) >= tunables.surgeFactor * expected else { return }
        let transport: TransportProtocol = [.tcp, .udp, .icmp, .icmp6][slot / 65536]
        let port = UInt16(slot % 65536)
        let key = KeyHash.mix(ScanDetection.Tag.surge | UInt64(slot) << 20 | UInt64(truncatingIfNeeded: end.seconds) & 0xFFFFF)
        var opening = AlertLedger.Opening(kind: .portSurge, method: .baseline, source: nil, destination: nil,
                                          transport: transport, windowSeconds: tunables.surgeIntervalSeconds,
                                          firstSeen: PacketTime(nanoseconds: intervalStart), packets: UInt64(packets[slot]),
                                          ports: [UInt64(port)])
        opening.presetSources = count
        opening.baseline = Double(baseline[slot])
        ledger.open(key, opening, at: end)
    }

    private static func floor(_ value: Int64, _ step: Int64) -> Int64 {
        let q = value / step
        return (value % step < 0 ? q - 1 : q) * step
    }
}
