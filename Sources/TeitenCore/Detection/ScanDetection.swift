public import PacketDecoding

/// The detection stage: every probe and backscatter packet visits, in this
/// order, the worm signatures, the vertical, horizontal and block scan
/// windows, the flood window, the dark-space random walk and the port-surge
/// counters (probes), or the backscatter window (replies). Crossings open
/// episodes in the `AlertLedger`; packets of an open episode extend it
/// instead of filling windows.
///
/// Every table is fixed-size (Tunables.trackedKeys, trackedSources); nothing
/// grows with the number of sources.
public struct ScanDetection {
    public let tunables: Tunables
    public var ledger: AlertLedger
    /// `--dark-network`: first contacts there are failed connections (TRW).
    public let darkNetworks: PrefixList

    private var vertical: WindowTable
    private var horizontal: WindowTable
    /// Block scans: per source, a window of ports and one of targets. The
    /// two tables see the same keys at the same times, so they keep and
    /// evict the same keys; evictions are counted from the ports table.
    private var blockPorts: WindowTable
    private var blockTargets: WindowTable
    private var backscatter: WindowTable
    private var flood: WindowTable
    private var worms: WindowTable
    private var fingerprints: FingerprintTally
    private let signatures = SignatureIndex.shared
    private var walk: DarkSpaceWalk
    private var surge: PortSurge
    private var lastExpirySecond: Int64 = .min

    public init(tunables: Tunables = Tunables(), darkNetworks: PrefixList = PrefixList()) {
        self.tunables = tunables
        self.darkNetworks = darkNetworks
        ledger = AlertLedger(tunables: tunables)
        let keys = tunables.trackedKeys
        vertical = WindowTable(capacity: tunables.verticalScanPorts, windowSeconds: tunables.verticalScanWindowSeconds, maximumKeys: keys)
        horizontal = WindowTable(capacity: tunables.horizontalSweepTargets, windowSeconds: tunables.horizontalSweepWindowSeconds, maximumKeys: keys)
        blockPorts = WindowTable(capacity: tunables.blockScanPorts, windowSeconds: tunables.blockScanWindowSeconds, maximumKeys: keys)
        blockTargets = WindowTable(capacity: tunables.blockScanTargets, windowSeconds: tunables.blockScanWindowSeconds, maximumKeys: keys)
        backscatter = WindowTable(capacity: tunables.backscatterTargets, windowSeconds: tunables.backscatterWindowSeconds, maximumKeys: keys)
        flood = WindowTable(capacity: tunables.floodSources, windowSeconds: tunables.floodWindowSeconds, maximumKeys: max(1024, keys / 16))
        let wormEvidence = WormSignature.table.filter { !$0.isPortOnly }.map(\.minimumTargets).max() ?? 1
        worms = WindowTable(capacity: wormEvidence, windowSeconds: tunables.wormWindowSeconds, maximumKeys: keys / 4)
        fingerprints = FingerprintTally(capacity: tunables.trackedSources)
        walk = DarkSpaceWalk(tunables: tunables)
        surge = PortSurge(tunables: tunables)
    }

    /// Evictions from every fixed table, for the summary and metrics.
    public var evictions: UInt64 {
        vertical.evictions &+ horizontal.evictions &+ blockPorts.evictions
            &+ backscatter.evictions &+ flood.evictions &+ worms.evictions &+ fingerprints.evictions
            &+ walk.evictions &+ surge.evictions
    }

    public mutating func observe(_ packet: PacketRecord, as trafficClass: TrafficClass) {
        observe(DetectionEvent(packet, as: trafficClass))
    }

    public mutating func observe(_ event: DetectionEvent) {
        observe(event, keys: event.trafficClass == .probe ? ProbeKeys(event) : ProbeKeys())
    }

    /// `observe`, with the probe's keys computed already (for the look-ahead).
    @inline(__always)
    mutating func observe(_ event: DetectionEvent, keys: ProbeKeys) {
        switch event.trafficClass {
        case .probe: observeProbe(event, keys: keys)
        case .backscatter: observeBackscatter(event)
        case .localOutbound: walk.observeReply(fromLocal: event)
        case .other: break
        }
        advance(to: event.time)
    }

