#if canImport(Glibc)
internal import Glibc
#endif
internal import Dispatch
internal import Synchronization
internal import PacketDecoding
internal import CPrefetch

/// The detection stage on a thread of its own, so that a two-core sensor
/// decodes and counts on one core while it detects on the other.
///
/// The capture thread hands packets over in batches (`batchSize` packets,
/// at most `batches` in flight), through a ring guarded by two counting
/// semaphores: one counts filled batches, the other free ones. When every
/// batch is full the capture thread waits: a capture file is then read more
/// slowly, and a live capture leaves the packets in the kernel's ring, where
/// an overflow is counted as kernel drops. Nothing is dropped silently.
///
/// Order is kept: batches are processed in the order they were filled and
/// packets within a batch in arrival order, and ticks (packet time moving
/// on without packets), country reloads and the end of the run travel in
/// the same stream, so the alerts are the ones inline detection gives. The
/// worker's alert lines and statistics are published under a lock after
/// every batch, for the capture thread to take.
final class DetectionWorker: @unchecked Sendable {  // producer state: capture thread only; consumer state: worker only; `shared` under its lock
    /// One entry of a batch: a packet, or an instruction in packet order;
    /// one cache line, the unit the other core has to fetch.
    private struct Item {
        enum Kind: UInt8 { case packet, advance, replaceCountries, finish }
        /// The packet, or (other kinds) only its time.
        var event = DetectionEvent()
        var kind = Kind.packet
    }

    /// What the worker publishes for the capture thread.
    private struct Shared {
        var alerts: [Alert] = []
        var statistics = DetectionStatistics()
        /// A reloaded database's lookup, picked up at `replaceCountries` items.
        var country: (@Sendable (IPAddress) -> String)?
    }

    static let batchSize = 512
    static let batches = 16

    private let items = ZeroedStorage<Item>(count: batchSize * batches)
    private let counts = ZeroedStorage<Int>(count: batches)
    private let filled = DispatchSemaphore(value: 0)
    private let free = DispatchSemaphore(value: batches)
    private let shared: Mutex<Shared>
    private let alertsWaiting = Atomic<Bool>(false)
    /// Batches the worker has finished (published its alerts for).
    private let batchesDone = Atomic<Int>(0)
    /// Batches the capture thread has handed over.
    private let batchesFilled = Atomic<Int>(0)
    private var thread = pthread_t()

    // Capture thread only.
    private var producerBatch = 0
    private var producerCount = 0
    private var producerHoldsBatch = false
    private var batchesSent = 0
    private(set) var finished = false

    // Worker thread only until `finish` has joined it; then the capture thread's.
    private(set) var detection: ScanDetection

    /// Nil when the thread cannot be started (a task limit, say): the
    /// pipeline then detects on its own thread, more slowly but the same.
    init?(_ detection: ScanDetection) {
        self.detection = detection
        shared = Mutex(Shared(statistics: DetectionStatistics(detection)))
        let context = Unmanaged.passRetained(self)
        let status = pthread_create(&thread, nil, { context in
            let worker = Unmanaged<DetectionWorker>.fromOpaque(context!).takeRetainedValue()
            worker.run()
            return nil
        }, context.toOpaque())
        guard status == 0 else {
            context.release()
            return nil
        }
    }

    // MARK: Capture thread

    @inline(__always)
    func submit(_ event: UnsafePointer<DetectionEvent>) {
        let item = nextItem()
        item.pointee.event = event.pointee
        item.pointee.kind = .packet
        commitItem()
    }

    /// Packet time moved on without packets (a live tick).
    func advance(to time: PacketTime) {
        instruct(.advance, at: time)
        flush()
    }

    func replaceCountries(_ country: @escaping @Sendable (IPAddress) -> String) {
        shared.withLock { $0.country = country }
        instruct(.replaceCountries, at: .zero)
    }

