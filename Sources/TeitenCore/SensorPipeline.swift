public import PacketDecoding

/// The ordered pipeline, one per capture thread. Every frame enters at
/// `enqueue` (or `process`) and goes, in this order:
///
/// 1. `FrameDecoder` (module PacketDecoding): bytes → `PacketRecord`, or a
///    named `DecodeFailure`;
/// 2. `PacketClock`: packet time moves forward;
/// 3. `TrafficTally`: counts by link type, protocol and failure reason;
/// 4. `Classifier`: probe, backscatter, local-outbound or other;
/// 5. `HourlyCounter` (when counting is on): the source's country
///    (`CountryCache`), then one row of the packet's UTC hour; closed hours
///    wait there for `takeFinishedHours()`;
/// 6. `ScanDetection`: the detectors, which see the packet as a
///    `DetectionEvent` (made when the frame is decoded and classified) and
///    open and extend episodes in their `AlertLedger`; finished alert lines
///    wait there for `takeAlerts()`.
///
/// Stages are concrete stored properties, called in order below: a reader
/// finds where a packet goes next by reading one function (`handle`), and
/// the compiler sees concrete types (no existential or closure call per
/// packet).
///
/// Look-ahead: the tables behind stages 5 and 6 are far bigger than the
/// caches and touched at random, so a packet costs a cache miss per table,
/// and misses taken one after another are what limits the speed. A capture
/// loop therefore calls `enqueue`, which decodes a frame into a ring of
/// `lookahead` packets and asks the caches (software prefetch) for the
/// lines that packet will need: its detector buckets and country slot on
/// entering the ring, the country table's next levels an eighth and a
/// quarter of the way through, its detector windows, hourly row slot and
/// distinct pairs a third of the way, its row's totals two thirds of the
/// way (once the row slot gives the row's index); the packet is
/// handled, in arrival order, when it leaves the ring. The misses of many
/// packets then overlap. `drain` empties the ring (end of input, quiet
/// link, shutdown); `process` is `enqueue` and `drain` for a single frame.
///
/// With `Configuration.detectionThread`, stage 6 runs on a thread of its own
/// (`DetectionWorker`), fed in order from `handle`; it does its own
/// look-ahead within the batches it is handed.
///
/// Not thread-safe by design: it is owned by the capture loop. Its tables
/// are held by reference, so it must not be copied while it runs; with a
/// detection thread, call `finish()` before dropping it (the thread ends there).
public struct SensorPipeline {
    /// What the pipeline is told at start-up.
    public struct Configuration: Sendable {
        public var tunables = Tunables()
        /// The sensor's own addresses: never scans.
        public var localNetworks = PrefixList()
        /// Address space with no live hosts (Threshold Random Walk).
        public var darkNetworks = PrefixList()
        public var countries = CountryDatabase()
        /// Count packets per hour, class, protocol, port and country.
        public var countHours = false
        /// Packet time an hour stays open after it ends, for late packets.
        public var hourGraceSeconds = 60
        /// Distinct (row, address) pairs kept exactly per hour and column
        /// (2,097,152: about 32 MiB per set; beyond it counts are lower bounds).
        public var hourPairLimit = 1 << 21
        /// Run stage 6 (the detectors) on a thread of its own
        /// (`DetectionWorker`): `teiten run` does for capture files and live
        /// capture. Off, everything runs on the caller's thread.
        public var detectionThread = false
        /// Build alert lines for `takeAlerts()`. Off when no alert stream
        /// is written: episodes are still opened, counted and ended.
        public var buildsAlertLines = true
        public init() {}
    }