    /// Packet time moved on (a packet, or a wall-clock tick on a quiet live
    /// link): end idle episodes, close surge intervals.
    public mutating func advance(to time: PacketTime) {
        let second = time.seconds
        guard second != lastExpirySecond else { return }
        lastExpirySecond = second
        ledger.expire(now: time)
        surge.advance(to: time, ledger: &ledger)
    }

    public mutating func finish(at time: PacketTime) {
        surge.finish(at: time, ledger: &ledger)
        ledger.finish(now: time)
    }

    // MARK: Probes

    /// The table keys of one probe, computed once when the look-ahead first
    /// meets the packet and kept beside it until it is processed.
    struct ProbeKeys {
        var target: UInt32 = 0
        var sourceElement: UInt32 = 0
        var sourceKey: UInt64 = 0
        var vertical: UInt64 = 0
        var sweep: UInt64 = 0
        var block: UInt64 = 0
        var flood: UInt64 = 0

        init() {}

        @inline(__always)
        init(_ event: DetectionEvent) {
            let port = event.port
            let proto = UInt64(event.transport.rawValue)
            target = KeyHash.element(event.destination)
            sourceElement = KeyHash.element(event.source)
            sourceKey = KeyHash.address(event.source)
            vertical = KeyHash.key(event.source, event.destination, Tag.vertical | proto)
            sweep = KeyHash.key(event.source, Tag.sweep | proto << 16 | UInt64(port))
            block = KeyHash.key(event.source, Tag.block | proto)
            flood = KeyHash.key(event.destination, Tag.flood | proto << 16 | UInt64(port))
        }
    }

    /// Look-ahead, first step (SensorPipeline, DetectionWorker): the buckets
    /// this packet's detectors will touch. (A key with an open episode skips
    /// its window, the ledger counting it; the second step, which can tell,
    /// asks for its episode's line instead of its window's.)
    ///
    /// Both steps are `mutating` only so that callers, which hold the
    /// detectors `inout`, pass them by reference: a non-mutating call from
    /// there copied all 1.4 KiB of `ScanDetection` per packet.
    @inline(__always)
    mutating func prefetchBuckets(_ event: DetectionEvent, keys: ProbeKeys) {
        switch event.trafficClass {
        case .probe:
            fingerprints.prefetch(source: keys.sourceKey)
            // Every key's bucket and episode-filter line, whether or not it
            // has an episode: reading the filter here stalled the look-ahead
            // on it; the next step reads it from cache.
            ledger.prefetchFilter(keys.vertical)
            ledger.prefetchFilter(keys.sweep)
            ledger.prefetchFilter(keys.block)
            ledger.prefetchFilter(keys.flood)
            vertical.prefetchBucket(keys.vertical)
            horizontal.prefetchBucket(keys.sweep)
            blockPorts.prefetchBucket(keys.block)
            blockTargets.prefetchBucket(keys.block)
            flood.prefetchBucket(keys.flood)
            surge.prefetch(event.transport, port: event.port, source: keys.sourceElement)
        case .backscatter:
            backscatter.prefetchBucket(KeyHash.key(event.source, Tag.backscatter))
        case .localOutbound, .other:
            break
        }
    }

    /// Look-ahead, second step (the buckets and filter lines are in cache by
    /// now): the windows of keys without an episode, the ledger's index
    /// lines of keys that may have one.
    @inline(__always)
    mutating func prefetchWindows(_ event: DetectionEvent, keys: ProbeKeys) {
        switch event.trafficClass {
        case .probe:
            forEachWindow(of: keys) { table, key in table.prefetchWindow(key) }
            prefetchEpisodes(of: keys)
        case .backscatter:
            backscatter.prefetchWindow(KeyHash.key(event.source, Tag.backscatter))
        case .localOutbound, .other:
            break
        }
    }

    /// The probe's window tables and keys, leaving out keys that have an
    /// open episode (the ledger counts them; their windows are not touched).
    @inline(__always)
    private func forEachWindow(of keys: ProbeKeys, _ body: (borrowing WindowTable, UInt64) -> Void) {
        if !ledger.mayBeActive(keys.vertical) { body(vertical, keys.vertical) }
        if !ledger.mayBeActive(keys.sweep) { body(horizontal, keys.sweep) }
        if !ledger.mayBeActive(keys.block) {
            body(blockPorts, keys.block)
            body(blockTargets, keys.block)
        }
        if !ledger.mayBeActive(keys.flood) { body(flood, keys.flood) }
    }

