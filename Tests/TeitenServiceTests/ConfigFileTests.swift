import Foundation
import Testing
import TeitenCore
@testable import TeitenService

@Suite("Config file")
struct ConfigFileTests {
    /// Every key of the schema set to a value other than its default, in
    /// one file: each must arrive in the settings (checked by rendering it
    /// back), so no key is parsed into the wrong field or dropped.
    @Test func everyKeyParsed() throws {
        let defaults = SensorSettings()
        var text = ""
        var expected: [String: String] = [:]
        for section in ConfigSchema.sections {
            if !section.isEmpty { text += "[\(section)]\n" }
            for key in ConfigSchema.all where key.section == section {
                let value = Self.nonDefault(key, defaults)
                expected[key.path] = value
                text += "\(key.name) = \(value)\n"
            }
        }
        let settings = try ConfigFile.parse(text, file: "all.toml")
        for key in ConfigSchema.all {
            #expect(ConfigRendering.value(of: key, in: settings) == expected[key.path], "\(key.path)")
            #expect(ConfigRendering.value(of: key, in: settings) != ConfigRendering.value(of: key, in: defaults), "\(key.path) kept its default")
        }
        #expect(settings.tunables.floodSources != Tunables().floodSources)
        #expect(settings.capture.snaplen != 512 && settings.networks.dark == ["198.18.0.0/15"])
    }

    /// A value inside the key's range that differs from the default, as TOML.
    static func nonDefault(_ key: ConfigKey, _ settings: SensorSettings) -> String {
        switch key.value {
        case .integer(let path, let range):
            let current = settings[keyPath: path]
            return String(current == range.upperBound ? range.upperBound - 1 : current + 1)
        case .real(let path, let range):
            let current = settings[keyPath: path]
            return ConfigRendering.real(current + 0.005 <= range.upperBound ? current + 0.005 : current - 0.005)
        case .flag(let path): return settings[keyPath: path] ? "false" : "true"
        case .text(let path, _):
            switch key.path {
            case "service.metrics_listen": return "\"127.0.0.1:9468\""
            case "service.log_level": return "\"debug\""
            default: return ConfigRendering.quoted(settings[keyPath: path] + "x/y")
            }
        case .list:
            return key.path.hasPrefix("networks.") ? "[\"198.18.0.0/15\"]" : "[\"/usr/share/tor/geoip\"]"
        }
    }

    @Test func renderedConfigReadsBackUnchanged() throws {
        var settings = SensorSettings()
        settings.sensorID = "tokyo-1 \"east\""
        settings.networks.local = ["192.0.2.0/24", "2001:db8::/32"]
        settings.tunables.surgeFactor = 2.5
        let text = ConfigRendering.toml(settings, header: "a header\nof two lines")
        #expect(try ConfigFile.parse(text, file: "x") == settings)
        #expect(try ConfigFile.parse(ConfigRendering.toml(SensorSettings()), file: "x") == SensorSettings())
    }

