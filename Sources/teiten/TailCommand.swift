import ArgumentParser
import Foundation
import TeitenService

/// `teiten tail`: the alert stream for people. Follows a JSON Lines file the
/// way `tail -F` does (through rotation and truncation), prints one readable
/// line per alert, coloured by severity on a terminal and plain when piped.
struct TailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Follow an alert stream and print one readable line per alert.",
        discussion: """
            Examples:
              teiten tail /var/log/teiten/alerts.json
              teiten tail alerts.jsonl --kind worm --kind flood --country CN
              teiten run --read capture.pcap --alerts - | teiten tail
            """
    )

    @Argument(help: ArgumentHelp("Alert file (JSON Lines) to follow, or - for standard input.", valueName: "path"))
    var path: String = "-"

    @Option(name: .long, help: ArgumentHelp("Only these kinds (repeatable): \(TailFilter.kinds.joined(separator: ", ")).", valueName: "kind"))
    var kind: [String] = []

    @Option(name: .long, help: ArgumentHelp("Only alerts whose destination ports include this one (repeatable).", valueName: "port"))
    var port: [Int] = []

    @Option(name: .long, help: ArgumentHelp("Only alerts from sources in this country, ISO 3166-1 alpha-2 (repeatable).", valueName: "CC"))
    var country: [String] = []

    @Flag(name: .long, help: "Print what the file holds now and stop, instead of following it.")
    var noFollow = false

    @Flag(name: .long, help: "Start at the beginning of the file (default when not following), not at its end.")
    var fromStart = false

    @Flag(name: .long, help: "Only start lines: one line per episode as it is found.")
    var startsOnly = false

    func validate() throws {
        for name in kind where !TailFilter.kinds.contains(name) {
            throw ValidationError("unknown kind '\(name)'; kinds are \(TailFilter.kinds.joined(separator: ", ")).")
        }
        for code in country where code.count != 2 {
            throw ValidationError("'\(code)' is not an ISO 3166-1 alpha-2 country code.")
        }
    }

    func run() throws {
        let filter = TailFilter(kinds: Set(kind), ports: Set(port), countries: Set(country.map { $0.uppercased() }), startsOnly: startsOnly)
        let printer = AlertLinePrinter(colour: isatty(1) == 1, filter: filter)
        if path == "-" {
            var lineNumber = 0
            while let line = readLine() {
                lineNumber += 1
                printer.handle(line, source: "standard input", lineNumber: lineNumber)
            }
            return
        }
        var follower = try FileFollower(path: path, fromStart: fromStart || noFollow)
        while true {
            for (line, number) in follower.readNewLines() { printer.handle(line, source: path, lineNumber: number) }
            if noFollow { return }
            usleep(250_000)
        }
    }
}

/// Which alerts `teiten tail` shows.
struct TailFilter {
    static let kinds = ["vertical_scan", "horizontal_sweep", "block_scan", "worm", "backscatter", "flood", "port_surge"]
    var kinds: Set<String>
    var ports: Set<Int>
    var countries: Set<String>
    var startsOnly: Bool

    func accepts(_ alert: [String: Any]) -> Bool {
        if startsOnly && alert["phase"] as? String != "start" { return false }
        if !kinds.isEmpty && !kinds.contains(alert["kind"] as? String ?? "") { return false }
        if !countries.isEmpty && !countries.contains(alert["src_country"] as? String ?? "") { return false }
        if !ports.isEmpty && ports.isDisjoint(with: alert["dest_ports"] as? [Int] ?? []) { return false }
        return true
    }
}

/// Formats alerts for a person:
/// `2026-01-15 00:00:04Z start  worm              BR 200.192.74.233 → udp/1434  targets 1  ports 1  packets 1  SQL Slammer  high`
struct AlertLinePrinter {
    let colour: Bool
    let filter: TailFilter

