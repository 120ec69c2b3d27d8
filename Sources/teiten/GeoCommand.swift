import ArgumentParser
import PacketDecoding
import TeitenCore
#if canImport(Glibc)
import Glibc
#endif

/// `teiten geo lookup`: which country the sensor would write for an address.
struct GeoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "geo", abstract: "Country database tools.", subcommands: [Lookup.self])

    struct Lookup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print each address, its country (ISO 3166-1 alpha-2, ZZ when unknown) and the database that answered.")

        @Argument(help: ArgumentHelp("IPv4 or IPv6 addresses.", valueName: "address"))
        var addresses: [String]

        @Option(name: .long, help: ArgumentHelp("Country database files (tor-geoipdb format), as for teiten run.", valueName: "path"))
        var geoDB: [String] = []

        func run() throws {
            let paths = geoDB.isEmpty
                ? [CountryDatabase.defaultIPv4Path, CountryDatabase.defaultIPv6Path].filter { access($0, R_OK) == 0 }
                : geoDB
            var databases: [(String, CountryDatabase)] = []
            for path in paths {
                var database = CountryDatabase()
                do { try database.load(path: path) } catch { StandardError.line(error.description); throw ExitCode(78) }
                databases.append((path, database))
            }
            var failed = false
            for text in addresses {
                guard let address = IPAddress(text) else {
                    StandardError.line("\(text): not an IPv4 or IPv6 address")
                    failed = true
                    continue
                }
                let answer = databases.lazy.map { ($0.0, $0.1.country(of: address)) }.first { $0.1 != "ZZ" }
                print("\(address) \(answer?.1 ?? "ZZ") \(answer?.0 ?? (databases.isEmpty ? "(no database)" : "(no range holds it)"))")
            }
            if failed { throw ExitCode(65) }
        }
    }
}