    @Test func unknownKeyNamesTheKeyAndLine() {
        let text = "sensor_id = \"a\"\n\n[capture]\nsnaplen = 256\nsnaplenn = 5\n"
        #expect(throws: ConfigError(file: "t.toml", line: 5, message: "unknown key 'capture.snaplenn' (did you mean 'capture.snaplen'?)")) {
            try ConfigFile.parse(text, file: "t.toml")
        }
        #expect(throws: ConfigError(file: "t.toml", line: 2, message: "unknown key 'unheard_of'")) {
            try ConfigFile.parse("\n[unheard_of]\nx = 1\n", file: "t.toml")
        }
    }

    @Test func wrongTypeNamesTheKeyLineAndTypes() {
        #expect(throws: ConfigError(file: "t.toml", line: 3, message: "detection.flood_sources: expected an integer, got a string")) {
            try ConfigFile.parse("[detection]\nflood_window_seconds = 30\nflood_sources = \"many\"\n", file: "t.toml")
        }
        #expect(throws: ConfigError(file: "t.toml", line: 2, message: "capture.promiscuous: expected true or false, got an integer")) {
            try ConfigFile.parse("[capture]\npromiscuous = 1\n", file: "t.toml")
        }
        #expect(throws: ConfigError(file: "t.toml", line: 2, message: "networks.dark: expected an array of strings, got a string")) {
            try ConfigFile.parse("[networks]\ndark = \"198.18.0.0/15\"\n", file: "t.toml")
        }
    }

    @Test func valuesOutOfRangeOrMalformedAreRefused() throws {
        #expect(throws: ConfigError(file: "t", line: 2, message: "capture.snaplen: 0 is out of range 64...262144")) {
            try ConfigFile.parse("[capture]\nsnaplen = 0\n", file: "t")
        }
        // A window detector's threshold beyond what its windows hold would never be reached.
        #expect(throws: ConfigError(file: "t", line: 2, message: "detection.flood_sources: 256 is out of range 2...255")) {
            try ConfigFile.parse("[detection]\nflood_sources = 256\n", file: "t")
        }
        let prefix = #expect(throws: ConfigError.self) { try ConfigFile.parse("[networks]\nlocal = [\"10.0.0.1/8\"]\n", file: "t") }
        #expect(prefix?.line == 2 && prefix?.message.contains("not a network in CIDR form") == true)
        let listen = #expect(throws: ConfigError.self) { try ConfigFile.parse("[service]\nmetrics_listen = \"9468\"\n", file: "t") }
        #expect(listen?.message.hasPrefix("service.metrics_listen: expected host:port") == true)
        let level = #expect(throws: ConfigError.self) { try ConfigFile.parse("[service]\nlog_level = \"loud\"\n", file: "t") }
        #expect(level?.line == 2)
        // A float where an integer is needed is a type error, not a rounding.
        #expect(throws: ConfigError.self) { try ConfigFile.parse("[capture]\nsnaplen = 512.5\n", file: "t") }
        // An integer where a number is wanted is fine.
        #expect(try ConfigFile.parse("[detection]\nsurge_factor = 3\n", file: "t").tunables.surgeFactor == 3)
    }

    @Test func invalidTOMLGivesItsLine() {
        let error = #expect(throws: ConfigError.self) { try ConfigFile.parse("sensor_id = \"a\"\n[capture\nsnaplen = 1\n", file: "t") }
        #expect(error?.line == 2 && error?.message.hasPrefix("not valid TOML") == true, "\(String(describing: error))")
    }

    @Test func keyLinesFollowSectionsQuotesAndMultiLineArrays() {
        let lines = TOMLKeyLines("""
            # comment = not a key
            sensor_id = "a"
            [networks]
            local = [
              "192.0.2.0/24",   # a = b
            ]
            "dark" = []
            [ detection ]
            flood_sources = 3
            """)
        #expect(lines.line(of: "sensor_id") == 2)
        #expect(lines.line(of: "networks.local") == 4)
        #expect(lines.line(of: "networks.dark") == 7)
        #expect(lines.line(of: "detection.flood_sources") == 9)
        #expect(lines.line(of: "comment") == nil)
    }

    /// The packaged example (Deploy/teiten.toml) holds every key, parses,
    /// and keeps every key at its default but the documented packaged ones.
    @Test func deployedExampleHasEveryKey() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Deploy/teiten.toml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = TOMLKeyLines(text)
        for key in ConfigSchema.all { #expect(lines.line(of: key.path) != nil, "\(key.path) missing from Deploy/teiten.toml") }
        let settings = try ConfigFile.parse(text, file: path)
        let packaged: Set<String> = ["output.alerts", "output.counts_dir", "output.state_dir"]
        for key in ConfigSchema.all where !packaged.contains(key.path) {
            #expect(ConfigRendering.value(of: key, in: settings) == ConfigRendering.value(of: key, in: SensorSettings()), "\(key.path)")
        }
    }

    /// docs/operations.md lists every key.
    @Test func operationsGuideListsEveryKey() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/operations.md").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for key in ConfigSchema.all { #expect(text.contains("| `\(key.path)` |"), "\(key.path) missing from docs/operations.md") }
    }

    @Test func listenAddresses() {
        #expect(ListenAddress("127.0.0.1:9468") == ListenAddress("127.0.0.1:9468"))
        #expect(ListenAddress("127.0.0.1:9468")?.port == 9468)
        #expect(ListenAddress("[::1]:9468")?.host == "::1")
        #expect(ListenAddress("[::1]:9468")?.description == "[::1]:9468")
        #expect(ListenAddress("::1:9468") == nil)
        #expect(ListenAddress("localhost") == nil)
        #expect(ListenAddress("host:0") == nil)
        #expect(ListenAddress("host:70000") == nil)
    }
}
