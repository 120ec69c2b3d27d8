public import PacketDecoding

/// The hourly-counts stage: every decoded IP packet lands in exactly one
/// row of its UTC hour of packet time.
///
/// Two hours can be open at once: after the hour edge, the previous hour
/// stays open for `graceSeconds` of packet time, so packets that arrive
/// slightly out of order (a few milliseconds across the edge, or queued
/// behind others on a live link) still count in their own hour. Packets for
/// an hour already closed are counted as `latePackets` of the hour they
/// arrive in. Closed hours wait in `finished` for the writer.
public struct HourlyCounter {
    public let graceSeconds: Int64
    let pairLimit: Int
    private var current: HourCounts?
    /// `current`'s hour (`.min`: none), set with it (`makeCurrent`), for the
    /// per-packet test: reading it through the optional copied the whole
    /// hour, every table retained and released.
    private var currentHour: Int64 = .min
    /// Counts the hours made current: a `RowPlace` found in an earlier one
    /// is not used (its index belongs to another hour's rows).
    private var hoursOpened: UInt32 = 1
    private var previous: HourCounts?
    /// Earliest time the sensor is known to have been watching.
    private var observedFrom: PacketTime?
    /// Hours closed and ready for the writer, oldest first.
    public private(set) var finished: [HourCounts] = []
    /// The emptied tables of the last hour closed, for the open hour to move
    /// into (`HourCounts.adopt`) or the next hour to open with.
    private var spareTables: HourTables?

    public init(graceSeconds: Int = 60, pairLimit: Int = 1 << 21) {
        self.graceSeconds = Int64(graceSeconds)
        self.pairLimit = pairLimit
    }

    /// Live capture: watching began at `time` (the start of the run).
    public mutating func observing(since time: PacketTime) {
        if observedFrom == nil || time < observedFrom! { observedFrom = time }
    }

    /// Look-ahead (SensorPipeline): `HourCounts.prefetchRow`, for a packet
    /// of the current hour (others take the slow path anyway). The
    /// look-ahead steps are `mutating` only so that the pipeline, which
    /// holds this stage `inout`, passes it by reference instead of copying it.
    @inline(__always)
    mutating func prefetchRow(_ row: CountRow, at time: PacketTime, source: IPAddress, destination: IPAddress) {
        guard currentHour == Self.hour(of: time) else { return }
        current!.prefetchRow(row, source: source, destination: destination)
    }

    /// Where the look-ahead found a row: its index in the open hour that
    /// was current then (`opened` tells which), so that `add` need not look
    /// it up again; `unknown` when it did not (a new row, another hour).
    struct RowPlace {
        var index: Int32
        var opened: UInt32
        static let unknown = RowPlace(index: -1, opened: 0)
    }

    /// Look-ahead: `HourCounts.locateRow`, likewise; returns where the row is.
    @inline(__always)
    mutating func locateRow(_ row: CountRow, at time: PacketTime) -> RowPlace {
        guard currentHour == Self.hour(of: time), let index = current!.locateRow(row) else { return .unknown }
        return RowPlace(index: index, opened: hoursOpened)
    }

    /// One packet of `row`: the fields counting reads, not the whole record.
    /// `place`: where the look-ahead found the row, if it did.
    @inline(__always)
    mutating func add(_ row: CountRow, at time: PacketTime, source: IPAddress, destination: IPAddress,
                      place: RowPlace = .unknown) {
        let hour = Self.hour(of: time)
        if currentHour == hour {
            let index = place.index >= 0 && place.opened == hoursOpened ? place.index : nil
            current!.add(row, index: index, at: time, source: source, destination: destination)
            return
        }
        route(time, hour: hour) { $0.add(row, at: time, source: source, destination: destination) }
    }

    mutating func countUndecodable(_ failure: DecodeFailure, at time: PacketTime) {
        let hour = Self.hour(of: time)
        if currentHour == hour { current!.countUndecodable(failure); return }
        route(time, hour: hour) { $0.countUndecodable(failure) }
    }

