#if canImport(Glibc)
import Glibc
#endif
import PacketDecoding
import PcapCapture
import TeitenCore
import TeitenOutput

/// The capture thread's loop: frames from libpcap into the pipeline, until
/// the file ends, a stop signal arrives, or a packet limit is reached.
///
/// It runs on the thread that called it (the main thread, never Swift's
/// cooperative pool, since libpcap blocks), allocates nothing per packet,
/// and checks for a stop every `checkInterval` packets so a huge file stops
/// promptly on Ctrl-C.
final class CaptureLoop<Source: FrameSource> {
    let source: Source
    let packetLimit: UInt64?
    /// Where finished alerts are handed over; nil: they are only counted.
    let alerts: AlertStreamWriter?
    /// Where finished hours are handed over; nil when not counting.
    let hours: HourFileWriter?
    /// Rebuilds the country database on SIGHUP.
    let countries: CountryReloader
    /// Live: where and how often (seconds) the open hours are checkpointed.
    let checkpoint: (path: String, interval: Double)?
    /// Watchdog, status, metrics and SIGUSR1, on every periodic step.
    let duties: ServiceDuties
    /// libpcap's drop counters when the last hour was handed over.
    private var dropsHandedOver: (kernel: UInt64, interface: UInt64) = (0, 0)

    init(source: Source, packetLimit: UInt64?, alerts: AlertStreamWriter?, hours: HourFileWriter?,
         countries: CountryReloader, checkpoint: (path: String, interval: Double)?, duties: ServiceDuties) {
        self.source = source
        self.packetLimit = packetLimit
        self.alerts = alerts
        self.hours = hours
        self.countries = countries
        self.checkpoint = checkpoint
        self.duties = duties
    }

    func run(_ pipeline: inout SensorPipeline) -> RunOutcome {
        let started = MonotonicClock.seconds()
        var outcome = source.isLive ? runLive(&pipeline) : runFile(&pipeline)
        outcome.elapsedSeconds = MonotonicClock.seconds() - started
        outcome.stoppedBySignal = StopSignal.requested
        outcome.statistics = source.statistics()
        outcome.isLive = source.isLive
        return outcome
    }

    private func runFile(_ pipeline: inout SensorPipeline) -> RunOutcome {
        var outcome = RunOutcome()
        var progress = ProgressLine(fileSize: fileSize(source.name))
        let limit = packetLimit ?? .max
        let lookAhead = Self.handlesAhead(source)
        reading: while outcome.packets < limit {
            switch source.next() {
            case .frame(let frame):
                let outputWaiting = lookAhead
                    ? pipeline.enqueue(frame: frame.bytes, time: frame.time, wireLength: frame.wireLength)
                    : pipeline.process(frame: frame.bytes, time: frame.time, wireLength: frame.wireLength)
                if outputWaiting { handOver(&pipeline) }
                outcome.packets &+= 1
                if outcome.packets % CaptureLoopTiming.checkInterval == 0 {
                    if StopSignal.requested != nil { break reading }
                    hangup(&pipeline)
                    duties.step(pipeline, statistics: { nil })
                    progress?.update(packets: outcome.packets, fileOffset: source.fileOffset)
                }
            case .none:
                continue
            case .end:
                break reading  // end of file, or pcap_breakloop from a stop signal
            case .failed(let error):
                outcome.damage = error
                break reading
            }
        }
        progress?.clear()
        return outcome
    }

    private func runLive(_ pipeline: inout SensorPipeline) -> RunOutcome {
        guard let handle = source as? PcapHandle else { return RunOutcome() }
        var outcome = RunOutcome()
        pipeline.startWatching(at: MonotonicClock.wallTime())
        var lastCheckpoint = MonotonicClock.seconds()
        let limit = packetLimit ?? .max
        capturing: while outcome.packets < limit && StopSignal.requested == nil {
            switch handle.next() {
            case .frame(let frame):
                if pipeline.enqueue(frame: frame.bytes, time: frame.time, wireLength: frame.wireLength) { handOver(&pipeline) }
                outcome.packets &+= 1
                if outcome.packets % CaptureLoopTiming.checkInterval == 0 {
                    pipeline.tick(wallTime: MonotonicClock.wallTime())
                    hangup(&pipeline)
                    saveCheckpointIfDue(pipeline, last: &lastCheckpoint)
                    duties.step(pipeline, statistics: handle.statistics)
                }
            case .none:
                // Nothing ready: sleep until packets, a stop, or the tick interval.
                handle.waitForFrames(timeoutMilliseconds: CaptureLoopTiming.idleWaitMilliseconds, wakeDescriptor: StopSignal.wakeDescriptor)
                pipeline.tick(wallTime: MonotonicClock.wallTime())
                pipeline.settle()  // a quiet link: the detection thread's lines go out now
                if pipeline.hasAlerts || pipeline.hasFinishedHours { handOver(&pipeline) }
                hangup(&pipeline)
                saveCheckpointIfDue(pipeline, last: &lastCheckpoint)
                duties.step(pipeline, statistics: handle.statistics)
            case .end:
                break capturing  // pcap_breakloop from the stop signal
            case .failed(let error):
                outcome.damage = error
                break capturing
            }
        }
        if StopSignal.requested != nil && outcome.damage == nil {
            drain(handle, into: &pipeline, outcome: &outcome)
        }
        return outcome
    }

