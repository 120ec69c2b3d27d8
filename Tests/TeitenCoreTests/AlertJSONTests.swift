import Foundation
import PacketDecoding
import TeitenCore
import TeitenOutput
import Testing

/// The alert stream's contract: one JSON object per line, every required
/// field with its type, Suricata-style names.
@Suite("Alert stream schema")
struct AlertJSONTests {
    static let required: [String: Any.Type] = [
        "timestamp": String.self, "event_type": String.self, "phase": String.self, "kind": String.self,
        "sensor": String.self, "src_country": String.self, "proto": String.self, "dest_ports": [Any].self,
        "targets": NSNumber.self, "ports": NSNumber.self, "packets": NSNumber.self, "first_seen": String.self,
        "last_seen": String.self, "window_seconds": NSNumber.self, "severity": String.self,
    ]

    func alerts() -> [Alert] {
        var harness = DetectionHarness()
        for port in 1...16 { harness.send(Probe.syn("192.0.2.1", "198.18.5.5", port: UInt16(port))) }
        for n in 0..<100 { harness.send(Probe.syn("45.1.\(n).1", "198.18.7.7", port: 80)) }
        return harness.finish()
    }

    @Test func everyLineHasTheContractFields() throws {
        let lines = alerts().map { AlertJSON.line($0, sensor: "sensor \"one\"\n") }
        #expect(lines.count == 4)
        for line in lines {
            #expect(!line.contains("\n"), "one line per alert")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            for (field, type) in Self.required {
                let value = try #require(object[field], "\(field) missing")
                switch type {
                case is String.Type: #expect(value is String, "\(field)")
                case is [Any].Type: #expect(value is [Any], "\(field)")
                default: #expect(value is NSNumber, "\(field)")
                }
            }
            #expect(object["event_type"] as? String == "scan")
            #expect(object["sensor"] as? String == "sensor \"one\"\n")
            #expect(object.keys.contains("src_ip") && object.keys.contains("tool") && object.keys.contains("signature"))
            let timestamp = try #require(object["timestamp"] as? String)
            #expect(timestamp.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"#, options: .regularExpression) != nil)
        }
        let flood = try #require(lines.first { $0.contains("\"kind\":\"flood\"") })
        #expect(flood.contains("\"src_ip\":null") && flood.contains("\"dest_ip\":\"198.18.7.7\"") && flood.contains("\"sources\":100"))
        let vertical = try #require(lines.first { $0.contains("\"kind\":\"vertical_scan\"") })
        #expect(vertical.contains("\"src_ip\":\"192.0.2.1\"") && vertical.contains("\"dest_ip\":\"198.18.5.5\""))
        #expect(vertical.hasPrefix("{\"timestamp\":"), "contract order: timestamp first")
    }
}
