import ArgumentParser
import Foundation
import TeitenOutput
import TeitenService

/// `teiten counts`: read the hourly count files.
struct CountsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "counts",
        abstract: "Read hourly count files: top ports and countries, contract checks.",
        subcommands: [Top.self, Check.self]
    )

    /// `teiten counts top`: a ranking like those in JPCERT/CC's quarterly
    /// ISDAS/TSUBAME reports.
    struct Top: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rank destination ports, source countries, or both, by packets.",
            discussion: """
                Example: teiten counts top /var/lib/teiten/counts --by port --hours 2026-11-21T00Z..2026-11-21T23Z -n 10

                Sources are summed over the hours in the range: a source seen in two hours counts twice, \
                so over several hours the column is an upper bound of distinct sources.
                """
        )

        @Argument(help: ArgumentHelp("A counts directory or one hour file.", valueName: "dir|file"))
        var path: String

        @Option(name: .long, help: "port, country, or port,country.")
        var by: String = "port"

        @Option(name: .long, help: ArgumentHelp("Only hours in A..B (inclusive), e.g. 2026-11-21T00Z..2026-11-21T05Z; either side may be empty.", valueName: "A..B"))
        var hours: String?

        @Option(name: .long, help: "Only this class: probe, backscatter or other (default: probe).")
        var `class`: String = "probe"

        @Option(name: .customShort("n"), help: "How many lines.")
        var count: Int = 10

        func validate() throws {
            guard ["port", "country", "port,country"].contains(by) else { throw ValidationError("--by must be port, country or port,country.") }
            guard ["probe", "backscatter", "other", "all"].contains(`class`) else { throw ValidationError("--class must be probe, backscatter, other or all.") }
            if let hours, !hours.contains("..") { throw ValidationError("--hours takes A..B, e.g. 2026-11-21T00Z..2026-11-21T05Z.") }
        }

        func run() throws {
            let range = hours.map { $0.components(separatedBy: "..") }
            let from = range?.first.flatMap { $0.isEmpty ? nil : String($0.prefix(13)) }
            let until = range?.last.flatMap { $0.isEmpty ? nil : String($0.prefix(13)) }
            var packets: [String: UInt64] = [:], sources: [String: UInt64] = [:]
            var total: UInt64 = 0
            do {
                for file in try CountFileReader.files(at: path) {
                    for row in try CountFileReader.rows(of: file) where `class` == "all" || row.trafficClass == `class` {
                        let hour = String(row.hour.prefix(13))
                        if let from, hour < from { continue }
                        if let until, hour > until { continue }
                        let key: String
                        switch by {
                        case "port": key = "\(row.proto)/\(row.port)"
                        case "country": key = row.country
                        default: key = "\(row.proto)/\(row.port) \(row.country)"
                        }
                        packets[key, default: 0] += row.packets
                        sources[key, default: 0] += row.sources
                        total += row.packets
                    }
                }
            } catch {
                StandardError.line(error.description)
                throw ExitCode(66)
            }
            let ranked = packets.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(count)
            let label = by == "country" ? "country" : (by == "port" ? "port" : "port country")
            print(pad("rank", 5) + pad(label, by == "port,country" ? 17 : 12) + (by == "country" ? "" : pad("service", 16))
                  + padLeft("packets", 12) + padLeft("sources", 10) + padLeft("share", 8))
            for (index, entry) in ranked.enumerated() {
                let port = Int(entry.key.split(separator: "/").last?.split(separator: " ").first ?? "") ?? -1
                let proto = String(entry.key.split(separator: "/").first ?? "")
                let service = by == "country" ? "" : pad(ServiceNames.name(proto: proto, port: port), 16)
                let share = total > 0 ? Double(entry.value) / Double(total) * 100 : 0
                print(pad("\(index + 1)", 5) + pad(entry.key, by == "port,country" ? 17 : 12) + service
                      + padLeft(Format.count(entry.value), 12) + padLeft(Format.count(sources[entry.key] ?? 0), 10)
                      + padLeft(Format.fixed(share, 1) + " %", 8))
            }
        }

        private func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count) }
        private func padLeft(_ text: String, _ width: Int) -> String { text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text }
    }

    /// `teiten counts check`: validates files against the contract.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check hour files against the count-file contract (names, header, columns, order, sidecars, totals).")

        @Argument(help: ArgumentHelp("The counts directory.", valueName: "dir"))
        var directory: String

        func run() throws {
            do {
                let (hours, problems) = try CountFileReader.problems(in: directory)
                for problem in problems { print(problem) }
                if problems.isEmpty { print("\(directory): \(hours) hour files, all as the contract says") }
                if !problems.isEmpty { throw ExitCode(1) }
            } catch let error as CountFileReader.ReadError {
                StandardError.line(error.description)
                throw ExitCode(66)
            }
        }
    }
}

/// Service names for the ports darknets see most (IANA names where one
/// exists; the worm or backdoor otherwise).
enum ServiceNames {
    static let tcp: [Int: String] = [
        21: "ftp", 22: "ssh", 23: "telnet", 25: "smtp", 53: "domain", 80: "http", 81: "http-alt", 110: "pop3", 135: "msrpc",
        139: "netbios-ssn", 143: "imap", 443: "https", 445: "microsoft-ds", 993: "imaps", 1023: "(reserved)", 1433: "ms-sql-s",
        2323: "telnet-alt", 2375: "docker", 2745: "bagle", 3127: "mydoom", 3306: "mysql", 3389: "ms-wbt-server", 4899: "radmin",
        5432: "postgresql", 5554: "sasser-ftp", 5555: "adb", 5900: "vnc", 6129: "dameware", 6379: "redis", 7547: "cwmp",
        8080: "http-alt", 8443: "https-alt", 8888: "http-alt", 9200: "elasticsearch", 9996: "sasser-shell", 11211: "memcache",
        17300: "kuang2", 20168: "lovgate", 27017: "mongodb", 37215: "huawei-hg532", 52869: "upnp",
    ]
    static let udp: [Int: String] = [
        53: "domain", 69: "tftp", 123: "ntp", 137: "netbios-ns", 161: "snmp", 389: "ldap", 500: "isakmp", 1434: "ms-sql-m",
        1900: "ssdp", 5060: "sip", 5353: "mdns", 11211: "memcache",
    ]
    static let icmp: [Int: String] = [0: "echo-reply", 3: "unreachable", 8: "echo", 11: "time-exceeded", 13: "timestamp"]

    static func name(proto: String, port: Int) -> String {
        switch proto {
        case "tcp": tcp[port] ?? ""
        case "udp": udp[port] ?? ""
        case "icmp": icmp[port] ?? ""
        case "icmp6": [128: "echo", 129: "echo-reply", 1: "unreachable"][port] ?? ""
        default: ""
        }
    }
}
