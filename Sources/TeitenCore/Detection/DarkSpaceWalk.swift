#if canImport(Glibc)
internal import Glibc
#endif
internal import PacketDecoding

/// Fast sequential detection for dark address space: the Threshold Random
/// Walk of Jung, Paxson, Berger and Balakrishnan ("Fast Portscan Detection
/// Using Sequential Hypothesis Testing", IEEE S&P 2004).
///
/// Each distinct destination a source contacts in `--dark-network` space is
/// a failed first contact (nothing lives there); each distinct local host
/// seen answering the source (a SYN-ACK or echo reply from a
/// `--local-network` address) is a success. The likelihood ratio
///
///     Λ = ((1 − θ1) / (1 − θ0))^failures × (θ1 / θ0)^successes
///
/// is compared with η1 = P_D / P_F: above it the source is a scanner. With
/// the defaults (θ0 0.8, θ1 0.2, P_D 0.99, P_F 0.01) each failure multiplies
/// Λ by 4 and η1 is 99, so a source with no successes is named at its 4th
/// distinct dark destination (4³ = 64 < 99 ≤ 4⁴ = 256).
///
/// State is per source in fixed windows of an hour (a source idle for an
/// hour starts afresh), so memory stays bounded.
struct DarkSpaceWalk {
    static let windowSeconds = 3600
    private var failures: WindowTable
    private var successes: WindowTable
    private let failureWeight: Double
    private let successWeight: Double
    private let threshold: Double

    init(tunables: Tunables) {
        failureWeight = log((1 - tunables.trwTheta1) / (1 - tunables.trwTheta0))
        successWeight = log(tunables.trwTheta1 / tunables.trwTheta0)
        threshold = log(tunables.trwDetectionProbability / tunables.trwFalsePositiveProbability)
        failures = WindowTable(capacity: 64, windowSeconds: Self.windowSeconds, maximumKeys: tunables.trackedKeys)
        successes = WindowTable(capacity: 16, windowSeconds: Self.windowSeconds, maximumKeys: tunables.trackedKeys / 4)
    }

    var evictions: UInt64 { failures.evictions &+ successes.evictions }

    /// A probe to a dark destination; true when the walk crosses η1.
    mutating func observeDarkContact(source: IPAddress, target: UInt32, at time: Int64) -> Bool {
        let key = KeyHash.address(source)
        let failed = failures.observe(key: key, element: target, at: time)
        let answered = successes.snapshot(key: key, at: time).elements.count
        return Double(failed) * failureWeight + Double(answered) * successWeight >= threshold
    }

    /// A reply leaving a local host: a success for the address it answers.
    mutating func observeReply(fromLocal packet: DetectionEvent) {
        let isAnswer = (packet.transport == .tcp && packet.tcpFlags & (TCPSummary.syn | TCPSummary.ack) == (TCPSummary.syn | TCPSummary.ack))
            || (packet.transport == .icmp && packet.icmpType == 0) || (packet.transport == .icmp6 && packet.icmpType == 129)
        guard isAnswer else { return }
        _ = successes.observe(key: KeyHash.address(packet.destination), element: KeyHash.element(packet.source),
                              at: packet.time.nanoseconds)
    }

    func snapshot(source: IPAddress, at time: Int64) -> WindowTable.Snapshot {
        failures.snapshot(key: KeyHash.address(source), at: time)
    }
}
