public import PacketDecoding

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
/// counted, and the skipped insertions are counted as evictions).
struct PortSurge {
    private let tunables: Tunables
    private let intervalNanoseconds: Int64
    private var intervalStart: Int64 = .min
    private var intervalsClosed = 0
    private var sources = [UInt32](repeating: 0, count: 4 * 65536)
    private var packets = [UInt32](repeating: 0, count: 4 * 65536)
    private var baseline = [Float](repeating: 0, count: 4 * 65536)
    private var touched: [Int32] = []
    private var seenPairs = Set<UInt64>()
    static let maximumPairs = 1 << 20
    private(set) var evictions: UInt64 = 0

    init(tunables: Tunables) {
        self.tunables = tunables
        intervalNanoseconds = Int64(max(1, tunables.surgeIntervalSeconds)) * 1_000_000_000
        seenPairs.reserveCapacity(1 << 16)
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

    mutating func observe(_ packet: PacketRecord, port: UInt16, source: UInt32) {
        guard let slot = Self.slot(packet.transport, port) else { return }
        if intervalStart == .min { intervalStart = Self.floor(packet.time.nanoseconds, intervalNanoseconds) }
        if packets[slot] == 0 { touched.append(Int32(slot)) }
        packets[slot] &+= 1
        let pair = UInt64(slot) << 32 | UInt64(source)
        if seenPairs.count >= Self.maximumPairs && !seenPairs.contains(pair) {
            evictions &+= 1
            return
        }
        if seenPairs.insert(pair).inserted { sources[slot] &+= 1 }
    }

    /// Closes every interval that ended by `time`.
    mutating func advance(to time: PacketTime, ledger: inout AlertLedger) {
        guard intervalStart != .min else { return }
        var closed = 0
        while time.nanoseconds >= intervalStart + intervalNanoseconds && closed < 10_000 {
            close(at: PacketTime(nanoseconds: intervalStart + intervalNanoseconds), ledger: &ledger)
            intervalStart += intervalNanoseconds
            closed += 1
        }
        if closed == 10_000 { intervalStart = Self.floor(time.nanoseconds, intervalNanoseconds) }  // a jump of months
    }

    /// The run ends: the partial interval is judged too (its counts can only
    /// be lower than a full interval's, so this adds no false alarm).
    mutating func finish(at time: PacketTime, ledger: inout AlertLedger) {
        guard intervalStart != .min else { return }
        close(at: time, ledger: &ledger)
    }

    private mutating func close(at end: PacketTime, ledger: inout AlertLedger) {
        let warm = intervalsClosed >= tunables.surgeWarmupIntervals
        if warm {
            for slot32 in touched {
                let slot = Int(slot32)
                let count = Int(sources[slot])
                let expected = max(Double(baseline[slot]), 1)
                guard count >= tunables.surgeMinimumSources, Double(count) >= tunables.surgeFactor * expected else { continue }
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
        }
        // Every port's baseline moves, touched or not: quiet ports decay.
        let alpha = Float(tunables.surgeAlpha)
        if intervalsClosed == 0 {
            for slot32 in touched { baseline[Int(slot32)] = Float(sources[Int(slot32)]) }
        } else {
            for slot in 0..<baseline.count where baseline[slot] != 0 || sources[slot] != 0 {
                baseline[slot] = alpha * Float(sources[slot]) + (1 - alpha) * baseline[slot]
            }
        }
        for slot32 in touched { sources[Int(slot32)] = 0; packets[Int(slot32)] = 0 }
        touched.removeAll(keepingCapacity: true)
        seenPairs.removeAll(keepingCapacity: true)
        intervalsClosed += 1
    }

    private static func floor(_ value: Int64, _ step: Int64) -> Int64 {
        let q = value / step
        return (value % step < 0 ? q - 1 : q) * step
    }
}
