public import Logging
#if canImport(Glibc)
internal import Glibc
#endif
internal import Synchronization

/// swift-log's handler for the sensor: one line per message on standard
/// error, written whole (`StandardError`) so lines never interleave.
///
/// Under systemd (standard error is the stream `JOURNAL_STREAM` names) each line starts with its syslog
/// priority, `<3>` for errors, `<4>` for warnings, `<6>` for info, which
/// journald strips and records; no timestamp, as the journal adds its own.
/// On a terminal or in a pipe, lines read `teiten: warning: ...`, like the
/// rest of the command line.
public struct JournalLogHandler: LogHandler {
    /// The least severe level logged, shared by every logger of the process.
    private static let threshold = Atomic<UInt8>(Self.rank(.info))

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level {
        get { Self.level(ofRank: Self.threshold.load(ordering: .relaxed)) }
        set { Self.threshold.store(Self.rank(newValue), ordering: .relaxed) }
    }
    private let journal: Bool

    public init(label: String, journal: Bool) {
        self.journal = journal
    }

    /// Installs the handler for the whole process (once, before any logger is made).
    public static func bootstrap(environment: [String: String]) {
        let journal = standardErrorIsJournal(environment["JOURNAL_STREAM"])
        LoggingSystem.bootstrap { label in JournalLogHandler(label: label, journal: journal) }
    }

    /// Whether standard error is the journal stream systemd set up:
    /// `JOURNAL_STREAM` holds its `device:inode`, and a child that inherited
    /// the variable but writes elsewhere (a pipe, a terminal) must not get
    /// priority prefixes (systemd.exec(5)).
    static func standardErrorIsJournal(_ stream: String?) -> Bool {
        guard let stream else { return false }
        let parts = stream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var status = stat()
        guard fstat(2, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }

    public static func setLevel(_ level: Logger.Level) { threshold.store(rank(level), ordering: .relaxed) }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        write(Self.format(level: event.level, message: "\(event.message)",
                          metadata: metadata.merging(event.metadata ?? [:]) { $1 }, journal: journal))
    }

    /// The text for one message (without the final newline). A message of
    /// several lines (the run summary) keeps them: on a terminal the lines
    /// after the first are written as they are, under journald each gets the
    /// priority prefix, since each becomes a journal entry of its own.
    public static func format(level: Logger.Level, message: String, metadata: Logger.Metadata, journal: Bool) -> String {
        var text = message
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(value)" }
        if journal {
            return text.split(separator: "\n", omittingEmptySubsequences: false)
                .map { "<\(syslogPriority(level))>\($0)" }.joined(separator: "\n")
        }
        switch level {
        case .trace, .debug: return "teiten: debug: \(text)"
        case .info, .notice, .error: return "teiten: \(text)"
        case .warning: return "teiten: warning: \(text)"
        case .critical: return "teiten: critical: \(text)"
        }
    }

    /// syslog(3) priorities, as journald reads them from `<N>` prefixes.
    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    private func write(_ line: String) { StandardError.write(line + "\n") }

    private static func rank(_ level: Logger.Level) -> UInt8 { UInt8(Logger.Level.allCases.firstIndex(of: level)!) }
    private static func level(ofRank rank: UInt8) -> Logger.Level { Logger.Level.allCases[Int(rank)] }
}