    func handle(_ line: String, source: String, lineNumber: Int) {
        guard !line.isEmpty else { return }
        guard let data = line.data(using: .utf8),
              let alert = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              alert["event_type"] as? String == "scan" else {
            StandardError.line("\(source): line \(lineNumber) is not an alert; skipped")
            return
        }
        guard filter.accepts(alert) else { return }
        print(format(alert))
        fflush(nil)
    }

    func format(_ alert: [String: Any]) -> String {
        let time = (alert["timestamp"] as? String ?? "").replacingOccurrences(of: "T", with: " ")
        let shortTime = time.count >= 19 ? String(time.prefix(19)) + "Z" : time
        let phase = alert["phase"] as? String ?? "?"
        let kind = alert["kind"] as? String ?? "?"
        let proto = alert["proto"] as? String ?? "?"
        let ports = (alert["dest_ports"] as? [Int] ?? []).map(String.init)
        let portText = ports.count > 6 ? ports.prefix(6).joined(separator: ",") + ",…" : ports.joined(separator: ",")
        let source = (alert["src_ip"] as? String).map { "\(alert["src_country"] as? String ?? "ZZ") \($0)" } ?? "many sources"
        let destination = (alert["dest_ip"] as? String).map { " \($0)" } ?? ""
        var text = "\(shortTime) \(pad(phase, 6)) \(pad(kind, 17)) \(source) →\(destination) \(proto)/\(portText)"
        text += "  targets \(alert["targets"] as? Int ?? 0)  ports \(alert["ports"] as? Int ?? 0)"
        if let sources = alert["sources"] as? Int { text += "  sources \(sources)" }
        text += "  packets \(alert["packets"] as? Int ?? 0)"
        if let tool = alert["tool"] as? String { text += "  tool \(tool)" }
        if let signature = alert["signature"] as? String { text += "  \(signature)" }
        let severity = alert["severity"] as? String ?? "low"
        text += "  \(severity)"
        guard colour else { return text }
        let hue = severity == "high" ? "31" : severity == "medium" ? "33" : "36"
        return "\u{1B}[\(phase == "start" ? "1;" : "")\(hue)m\(text)\u{1B}[0m"
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

/// Reads whole lines appended to a file, surviving rotation (the path now
/// names a new file) and truncation, like `tail -F`.
struct FileFollower {
    let path: String
    private var handle: FileHandle?
    private var inode: UInt64 = 0
    private var offset: UInt64 = 0
    private var pending = Data()
    private var lineNumber = 0

    init(path: String, fromStart: Bool) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            StandardError.line("\(path): No such file or directory")
            throw ExitCode(66)
        }
        try open(atEnd: !fromStart)
    }

    private mutating func open(atEnd: Bool) throws {
        handle = FileHandle(forReadingAtPath: path)
        guard let handle else { StandardError.line("\(path): cannot open for reading"); throw ExitCode(66) }
        inode = Self.inode(path) ?? 0
        offset = atEnd ? handle.seekToEndOfFile() : 0
        if !atEnd { handle.seek(toFileOffset: 0) }
        pending = Data()
    }

    mutating func readNewLines() -> [(String, Int)] {
        // Rotated (a new file at the path) or truncated: start over on the current file.
        if let current = Self.inode(path), current != inode { try? open(atEnd: false) }
        if let size = Self.size(path), size < offset { try? open(atEnd: false) }
        guard let handle else { return [] }
        let data = handle.readDataToEndOfFile()
        offset += UInt64(data.count)
        pending.append(data)
        var lines: [(String, Int)] = []
        while let newline = pending.firstIndex(of: 0x0A) {
            let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
            pending.removeSubrange(pending.startIndex...newline)
            lineNumber += 1
            lines.append((line, lineNumber))
        }
        return lines
    }

    private static func inode(_ path: String) -> UInt64? {
        var status = stat()
        return stat(path, &status) == 0 ? UInt64(status.st_ino) : nil
    }

    private static func size(_ path: String) -> UInt64? {
        var status = stat()
        return stat(path, &status) == 0 ? UInt64(status.st_size) : nil
    }
}
