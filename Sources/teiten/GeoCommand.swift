import ArgumentParser
import PacketDecoding
import TeitenCore
#if canImport(Glibc)
import Glibc
import TeitenService
#endif

/// `teiten geo lookup`: which country the sensor would write for an address.
struct GeoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "geo", abstract: "Country database tools.", subcommands: [Lookup.self, Bench.self])

    struct Lookup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print each address, its country (ISO 3166-1 alpha-2, ZZ when unknown) and the database that answered.")

        @Argument(help: ArgumentHelp("IPv4 or IPv6 addresses.", valueName: "address"))
        var addresses: [String]

        @Option(name: .long, help: ArgumentHelp("Country database files (tor-geoipdb format), as for teiten run.", valueName: "path"))
        var geoDB: [String] = []

        func run() throws {
            let paths = geoDB.isEmpty ? CountryDatabase.installedDefaultPaths : geoDB
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

extension GeoCommand {
    /// `teiten geo bench`: load time and lookups/s of each database, so an
    /// operator can see what a database change costs.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure each country database: ranges, load time and lookups per second (random addresses).")

        @Option(name: .long, help: ArgumentHelp("Database files (default: the tor-geoipdb files).", valueName: "path"))
        var geoDB: [String] = []

        @Option(name: .customShort("n"), help: "Lookups per database.")
        var lookups: Int = 5_000_000

        func run() throws {
            let paths = geoDB.isEmpty ? CountryDatabase.installedDefaultPaths : geoDB
            print("database,family,ranges,load_seconds,lookups_per_second,unknown_share")
            for path in paths {
                var database = CountryDatabase()
                let loadStart = MonotonicClock.seconds()
                do { try database.load(path: path) } catch { StandardError.line(error.description); throw ExitCode(78) }
                let loadSeconds = MonotonicClock.seconds() - loadStart
                // Only the families the file can answer (an IPv4 range file asked
                // IPv6 addresses would time a "not found" shortcut).
                for family in ["ipv4", "ipv6"] where database.covers(ipv6: family == "ipv6") {
                    // Addresses are drawn first, so the timed loop is lookups only;
                    // IPv6 ones from global unicast space (2000::/3).
                    var random = UInt64(0x9E37_79B9_7F4A_7C15)
                    let addresses: [IPAddress] = (0..<(1 << 20)).map { _ in
                        random = random &* 6364136223846793005 &+ 1442695040888963407
                        return family == "ipv6" ? IPAddress(high: 0x2000_0000_0000_0000 | (random >> 3), low: random)
                                                : IPAddress(ipv4: UInt32(truncatingIfNeeded: random >> 32))
                    }
                    var unknown = 0
                    let start = MonotonicClock.seconds()
                    for index in 0..<lookups where database.code(of: addresses[index & (addresses.count - 1)]) == CountryDatabase.unknown {
                        unknown += 1
                    }
                    let seconds = max(MonotonicClock.seconds() - start, 1e-9)
                    print("\(path),\(family),\(database.rangeCount),\(Format.fixed(loadSeconds, 3)),"
                        + "\(Format.rate(Double(lookups) / seconds)),\(Format.fixed(Double(unknown) / Double(max(1, lookups)), 3))")
                }
            }
        }
    }
}