    /// The ledger's index lines for the probe's keys that may have an open
    /// episode. (No closure here: one that captured the ledger made every
    /// call copy the whole detection state, every table retained.)
    @inline(__always)
    private func prefetchEpisodes(of keys: ProbeKeys) {
        if ledger.mayBeActive(keys.vertical) { ledger.prefetch(keys.vertical) }
        if ledger.mayBeActive(keys.sweep) { ledger.prefetch(keys.sweep) }
        if ledger.mayBeActive(keys.block) { ledger.prefetch(keys.block) }
        if ledger.mayBeActive(keys.flood) { ledger.prefetch(keys.flood) }
    }

    private mutating func observeProbe(_ packet: DetectionEvent, keys: ProbeKeys) {
        let now = packet.time.nanoseconds
        let port = packet.port
        let source = packet.source
        let target = keys.target
        let sourceKey = keys.sourceKey
        if packet.isTCPSynProbe { fingerprints.record(source: sourceKey, tool: packet.tool) }

        // Worm signatures with evidence beyond the port: their own, low thresholds.
        var handledAsWorm = false
        if let index = packet.signature {
            if !signatures.isPortOnly[index] && packet.signatureMatches {
                handledAsWorm = true
                let key = KeyHash.key(source, Tag.worm | UInt64(index))
                if !ledger.extend(key, packet: packet, target: UInt64(target), port: port, source: nil),
                   let window = worms.crossing(key: key, element: target, at: now, threshold: signatures.minimumTargets[index]) {
                    let signature = WormSignature.table[index]
                    ledger.open(key, .init(kind: .worm, method: .signature, source: source, destination: nil,
                                           transport: packet.transport, windowSeconds: tunables.wormWindowSeconds,
                                           firstSeen: PacketTime(nanoseconds: window.firstSeen), packets: window.packets,
                                           targets: window.elements, ports: [UInt64(port)],
                                           signature: signature.name, tool: toolName(sourceKey)), at: packet.time)
                }
            }
        }

        // Vertical: many ports of one destination.
        let verticalKey = keys.vertical
        if !ledger.extend(verticalKey, packet: packet, target: UInt64(target), port: port, source: nil),
           let window = vertical.crossing(key: verticalKey, element: UInt32(port), at: now, threshold: tunables.verticalScanPorts) {
            ledger.open(verticalKey, .init(kind: .verticalScan, method: .threshold, source: source, destination: packet.destination,
                                           transport: packet.transport, windowSeconds: tunables.verticalScanWindowSeconds,
                                           firstSeen: PacketTime(nanoseconds: window.firstSeen), packets: window.packets,
                                           targets: [UInt64(target)], ports: window.elements, tool: toolName(sourceKey)), at: packet.time)
        }

        // Horizontal: one port on many destinations (a worm, when a port-only
        // signature names the port and no scanning tool explains the sweep).
        let sweepKey = keys.sweep
        if !handledAsWorm && !ledger.extend(sweepKey, packet: packet, target: UInt64(target), port: port, source: nil),
           let window = horizontal.crossing(key: sweepKey, element: target, at: now, threshold: tunables.horizontalSweepTargets) {
            openSweep(sweepKey, packet: packet, port: port, method: .threshold, window: window)
        }

        // Block: many ports on many destinations.
        let blockKey = keys.block
        if !ledger.extend(blockKey, packet: packet, target: UInt64(target), port: port, source: nil) {
            let ports = blockPorts.observe(key: blockKey, element: UInt32(port), at: now)
            let targets = blockTargets.observe(key: blockKey, element: target, at: now)
            if ports >= tunables.blockScanPorts && targets >= tunables.blockScanTargets {
                let portWindow = blockPorts.snapshot(key: blockKey, at: now)
                let targetWindow = blockTargets.snapshot(key: blockKey, at: now)
                ledger.open(blockKey, .init(kind: .blockScan, method: .threshold, source: source, destination: nil,
                                            transport: packet.transport, windowSeconds: tunables.blockScanWindowSeconds,
                                            firstSeen: PacketTime(nanoseconds: min(portWindow.firstSeen, targetWindow.firstSeen)),
                                            packets: max(portWindow.packets, targetWindow.packets),
                                            targets: targetWindow.elements, ports: portWindow.elements, tool: toolName(sourceKey)),
                            at: packet.time)
                blockPorts.reset(key: blockKey)
                blockTargets.reset(key: blockKey)
            }
        }

        // Flood: many sources to one destination and port.
        let floodKey = keys.flood
        let sourceElement = keys.sourceElement
        if !ledger.extend(floodKey, packet: packet, target: nil, port: port, source: UInt64(sourceElement)),
           let window = flood.crossing(key: floodKey, element: sourceElement, at: now, threshold: tunables.floodSources) {
            ledger.open(floodKey, .init(kind: .flood, method: .threshold, source: nil, destination: packet.destination,
                                        transport: packet.transport, windowSeconds: tunables.floodWindowSeconds,
                                        firstSeen: PacketTime(nanoseconds: window.firstSeen), packets: window.packets,
                                        ports: [UInt64(port)], sources: window.elements), at: packet.time)
        }

        // Dark space: the Threshold Random Walk names a sweeper within a few
        // first contacts, long before the sweep threshold.
        if !darkNetworks.isEmpty && !handledAsWorm && darkNetworks.contains(packet.destination) && !ledger.isActive(sweepKey) {
            if walk.observeDarkContact(source: source, target: target, at: now) {
                openSweep(sweepKey, packet: packet, port: port, method: .sequential,
                          window: walk.snapshot(source: source, at: now))
            }
        }

        surge.observe(packet.transport, port: port, source: sourceElement, at: packet.time)
    }

