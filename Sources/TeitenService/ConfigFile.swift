internal import TOMLKit
internal import Foundation
#if canImport(Glibc)
internal import Glibc
#endif

/// A config file refused: names the file, the line and the key when known.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let line: Int?
    public let message: String

    public init(file: String, line: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)"
    }
}

/// Reads the TOML config file into `SensorSettings`, key by key through
/// `ConfigSchema`: an unknown key or a wrong type is an error naming the key
/// and its line, never ignored (a typo in a threshold must not silently
/// leave the default in force).
public enum ConfigFile {
    public static let defaultPath = "/etc/teiten/teiten.toml"

    /// Settings from the file at `path`, on top of the built-in defaults.
    public static func load(path: String) throws(ConfigError) -> SensorSettings {
        guard let text = readText(path) else {
            let reason = errno == EFBIG ? "larger than 1 MiB: not a config file" : String(cString: strerror(errno))
            throw ConfigError(file: path, message: "cannot read: \(reason)")
        }
        return try parse(text, file: path)
    }

    /// The line of `key` (a dotted path) in the file, if it is there.
    public static func line(of key: String, inFile path: String) -> Int? {
        readText(path).flatMap { TOMLKeyLines($0).line(of: key) }
    }

    public static func parse(_ text: String, file: String) throws(ConfigError) -> SensorSettings {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(file: file, line: error.source.begin.line, message: "not valid TOML: \(error.description)")
        } catch {
            throw ConfigError(file: file, message: "not valid TOML: \(error)")
        }
        let lines = TOMLKeyLines(text)
        var settings = SensorSettings()
        var problems: [ConfigError] = []
        func refuse(_ path: String, _ message: String) {
            problems.append(ConfigError(file: file, line: lines.line(of: path), message: message))
        }
        for (path, value) in flatten(table, prefix: "") {
            guard let key = ConfigSchema.key(path) else {
                refuse(path, "unknown key '\(path)'" + (suggestion(for: path).map { " (did you mean '\($0)'?)" } ?? ""))
                continue
            }
            if let reason = assign(value, to: key, in: &settings) { refuse(path, "\(path): \(reason)") }
        }
        // Report the first problem in the file: one line, the one to fix first.
        if let first = problems.min(by: { ($0.line ?? .max) < ($1.line ?? .max) }) { throw first }
        return settings
    }

    /// Leaves of the table as (dotted path, value); a table that is not a
    /// known section is a leaf too, so that it is reported as an unknown key.
    private static func flatten(_ table: TOMLTable, prefix: String) -> [(String, any TOMLValueConvertible)] {
        var leaves: [(String, any TOMLValueConvertible)] = []
        for key in table.keys {
            guard let value = table[key] else { continue }
            let path = prefix.isEmpty ? key : prefix + "." + key
            if let inner = value.table, ConfigSchema.sections.contains(path) {
                leaves += flatten(inner, prefix: path)
            } else {
                leaves.append((path, value))
            }
        }
        return leaves
    }

    /// Sets one key; returns why the value is refused, or nil.
    private static func assign(_ value: any TOMLValueConvertible, to key: ConfigKey, in settings: inout SensorSettings) -> String? {
        let got = "expected \(key.typeName), got \(describe(value))"
        switch key.value {
        case .integer(let path, let range):
            guard value.type == .int, let number = value.int else { return got }
            guard range.contains(number) else { return "\(number) is out of range \(range.lowerBound)...\(range.upperBound)" }
            settings[keyPath: path] = number
        case .real(let path, let range):
            guard let number = value.double ?? value.int.map(Double.init) else { return got }
            guard range.contains(number) else { return "\(number) is out of range \(range.lowerBound)...\(range.upperBound)" }
            settings[keyPath: path] = number
        case .flag(let path):
            guard let flag = value.bool else { return got }
            settings[keyPath: path] = flag
        case .text(let path, let check):
            guard value.type == .string, let text = value.string else { return got }
            if let reason = check(text) { return reason }
            settings[keyPath: path] = text
        case .list(let path, let check):
            guard let array = value.array else { return got }
            var texts: [String] = []
            for element in array {
                guard element.type == .string, let text = element.string else { return got }
                if let reason = check(text) { return reason }
                texts.append(text)
            }
            settings[keyPath: path] = texts
        }
        return nil
    }

    private static func describe(_ value: any TOMLValueConvertible) -> String {
        switch value.type {
        case .int: "an integer"
        case .double: "a number"
        case .bool: "a boolean"
        case .string: "a string"
        case .array: "an array"
        case .table: "a table"
        default: "a date or time"
        }
    }

    /// The known key closest to a misspelt one, when it is close.
    private static func suggestion(for path: String) -> String? {
        let scored = ConfigSchema.all.map { ($0.path, editDistance(Array($0.path), Array(path))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 3 else { return nil }
        return best.0
    }

    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    private static func readText(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 { if errno == EINTR { continue }; return nil }
            if count == 0 { break }
            bytes += chunk[0..<count]
            // A config file is small; a huge one (or /dev/zero) is a mistake.
            if bytes.count > 1 << 20 { errno = EFBIG; return nil }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Where each key of a TOML text is, by line: TOMLKit does not keep source
/// positions of values, so the loader finds them for its error messages.
/// Understands `[section]` headers and `key = ...` lines (bare or quoted
/// keys, dotted keys); lines inside multi-line arrays and strings are skipped.
struct TOMLKeyLines {
    private var lines: [String: Int] = [:]

    init(_ text: String) {
        var section = ""
        var depth = 0          // open brackets of a multi-line array
        var inLongString = false
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingLeadingSpaces()
            if inLongString {
                if line.contains("\"\"\"") || line.contains("'''") { inLongString = false }
                continue
            }
            if depth > 0 {
                depth += Self.bracketBalance(line)
                continue
            }
            if line.hasPrefix("[") {
                let name = line.dropFirst(line.hasPrefix("[[") ? 2 : 1).prefix { $0 != "]" }
                section = Self.normalise(String(name))
                if lines[section] == nil { lines[section] = index + 1 }
                continue
            }
            guard let equals = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
            let key = Self.normalise(String(line[..<equals]))
            guard !key.isEmpty else { continue }
            let path = section.isEmpty ? key : section + "." + key
            if lines[path] == nil { lines[path] = index + 1 }
            let rest = line[line.index(after: equals)...]
            depth = max(0, Self.bracketBalance(rest))
            let quotes = rest.components("\"\"\"") + rest.components("'''")
            if quotes % 2 == 1 { inLongString = true }
        }
    }

    func line(of path: String) -> Int? { lines[path] }

    private static func normalise(_ key: String) -> String {
        key.split(separator: ".").map { part in
            var part = Substring(part).trimmingLeadingSpaces()
            while part.last == " " || part.last == "\t" { part = part.dropLast() }
            if part.count >= 2, let first = part.first, first == "\"" || first == "'", part.last == first {
                part = part.dropFirst().dropLast()
            }
            return String(part)
        }.joined(separator: ".")
    }

    /// `[` minus `]` outside strings and comments.
    private static func bracketBalance(_ text: Substring) -> Int {
        var balance = 0
        var quote: Character?
        for character in text {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "#" {
                break
            } else if character == "[" {
                balance += 1
            } else if character == "]" {
                balance -= 1
            }
        }
        return balance
    }
}

private extension Substring {
    func trimmingLeadingSpaces() -> Substring { drop { $0 == " " || $0 == "\t" } }

    func components(_ marker: String) -> Int {
        var count = 0
        var rest = self[...]
        while let range = rest.range(of: marker) {
            count += 1
            rest = rest[range.upperBound...]
        }
        return count
    }
}