    /// The slow path: a new hour, the previous hour within its grace, or too late.
    private mutating func route(_ time: PacketTime, hour: Int64, _ update: (inout HourCounts) -> Void) {
        if observedFrom == nil { observedFrom = time }
        if current != nil, hour > currentHour {
            if let older = takePrevious() { close(older, until: time) }
            previous = current
            makeCurrent(HourCounts(hour: hour, pairLimit: pairLimit, like: previous, reusing: spareTables))
            spareTables = nil
            update(&current!)
        } else if current == nil {
            makeCurrent(HourCounts(hour: hour, pairLimit: pairLimit))
            update(&current!)
        } else if previous?.hour == hour {
            update(&previous!)
        } else {
            current!.latePackets &+= 1
        }
        advance(to: time)
    }

    private mutating func makeCurrent(_ hour: HourCounts?) {
        current = hour
        currentHour = hour?.hour ?? .min
        hoursOpened &+= 1
        if hoursOpened == 0 { hoursOpened = 1 }  // 0 marks `RowPlace.unknown`
    }

    /// Packet (or wall-clock) time moved on: the previous hour closes once
    /// its grace has passed.
    public mutating func advance(to time: PacketTime) {
        guard let open = previous, time.seconds >= (open.hour + 1) * 3600 + graceSeconds else { return }
        previous = nil
        close(open, until: time)
    }

    /// The run ends: every open hour closes (the last one incomplete unless
    /// the run watched it to its end).
    public mutating func finish(at time: PacketTime) {
        let older = takePrevious(), last = current.take()
        makeCurrent(nil)  // taken out before closing: nothing open adopts tables now
        // Moved, not bound with `if let`: a binding beside the optional holds
        // a second reference, and the hour's sketch block (16 MiB) was copied.
        switch consume older { case .some(let hour): close(hour, until: time); case .none: break }
        switch consume last { case .some(let hour): close(hour, until: time); case .none: break }
    }

    /// The previous hour, no longer held here: an hour being closed must be
    /// its tables' only owner, or `releasePairs` cannot empty them for
    /// reuse and maps new ones instead (fresh memory, zeroed on first touch).
    private mutating func takePrevious() -> HourCounts? {
        defer { previous = nil }
        return previous
    }

    /// The open hours as they stand, for a checkpoint.
    public var openHours: [HourCounts] { [previous, current].compactMap { $0 } }

    /// After a restart: hours from the checkpoint. The hour of `now` goes on
    /// counting (marked `gap`); older ones were never written and close now,
    /// incomplete.
    public mutating func restore(_ hours: [HourCounts], now: PacketTime) {
        let nowHour = Self.hour(of: now)
        for hour in hours.sorted(by: { $0.hour < $1.hour }) {
            if hour.hour == nowHour && current == nil {
                makeCurrent(hour)
            } else if hour.hour < nowHour {
                var closed = hour
                closed.complete = false
                closed.releasePairs(forReuse: false)
                finished.append(closed)
            }
        }
    }

    public mutating func takeFinished() -> [HourCounts] {
        defer { finished.removeAll(keepingCapacity: true) }
        return finished
    }

    public var hasFinished: Bool { !finished.isEmpty }

    private mutating func close(_ hour: consuming HourCounts, until time: PacketTime) {
        var counts = hour
        let start = counts.startSeconds, end = start + 3600
        let from = observedFrom?.nanoseconds ?? .max
        counts.complete = !counts.gap && from <= start * 1_000_000_000 && time.nanoseconds >= end * 1_000_000_000
        spareTables = counts.releasePairs(forReuse: current != nil)  // nil: the run is ending
        if currentHour > counts.hour { current!.adopt(&spareTables) }
        finished.append(counts)
    }

    @inline(__always)
    static func hour(of time: PacketTime) -> Int64 {
        let seconds = time.seconds
        return seconds >= 0 ? seconds / 3600 : (seconds - 3599) / 3600
    }
}