    public let linkType: LinkType
    public private(set) var clock = PacketClock()
    public private(set) var tally: TrafficTally
    public private(set) var classifier: Classifier
    /// The detectors, when they run on the caller's thread. With a detection
    /// thread, their final state once `finish()` has returned (before it,
    /// their state at start-up: read `detectionStatistics` while running).
    public var detection: ScanDetection {
        if let worker, worker.finished { return worker.detection }
        return inlineDetection
    }
    private var inlineDetection: ScanDetection
    private let worker: DetectionWorker?
    /// The same worker, for the per-packet hand-over: a call through a
    /// guaranteed reference costs no retain and release (`worker` keeps it alive).
    private let workerReference: Unmanaged<DetectionWorker>?
    /// Stage 5; it holds no hour unless `countsHours`.
    private var hourly: HourlyCounter
    private let countsHours: Bool
    private var countries: CountryCache
    private let signatures = SignatureIndex.shared
    /// Packets by `TrafficClass.rawValue`.
    public private(set) var byClass = [UInt64](repeating: 0, count: TrafficClass.allCases.count)

    private var lastHourCheck: Int64 = .min

    /// A frame decoded and waiting in the look-ahead ring.
    private struct Pending {
        var record = PacketRecord()
        var failure: DecodeFailure?
        var capturedLength = 0
        var trafficClass = TrafficClass.other
        /// What the detectors will see of it.
        var event = DetectionEvent()
        /// A probe's detector keys (detection on this thread only).
        var keys = ScanDetection.ProbeKeys()
        /// The packet's hourly row, once the look-ahead has looked its country up.
        var row = CountRow(packed: 0)
        var rowKnown = false
        /// Where the look-ahead found the row in the open hour's index, so
        /// that counting does not look it up again (`HourlyCounter.RowPlace`).
        var rowPlace = HourlyCounter.RowPlace.unknown
    }

    /// Packets between a frame's decoding and its handling (a power of two).
    public static let lookahead = 32
    /// The ring: slot `n & (lookahead - 1)` holds the n-th frame enqueued.
    /// Decoding writes straight into it, so decoding never allocates.
    private let ring = ZeroedStorage<Pending>(count: lookahead)
    private var enqueued = 0
    private var handled = 0

    public init(linkType: LinkType, configuration: Configuration = Configuration()) {
        self.linkType = linkType
        tally = TrafficTally(linkType: linkType)
        classifier = Classifier(localNetworks: configuration.localNetworks)
        var detection = ScanDetection(tunables: configuration.tunables, darkNetworks: configuration.darkNetworks)
        let database = configuration.countries
        countries = CountryCache(database: database)
        if !database.isEmpty { detection.ledger.country = { database.country(of: $0) } }
        detection.ledger.buildsLines = configuration.buildsAlertLines
        inlineDetection = detection
        worker = configuration.detectionThread ? DetectionWorker(detection) : nil
        workerReference = worker.map { Unmanaged.passUnretained($0) }
        countsHours = configuration.countHours
        hourly = HourlyCounter(graceSeconds: configuration.hourGraceSeconds, pairLimit: configuration.hourPairLimit)
    }

    /// One captured frame, handled before returning (for input that may
    /// stall between frames, such as a pipe, and for tests). `frame` is
    /// valid only during this call. Returns what `enqueue` returns.
    @discardableResult
    public mutating func process(frame: UnsafeRawBufferPointer, time: PacketTime, wireLength: UInt32) -> Bool {
        enqueue(frame: frame, time: time, wireLength: wireLength)
        drain()
        return hasOutput
    }

    @inline(__always)
    private var hasOutput: Bool {
        (worker?.hasAlerts ?? inlineDetection.ledger.hasAlerts) || hourly.hasFinished
    }

    /// One captured frame into the look-ahead ring: decoded now (`frame` is
    /// valid only during this call), handled `lookahead` frames later or at
    /// the next `drain`. Returns true when alert lines or finished hours wait
    /// to be taken (a mutating call passes the pipeline by reference; its
    /// getters, called from another module, copied all 2 KiB of it per packet).
    @discardableResult
    public mutating func enqueue(frame: UnsafeRawBufferPointer, time: PacketTime, wireLength: UInt32) -> Bool {
        if enqueued &- handled == Self.lookahead { handleOldest() }
        enqueueDecoded(frame: frame, time: time, wireLength: wireLength)
        prefetchAhead()
        return hasOutput
    }