    private mutating func openSweep(_ key: UInt64, packet: DetectionEvent, port: UInt16, method: Alert.Method,
                                    window: WindowTable.Snapshot) {
        let sourceKey = KeyHash.address(packet.source)
        let tool = fingerprints.tool(of: sourceKey, majority: tunables.fingerprintMajority)
        var kind = Alert.Kind.horizontalSweep
        var signature: String?
        if tool == nil || tool == .mirai, let index = packet.signature, signatures.isPortOnly[index] {
            kind = .worm
            signature = WormSignature.table[index].name
        }
        let windowSeconds = method == .sequential ? DarkSpaceWalk.windowSeconds : tunables.horizontalSweepWindowSeconds
        ledger.open(key, .init(kind: kind, method: method, source: packet.source, destination: nil,
                               transport: packet.transport, windowSeconds: windowSeconds,
                               firstSeen: PacketTime(nanoseconds: window.firstSeen), packets: window.packets,
                               targets: window.elements, ports: [UInt64(port)], signature: signature, tool: tool?.name),
                    at: packet.time)
    }

    // MARK: Backscatter

    private mutating func observeBackscatter(_ packet: DetectionEvent) {
        let now = packet.time.nanoseconds
        let target = KeyHash.element(packet.destination)
        let port = packet.port
        let key = KeyHash.key(packet.source, Tag.backscatter)
        if ledger.extend(key, packet: packet, target: UInt64(target), port: port, source: nil) { return }
        if let window = backscatter.crossing(key: key, element: target, at: now, threshold: tunables.backscatterTargets) {
            ledger.open(key, .init(kind: .backscatter, method: .threshold, source: packet.source, destination: nil,
                                   transport: packet.transport, windowSeconds: tunables.backscatterWindowSeconds,
                                   firstSeen: PacketTime(nanoseconds: window.firstSeen), packets: window.packets,
                                   targets: window.elements, ports: [UInt64(port)], sourcePorts: [packet.sourcePort]),
                        at: packet.time)
        }
    }

    // MARK: Helpers

    private func toolName(_ sourceKey: UInt64) -> String? {
        fingerprints.tool(of: sourceKey, majority: tunables.fingerprintMajority)?.name
    }

    /// The contract's "port": TCP/UDP destination port, ICMP/ICMPv6 type, else 0.
    @inline(__always)
    public static func servicePort(_ packet: PacketRecord) -> UInt16 {
        switch packet.transport {
        case .tcp, .udp: packet.destinationPort
        case .icmp, .icmp6: UInt16(packet.icmpType)
        default: 0
        }
    }

    /// Distinguishes the detectors' keys in the shared key space.
    enum Tag {
        static let vertical: UInt64 = 1 << 56
        static let sweep: UInt64 = 2 << 56
        static let block: UInt64 = 3 << 56
        static let flood: UInt64 = 4 << 56
        static let backscatter: UInt64 = 5 << 56
        static let worm: UInt64 = 6 << 56
        static let surge: UInt64 = 7 << 56
    }
}