    /// Hands over the packets of a partly filled batch.
    func flush() {
        guard producerHoldsBatch, producerCount > 0 else { return }
        counts[producerBatch] = producerCount
        producerHoldsBatch = false
        producerBatch = (producerBatch + 1) % Self.batches
        batchesSent += 1
        batchesFilled.store(batchesSent, ordering: .releasing)
        filled.signal()
    }

    /// Hands over what waits and returns once the worker has processed it
    /// and published its alerts (at most `batches` batches: milliseconds).
    /// For quiet moments of a live capture, and before the alert file is
    /// reopened, so lines go out without waiting for more traffic.
    func settle() {
        flush()
        while batchesDone.load(ordering: .acquiring) < batchesSent { usleep(100) }
    }

    /// The run ends at `time`: every open episode ends; the thread exits and
    /// is joined, and `detection` holds the final state.
    func finish(at time: PacketTime) {
        guard !finished else { return }
        instruct(.finish, at: time)
        flush()
        pthread_join(thread, nil)
        finished = true
    }

    var hasAlerts: Bool { alertsWaiting.load(ordering: .relaxed) }

    func takeAlerts() -> [Alert] {
        shared.withLock { state in
            defer { state.alerts.removeAll(keepingCapacity: true) }  // no regrowing from empty per batch
            alertsWaiting.store(false, ordering: .relaxed)
            return state.alerts
        }
    }

    var statistics: DetectionStatistics { shared.withLock { $0.statistics } }

    private func instruct(_ kind: Item.Kind, at time: PacketTime) {
        let item = nextItem()
        item.pointee.kind = kind
        item.pointee.event.time = time
        commitItem()
    }

    @inline(__always)
    private func nextItem() -> UnsafeMutablePointer<Item> {
        if !producerHoldsBatch {
            // Under load the two threads wait on each other batch by batch:
            // a short spin first spares the other a wake-up system call
            // (the semaphore only calls the kernel for a sleeping waiter).
            Self.spin(Self.producerSpins) { self.batchesDone.load(ordering: .acquiring) > self.batchesSent - Self.batches }
            free.wait()
            producerHoldsBatch = true
            producerCount = 0
        }
        return items.base + (producerBatch * Self.batchSize + producerCount)
    }

    @inline(__always)
    private func commitItem() {
        producerCount += 1
        if producerCount == Self.batchSize { flush(); return }
        // The item `itemsAhead` later, asked for now: the worker's core read
        // it last, and fetching a line back from the other core takes as
        // long as a miss to memory.
        let ahead = producerCount &+ Self.itemsAhead
        if ahead < Self.batchSize { items.prefetch(producerBatch &* Self.batchSize &+ ahead) }
    }

    private static let itemsAhead = 8

    // MARK: Worker thread

    private func run() {
        // A local copy for the loop: a stored property of a class would be
        // copied out (every table reference retained) at each method call.
        var detection = self.detection
        defer { self.detection = detection }
        // The probes' table keys, computed `keysAhead` items early.
        let keys = ZeroedStorage<ScanDetection.ProbeKeys>(count: Self.keyRing)
        var batch = 0
        var processed = 0
        while true {
            Self.spin(Self.consumerSpins) { self.batchesFilled.load(ordering: .acquiring) > processed }
            filled.wait()
            let base = items.base + batch * Self.batchSize
            let count = counts[batch]
            var ended = false
            for early in 0..<min(Self.keysAhead, count) { Self.computeKeys(base, early, into: keys) }
            for index in 0..<count {
                Self.lookAhead(base, index, count, keys: keys, for: &detection)
                let item = base + index
                switch item.pointee.kind {
                case .packet:
                    detection.observe(item.pointee.event, keys: keys[index & (Self.keyRing - 1)])
                case .advance:
                    detection.advance(to: item.pointee.event.time)
                case .replaceCountries:
                    if let country = shared.withLock({ $0.country }) { detection.ledger.country = country }
                case .finish:
                    detection.finish(at: item.pointee.event.time)
                    ended = true
                }
            }
            publish(&detection)
            processed += 1
            free.signal()
            batchesDone.add(1, ordering: .releasing)
            if ended { return }
            batch = (batch + 1) % Self.batches
        }
    }

