public import PacketDecoding

/// The ordered pipeline, one per capture thread. Every frame enters at
/// `process(frame:time:wireLength:)` and goes, in this order:
///
/// 1. `FrameDecoder` (module PacketDecoding): bytes → `PacketRecord`, or a
///    named `DecodeFailure`;
/// 2. `PacketClock`: packet time moves forward;
/// 3. `TrafficTally`: counts by link type, protocol and failure reason;
/// 4. `Classifier`: probe, backscatter, local-outbound or other;
/// 5. `ScanDetection`: the detectors, which open and extend episodes in its
///    `AlertLedger`; finished alert lines wait there for `takeAlerts()`.
///
/// Later stages (country lookup per packet, hourly counts) are added here as
/// concrete stored properties, called in order below: a reader finds where a
/// packet goes next by reading one function, and the compiler sees concrete
/// types (no existential or closure call per packet).
///
/// Not thread-safe by design: it is owned by the capture loop.
public struct SensorPipeline {
    /// What the pipeline is told at start-up.
    public struct Configuration: Sendable {
        public var tunables = Tunables()
        /// The sensor's own addresses: never scans.
        public var localNetworks = PrefixList()
        /// Address space with no live hosts (Threshold Random Walk).
        public var darkNetworks = PrefixList()
        public var countries = CountryDatabase()
        public init() {}
    }

    public let linkType: LinkType
    public private(set) var clock = PacketClock()
    public private(set) var tally: TrafficTally
    public private(set) var classifier: Classifier
    public private(set) var detection: ScanDetection
    /// Packets by `TrafficClass.rawValue`.
    public private(set) var byClass = [UInt64](repeating: 0, count: TrafficClass.allCases.count)

    /// Reused for every frame, so decoding never allocates.
    private var record = PacketRecord()

    public init(linkType: LinkType, configuration: Configuration = Configuration()) {
        self.linkType = linkType
        tally = TrafficTally(linkType: linkType)
        classifier = Classifier(localNetworks: configuration.localNetworks)
        detection = ScanDetection(tunables: configuration.tunables, darkNetworks: configuration.darkNetworks)
        let countries = configuration.countries
        if !countries.isEmpty { detection.ledger.country = { countries.country(of: $0) } }
    }

    /// One captured frame. `frame` is valid only during this call.
    public mutating func process(frame: UnsafeRawBufferPointer, time: PacketTime, wireLength: UInt32) {
        tally.countFrame(capturedLength: frame.count, wireLength: wireLength)
        if let failure = FrameDecoder.decode(frame, linkType: linkType, time: time, wireLength: wireLength, into: &record) {
            tally.count(failure)
            return
        }
        clock.observe(record.time)
        tally.count(record)
        let trafficClass = classifier.classify(record)
        byClass[Int(trafficClass.rawValue)] &+= 1
        detection.observe(record, as: trafficClass)
    }

    /// Live capture: advances time while no packets arrive, from the wall
    /// clock, so that windows expire and episodes end on a quiet link.
    public mutating func tick(wallTime: PacketTime) {
        clock.tick(wallTime: wallTime)
        detection.advance(to: clock.now)
    }

    /// End of the run: every open episode ends with its final totals.
    public mutating func finish() {
        clock.finish()
        detection.finish(at: clock.now)
    }

    /// Alert lines produced since the last call, oldest first.
    public mutating func takeAlerts() -> [Alert] { detection.ledger.takeAlerts() }

    public var hasAlerts: Bool { detection.ledger.hasAlerts }

    public func packets(of trafficClass: TrafficClass) -> UInt64 { byClass[Int(trafficClass.rawValue)] }
}