    @inline(__always)
    private mutating func enqueueDecoded(frame: UnsafeRawBufferPointer, time: PacketTime, wireLength: UInt32) {
        let pending = ring.base + (enqueued & (Self.lookahead - 1))
        enqueued &+= 1
        let time = time.clamped  // the readers clamp already; a caller that did not cannot make arithmetic overflow
        pending.pointee.capturedLength = frame.count
        pending.pointee.rowKnown = false
        pending.pointee.rowPlace = .unknown
        pending.pointee.failure = FrameDecoder.decode(frame, linkType: linkType, time: time, wireLength: wireLength,
                                                      into: &pending.pointee.record)
        guard pending.pointee.failure == nil else { return }
        let trafficClass = classifier.classify(pending.pointee.record)
        pending.pointee.trafficClass = trafficClass
        if countsHours { countries.prefetch(pending.pointee.record.source) }
        pending.pointee.event = DetectionEvent(&pending.pointee.record, as: trafficClass, signatures: signatures)
        if worker == nil {
            if trafficClass == .probe { pending.pointee.keys = ScanDetection.ProbeKeys(pending.pointee.event) }
            inlineDetection.prefetchBuckets(pending.pointee.event, keys: pending.pointee.keys)
        }
    }

    /// (Mutating only so that `self` is passed by reference: a
    /// non-mutating call copied all 2 KiB of the pipeline per packet.)
    @inline(__always)
    private mutating func prefetchAhead() {
        // Further down the ring, the lines asked for earlier have arrived:
        // what they point to can be found and asked for in turn.
        if countsHours, let earlier = waitingPacket(enqueued &- Self.lookahead / 8) {
            countries.prefetch(earlier.pointee.record.source, step: 2)
        }
        if countsHours, let earlier = waitingPacket(enqueued &- Self.lookahead / 4) {
            countries.prefetch(earlier.pointee.record.source, step: 3)
        }
        if let earlier = waitingPacket(enqueued &- Self.lookahead / 3) {
            if worker == nil {
                inlineDetection.prefetchWindows(earlier.pointee.event, keys: earlier.pointee.keys)
            }
            if countsHours {
                earlier.pointee.row = countRow(earlier)
                earlier.pointee.rowKnown = true
                hourly.prefetchRow(earlier.pointee.row, at: earlier.pointee.event.time,
                                   source: earlier.pointee.event.source, destination: earlier.pointee.event.destination)
            }
        }
        if countsHours, let earlier = waitingPacket(enqueued &- 2 * Self.lookahead / 3), earlier.pointee.rowKnown {
            earlier.pointee.rowPlace = hourly.locateRow(earlier.pointee.row, at: earlier.pointee.event.time)
        }
    }

    /// The `number`-th frame enqueued, if it is still waiting and decoded.
    @inline(__always)
    private func waitingPacket(_ number: Int) -> UnsafeMutablePointer<Pending>? {
        guard number > handled else { return nil }
        let pending = ring.base + ((number &- 1) & (Self.lookahead - 1))
        return pending.pointee.failure == nil ? pending : nil
    }

    /// The packet's row in the hourly counts (its country from the cache).
    /// (`mutating` for the reason `prefetchAhead` is.)
    @inline(__always)
    private mutating func countRow(_ pending: UnsafeMutablePointer<Pending>) -> CountRow {
        CountRow(trafficClass: pending.pointee.trafficClass, transport: pending.pointee.record.transport,
                 port: pending.pointee.event.port,
                 country: countries.code(of: pending.pointee.record.source))
    }

    /// Handles every frame still in the look-ahead ring (and hands the
    /// detection thread what waits for it).
    public mutating func drain() {
        while handled != enqueued { handleOldest() }
        worker?.flush()
    }

    /// `drain`, then waits until the detection thread has processed what it
    /// was handed and published its alert lines (a live capture's quiet
    /// moments; before the alert file is reopened).
    public mutating func settle() {
        drain()
        worker?.settle()
    }

    /// Frames enqueued but not handled yet.
    public var waiting: Int { enqueued &- handled }

