internal import Foundation

/// Reads and checks hourly count files (docs/counts.md), for `teiten counts`.
public enum CountFileReader {
    public struct Row: Sendable, Equatable {
        public var hour: String
        public var trafficClass: String
        public var proto: String
        public var port: Int
        public var country: String
        public var packets: UInt64
        public var sources: UInt64
        public var destinations: UInt64
    }

    public struct ReadError: Error, CustomStringConvertible { public let description: String }

    /// The `.csv` files of a directory (sorted by name, so by hour), or the one file given.
    public static func files(at path: String) throws(ReadError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ReadError(description: "\(path): No such file or directory")
        }
        guard isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { $0.hasSuffix(".csv") && !$0.hasPrefix(".") }.sorted().map { path + "/" + $0 }
    }

    /// The rows of one file; throws naming the file and line on anything
    /// that is not the contract's format.
    public static func rows(of path: String) throws(ReadError) -> [Row] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ReadError(description: "\(path): cannot read") }
        let text = String(decoding: data, as: UTF8.self)
        guard text.hasSuffix("\n") else { throw ReadError(description: "\(path): does not end with a newline (partial file?)") }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast()
        guard lines.first.map(String.init) == CountFileFormat.header else {
            throw ReadError(description: "\(path): line 1: header is not \(CountFileFormat.header)")
        }
        var rows: [Row] = []
        for (offset, line) in lines.dropFirst().enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let number = offset + 2
            guard fields.count == 8 else { throw ReadError(description: "\(path): line \(number): \(fields.count) columns, not 8") }
            guard let port = Int(fields[3]), (0...65535).contains(port),
                  let packets = UInt64(fields[5]), let sources = UInt64(fields[6]), let destinations = UInt64(fields[7]) else {
                throw ReadError(description: "\(path): line \(number): port or a count is not a number")
            }
            rows.append(Row(hour: fields[0], trafficClass: fields[1], proto: fields[2], port: port, country: fields[4],
                            packets: packets, sources: sources, destinations: destinations))
        }
        return rows
    }

    /// Everything wrong with the files of `directory` against the contract;
    /// empty when all is well.
    public static func problems(in directory: String) throws(ReadError) -> (hours: Int, problems: [String]) {
        var problems: [String] = []
        let csvFiles = try files(at: directory)
        for path in csvFiles {
            let name = (path as NSString).lastPathComponent
            guard name.range(of: #"^\d{4}-\d\d-\d\dT\d\dZ\.csv$"#, options: .regularExpression) != nil else {
                problems.append("\(name): not named YYYY-MM-DDTHHZ.csv"); continue
            }
            let hour = String(name.prefix(13)) + ":00:00Z"
            let rows: [Row]
            do { rows = try self.rows(of: path) } catch { problems.append(error.description); continue }
            var previous: (String, String, Int, String)?
            for (index, row) in rows.enumerated() {
                let line = "\(name): line \(index + 2)"
                if row.hour != hour { problems.append("\(line): hour \(row.hour) in the file of \(hour)") }
                if !["probe", "backscatter", "other"].contains(row.trafficClass) { problems.append("\(line): class \(row.trafficClass)") }
                if !["tcp", "udp", "icmp", "icmp6", "other"].contains(row.proto) { problems.append("\(line): proto \(row.proto)") }
                if row.country.range(of: "^[A-Z]{2}$", options: .regularExpression) == nil { problems.append("\(line): country \(row.country)") }
                if row.packets == 0 || row.sources > row.packets || row.destinations > row.packets || row.sources == 0 {
                    problems.append("\(line): counts \(row.packets),\(row.sources),\(row.destinations) are inconsistent")
                }
                let key = (row.trafficClass, row.proto, row.port, row.country)
                if let previous, !(previous < key) { problems.append("\(line): not sorted by class, proto, port, country") }
                previous = key
            }
            let sidecarPath = String(path.dropLast(4)) + ".json"
            guard let data = FileManager.default.contents(atPath: sidecarPath),
                  let sidecar = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                problems.append("\(name): sidecar \((sidecarPath as NSString).lastPathComponent) missing or not JSON"); continue
            }
            for key in ["sensor", "hour", "complete", "first_packet", "last_packet", "packets", "undecodable",
                        "kernel_drops", "interface_drops", "geo_database", "software"] where !sidecar.keys.contains(key) {
                problems.append("\(name): sidecar lacks \"\(key)\"")
            }
            let total = rows.reduce(UInt64(0)) { $0 + $1.packets }
            if let packets = (sidecar["packets"] as? NSNumber)?.uint64Value, packets != total {
                problems.append("\(name): rows hold \(total) packets, the sidecar says \(packets)")
            }
        }
        return (csvFiles.count, problems)
    }
}