    /// After a stop signal: the packets already in the kernel ring were
    /// captured before the stop, so they are counted too. Bounded in packets
    /// and time, so a busy link cannot hold the shutdown.
    private func drain(_ handle: PcapHandle, into pipeline: inout SensorPipeline, outcome: inout RunOutcome) {
        let deadline = MonotonicClock.seconds() + 1
        var drained = 0
        draining: while drained < 1_000_000 && MonotonicClock.seconds() < deadline {
            for _ in 0..<1024 {
                guard case .frame(let frame) = handle.nextAfterBreak() else { break draining }
                if pipeline.enqueue(frame: frame.bytes, time: frame.time, wireLength: frame.wireLength) { handOver(&pipeline) }
                outcome.packets &+= 1
                drained += 1
            }
        }
    }

    /// Hands the open hours to the writer thread every `interval` seconds
    /// (the copies share storage; the capture thread copies only what it
    /// changes next).
    private func saveCheckpointIfDue(_ pipeline: SensorPipeline, last: inout Double) {
        guard let checkpoint, let hours else { return }
        let now = MonotonicClock.seconds()
        guard now - last >= checkpoint.interval else { return }
        last = now
        hours.checkpoint(pipeline.openHours, to: checkpoint.path)
    }

    /// SIGHUP: reopen the alert file and start reloading the country
    /// database; a reloaded database is swapped in here, between packets.
    private func hangup(_ pipeline: inout SensorPipeline) {
        if OperatorSignals.take(SIGHUP) {
            log.info("SIGHUP: reopening \(alerts?.path ?? "no alert file") and reloading the country database")
            pipeline.settle()  // lines of packets before the signal go to the file being rotated away
            handOver(&pipeline)
            alerts?.reopen()
            countries.begin()
        }
        if let database = countries.take() { pipeline.replaceCountries(database) }
    }

    /// Finished alert lines and hours go to the writer threads (alerts are
    /// dropped when there is no alert stream: the ledger has counted them).
    func handOver(_ pipeline: inout SensorPipeline) {
        alerts?.submit(pipeline.takeAlerts())
        var finished = pipeline.takeFinishedHours()
        if !finished.isEmpty, source.isLive, let statistics = source.statistics() {
            // Drops since the last hour was handed over belong to this one.
            for index in finished.indices {
                finished[index].kernelDrops = statistics.droppedByKernel &- dropsHandedOver.kernel
                finished[index].interfaceDrops = statistics.droppedByInterface &- dropsHandedOver.interface
                dropsHandedOver = (statistics.droppedByKernel, statistics.droppedByInterface)
            }
        }
        hours?.submit(finished)
    }

    private func fileSize(_ path: String) -> Int64? {
        var status = stat()
        return stat(path, &status) == 0 ? Int64(status.st_size) : nil
    }

    /// Whether frames may wait in the pipeline (its look-ahead ring, the
    /// detection thread's batches) before they are handled. A regular file
    /// never makes the reader wait, and a live loop drains the pipeline on
    /// every quiet moment; a pipe can stall with frames waiting, so there each
    /// frame is handled as it arrives (and detection stays on this thread).
    static func handlesAhead(_ source: Source) -> Bool {
        if source.isLive { return true }
        var status = stat()
        return stat(source.name, &status) == 0 && status.st_mode & S_IFMT == S_IFREG
    }
}

/// How a run ended.
struct RunOutcome {
    var packets: UInt64 = 0
    var elapsedSeconds: Double = 0
    /// Set when a capture file ended in damage (everything before it was processed).
    var damage: CaptureError?
    /// The signal that stopped the run, if one did.
    var stoppedBySignal: Int32?
    var statistics: CaptureStatistics?
    var isLive = false
}

enum CaptureLoopTiming {
    /// Packets between looks at the clock, the stop flag and the progress line.
    static let checkInterval: UInt64 = 4096
    /// Live: longest sleep while no packet arrives, in milliseconds: the
    /// granularity of wall-clock ticks and of noticing a stop.
    static let idleWaitMilliseconds: Int32 = 200
}