    @inline(__always)
    private mutating func handleOldest() {
        let pending = ring.base + (handled & (Self.lookahead - 1))
        handled &+= 1
        if countsHours && !pending.pointee.rowKnown && pending.pointee.failure == nil {
            pending.pointee.row = countRow(pending)
        }
        handle(pending)
    }

    /// Where a decoded frame goes, in order. (`pending` is read in place: a
    /// `PacketRecord` passed by value was copied at every call.)
    @inline(__always)
    private mutating func handle(_ pending: UnsafeMutablePointer<Pending>) {
        tally.countFrame(capturedLength: pending.pointee.capturedLength, wireLength: pending.pointee.record.wireLength)
        if let failure = pending.pointee.failure {
            tally.count(failure)
            if countsHours { hourly.countUndecodable(failure, at: pending.pointee.record.time) }
            return
        }
        let time = pending.pointee.record.time
        clock.observe(time)
        tally.count(pending.pointee.record)
        byClass[Int(pending.pointee.trafficClass.rawValue)] &+= 1
        if countsHours {
            hourly.add(pending.pointee.row, at: time, source: pending.pointee.event.source,
                       destination: pending.pointee.event.destination, place: pending.pointee.rowPlace)
            if time.seconds != lastHourCheck {  // once per second of packet time
                lastHourCheck = time.seconds
                hourly.advance(to: time)
            }
        }
        if let workerReference {
            withUnsafePointer(to: &pending.pointee.event) { event in
                workerReference._withUnsafeGuaranteedRef { $0.submit(event) }
            }
        } else {
            inlineDetection.observe(pending.pointee.event, keys: pending.pointee.keys)
        }
    }

    /// A reloaded country database (SIGHUP), swapped in between packets:
    /// later packets and alert lines use it; the cache starts empty.
    public mutating func replaceCountries(_ database: CountryDatabase) {
        drain()
        countries = CountryCache(database: database)
        let country: @Sendable (IPAddress) -> String = { database.country(of: $0) }
        if let worker { worker.replaceCountries(country) } else { inlineDetection.ledger.country = country }
    }

    /// Live capture: watching began now (hours before it are incomplete).
    public mutating func startWatching(at wallTime: PacketTime) {
        hourly.observing(since: wallTime)
    }

    /// The open hours, for a checkpoint (copies share storage until written).
    public var openHours: [HourCounts] { hourly.openHours }

    /// A live restart: the checkpointed hours (see `HourlyCounter.restore`).
    public mutating func restore(_ hours: [HourCounts], now: PacketTime) {
        if countsHours { hourly.restore(hours, now: now) }
    }

    /// Hours closed since the last call, for the count-file writer.
    public mutating func takeFinishedHours() -> [HourCounts] { hourly.takeFinished() }

    public var hasFinishedHours: Bool { hourly.hasFinished }

    /// Live capture: advances time while no packets arrive, from the wall
    /// clock, so that windows expire and episodes end on a quiet link.
    public mutating func tick(wallTime: PacketTime) {
        drain()
        clock.tick(wallTime: wallTime)
        hourly.advance(to: clock.now)
        if let worker { worker.advance(to: clock.now) } else { inlineDetection.advance(to: clock.now) }
    }

    /// End of the run: every open episode ends with its final totals.
    public mutating func finish() {
        drain()
        clock.finish()
        hourly.finish(at: clock.now)
        if let worker { worker.finish(at: clock.now) } else { inlineDetection.finish(at: clock.now) }
    }

    /// Alert lines produced since the last call, oldest first.
    public mutating func takeAlerts() -> [Alert] { worker?.takeAlerts() ?? inlineDetection.ledger.takeAlerts() }

    public var hasAlerts: Bool { worker?.hasAlerts ?? inlineDetection.ledger.hasAlerts }

    /// The detectors' counters now (from the detection thread's last batch, when it has one).
    public var detectionStatistics: DetectionStatistics { worker?.statistics ?? DetectionStatistics(inlineDetection) }

    public func packets(of trafficClass: TrafficClass) -> UInt64 { byClass[Int(trafficClass.rawValue)] }
}
