public import PacketDecoding

/// The ordered pipeline, one per capture thread. Every frame enters at
/// `process(frame:time:wireLength:)` and goes, in this order:
///
/// 1. `FrameDecoder` (module PacketDecoding): bytes → `PacketRecord`, or a
///    named `DecodeFailure`;
/// 2. `PacketClock`: packet time moves forward;
/// 3. `TrafficTally`: counts by link type, protocol and failure reason;
/// 4. `Classifier`: probe, backscatter, local-outbound or other;
/// 5. `HourlyCounter` (when counting is on): the source's country
///    (`CountryCache`), then one row of the packet's UTC hour; closed hours
///    wait there for `takeFinishedHours()`;
/// 6. `ScanDetection`: the detectors, which open and extend episodes in its
///    `AlertLedger`; finished alert lines wait there for `takeAlerts()`.
///
/// Stages are concrete stored properties, called in order below: a reader
/// finds where a packet goes next by reading one function, and the compiler
/// sees concrete types (no existential or closure call per packet).
///
/// Not thread-safe by design: it is owned by the capture loop. Its tables
/// are held by reference, so it must not be copied while it runs.
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
        public init() {}
    }

    public let linkType: LinkType
    public private(set) var clock = PacketClock()
    public private(set) var tally: TrafficTally
    public private(set) var classifier: Classifier
    public private(set) var detection: ScanDetection
    public private(set) var hourly: HourlyCounter?
    private var countries: CountryCache
    /// Packets by `TrafficClass.rawValue`.
    public private(set) var byClass = [UInt64](repeating: 0, count: TrafficClass.allCases.count)

    private var lastHourCheck: Int64 = .min

    /// Reused for every frame, so decoding never allocates.
    private var record = PacketRecord()

    public init(linkType: LinkType, configuration: Configuration = Configuration()) {
        self.linkType = linkType
        tally = TrafficTally(linkType: linkType)
        classifier = Classifier(localNetworks: configuration.localNetworks)
        detection = ScanDetection(tunables: configuration.tunables, darkNetworks: configuration.darkNetworks)
        let database = configuration.countries
        countries = CountryCache(database: database)
        if !database.isEmpty { detection.ledger.country = { database.country(of: $0) } }
        if configuration.countHours {
            hourly = HourlyCounter(graceSeconds: configuration.hourGraceSeconds, pairLimit: configuration.hourPairLimit)
        }
    }

    /// One captured frame. `frame` is valid only during this call.
    public mutating func process(frame: UnsafeRawBufferPointer, time: PacketTime, wireLength: UInt32) {
        let time = time.clamped  // the readers clamp already; a caller that did not cannot make arithmetic overflow
        tally.countFrame(capturedLength: frame.count, wireLength: wireLength)
        if let failure = FrameDecoder.decode(frame, linkType: linkType, time: time, wireLength: wireLength, into: &record) {
            tally.count(failure)
            hourly?.countUndecodable(failure, at: time)
            return
        }
        clock.observe(record.time)
        tally.count(record)
        let trafficClass = classifier.classify(record)
        byClass[Int(trafficClass.rawValue)] &+= 1
        if hourly != nil {
            let row = CountRow(trafficClass: trafficClass, transport: record.transport,
                               port: ScanDetection.servicePort(record), country: countries.code(of: record.source))
            hourly!.add(record, row: row)
            if record.time.seconds != lastHourCheck {  // once per second of packet time
                lastHourCheck = record.time.seconds
                hourly!.advance(to: record.time)
            }
        }
        detection.observe(record, as: trafficClass)
    }

    /// A reloaded country database (SIGHUP), swapped in between packets:
    /// later packets and alert lines use it; the cache starts empty.
    public mutating func replaceCountries(_ database: CountryDatabase) {
        countries = CountryCache(database: database)
        detection.ledger.country = { database.country(of: $0) }
    }

    /// Live capture: watching began now (hours before it are incomplete).
    public mutating func startWatching(at wallTime: PacketTime) {
        hourly?.observing(since: wallTime)
    }

    /// The open hours, for a checkpoint (copies share storage until written).
    public var openHours: [HourCounts] { hourly?.openHours ?? [] }

    /// A live restart: the checkpointed hours (see `HourlyCounter.restore`).
    public mutating func restore(_ hours: [HourCounts], now: PacketTime) { hourly?.restore(hours, now: now) }

    /// Hours closed since the last call, for the count-file writer.
    public mutating func takeFinishedHours() -> [HourCounts] { hourly?.takeFinished() ?? [] }

    public var hasFinishedHours: Bool { hourly?.hasFinished ?? false }

    /// Live capture: advances time while no packets arrive, from the wall
    /// clock, so that windows expire and episodes end on a quiet link.
    public mutating func tick(wallTime: PacketTime) {
        clock.tick(wallTime: wallTime)
        hourly?.advance(to: clock.now)
        detection.advance(to: clock.now)
    }

    /// End of the run: every open episode ends with its final totals.
    public mutating func finish() {
        clock.finish()
        hourly?.finish(at: clock.now)
        detection.finish(at: clock.now)
    }

    /// Alert lines produced since the last call, oldest first.
    public mutating func takeAlerts() -> [Alert] { detection.ledger.takeAlerts() }

    public var hasAlerts: Bool { detection.ledger.hasAlerts }

    public func packets(of trafficClass: TrafficClass) -> UInt64 { byClass[Int(trafficClass.rawValue)] }
}
