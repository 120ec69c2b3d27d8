import TeitenService

/// The progress line shown while replaying a file on a terminal: share of
/// the file read, packets/s, time left. Redrawn in place a few times a second
/// (`\r` and erase-to-end-of-line); never shown when standard error is not a
/// terminal, so logs and pipes stay clean.
struct ProgressLine {
    private let fileSize: Int64
    private let started: Double
    private var lastDrawn: Double
    private var shown = false
    static let interval = 0.25

    /// Nil when progress must not be shown.
    init?(fileSize: Int64?) {
        guard StandardError.isTerminal, let fileSize, fileSize > 0 else { return nil }
        self.fileSize = fileSize
        started = MonotonicClock.seconds()
        lastDrawn = started
    }

    /// Called every few thousand packets; draws when `interval` has passed.
    mutating func update(packets: UInt64, fileOffset: Int64?) {
        let now = MonotonicClock.seconds()
        guard now - lastDrawn >= Self.interval, let fileOffset else { return }
        lastDrawn = now
        let elapsed = max(now - started, 1e-6)
        let share = min(1, Double(fileOffset) / Double(fileSize))
        let left = share > 0 ? elapsed * (1 - share) / share : 0
        let line = "reading: \(Format.percent(share)) of \(Format.bytes(UInt64(fileSize))), "
            + "\(Format.rate(Double(packets) / elapsed)) packets/s, \(Format.duration(left)) left"
        StandardError.write("\r\u{1B}[K" + line)
        shown = true
    }

    /// Erases the line before the summary is written.
    func clear() {
        if shown { StandardError.write("\r\u{1B}[K") }
    }
}