    /// Checks before a thread sleeps on the other: about 0.3 ms for the
    /// capture thread (a batch's worth of detection), 50 µs for the worker
    /// (on a quiet link it then sleeps until packets come).
    private static let producerSpins = 30_000
    private static let consumerSpins = 5_000

    @inline(__always)
    private static func spin(_ limit: Int, until ready: () -> Bool) {
        var remaining = limit
        while remaining > 0 && !ready() { remaining -= 1 }
    }

    /// Items ahead whose keys and buckets are asked for; windows at half of it.
    private static let keysAhead = 8
    private static let keyRing = 16

    /// The batch is in memory already, so the look-ahead is a look at later
    /// items: their keys and buckets `keysAhead` packets ahead, their
    /// windows half as far (the two steps of `SensorPipeline`'s look-ahead
    /// ring). `detection` is inout only so that it is passed by reference,
    /// not copied (1.4 KiB) per packet.
    @inline(__always)
    private static func lookAhead(_ base: UnsafeMutablePointer<Item>, _ index: Int, _ count: Int,
                                  keys: ZeroedStorage<ScanDetection.ProbeKeys>, for detection: inout ScanDetection) {
        // The item whose keys are computed next time round was written by
        // the capture thread's core: its line comes from there, as slowly
        // as from memory (reading it unasked was a third of this loop's time).
        let farthest = index &+ 2 &* keysAhead
        if farthest < count { teiten_prefetch(base + farthest) }
        let far = index &+ keysAhead
        if far < count, base[far].kind == .packet {
            computeKeys(base, far, into: keys)
            detection.prefetchBuckets(base[far].event, keys: keys[far & (keyRing - 1)])
        }
        let near = index &+ keysAhead / 2
        if near < count, base[near].kind == .packet {
            detection.prefetchWindows(base[near].event, keys: keys[near & (keyRing - 1)])
        }
    }

    @inline(__always)
    private static func computeKeys(_ base: UnsafeMutablePointer<Item>, _ index: Int, into keys: ZeroedStorage<ScanDetection.ProbeKeys>) {
        let item = base + index
        guard item.pointee.kind == .packet, item.pointee.event.trafficClass == .probe else { return }
        keys[index & (keyRing - 1)] = ScanDetection.ProbeKeys(item.pointee.event)
    }

    private func publish(_ detection: inout ScanDetection) {
        let alerts = detection.ledger.hasAlerts ? detection.ledger.takeAlerts() : []
        let statistics = DetectionStatistics(detection)
        shared.withLock { state in
            state.statistics = statistics
            if !alerts.isEmpty {
                state.alerts += alerts
                alertsWaiting.store(true, ordering: .relaxed)
            }
        }
    }
}

/// The detection stage's counters, as the metrics, the status line and the
/// run summary show them (a copy: the detectors may run on another thread).
public struct DetectionStatistics: Sendable {
    public var episodesOpened: UInt64 = 0
    public var episodesRefused: UInt64 = 0
    public var linesSuppressed: UInt64 = 0
    public var openEpisodes = 0
    /// Alert episodes written, in the order of `Alert.Kind.allCases`.
    public var alertsByKind: [UInt64] = []
    /// Evictions from every fixed detector table.
    public var evictions: UInt64 = 0

    init() {}

    init(_ detection: ScanDetection) {
        episodesOpened = detection.ledger.episodesOpened
        episodesRefused = detection.ledger.episodesRefused
        linesSuppressed = detection.ledger.linesSuppressed
        openEpisodes = detection.ledger.openEpisodes
        alertsByKind = detection.ledger.alertsByKind
        evictions = detection.evictions
    }
}
