public import TeitenCore
internal import PacketDecoding

/// One alert as one JSON object on one line, fields in the contract's order
/// (docs/alerts.md), in the habits of Suricata's EVE JSON (`timestamp`,
/// `event_type`, `src_ip`, `dest_ip`, `proto`). Hand-written rather than
/// through JSONEncoder: the field order and number formats are a contract,
/// and this runs on every line.
public enum AlertJSON {
    public static func line(_ alert: Alert, sensor: String) -> String {
        var json = "{"
        json.field("timestamp", string: UTCTime.rfc3339(alert.timestamp))
        json.field("event_type", string: "scan")
        json.field("phase", string: alert.phase.rawValue)
        json.field("kind", string: alert.kind.rawValue)
        json.field("sensor", string: sensor)
        json.field("episode_id", raw: String(alert.episodeID))
        json.field("src_ip", string: alert.source?.description)
        json.field("src_country", string: alert.sourceCountry)
        json.field("proto", string: alert.transport.name)
        json.field("dest_ports", raw: "[" + alert.destinationPorts.map(String.init).joined(separator: ",") + "]")
        if let destination = alert.destination { json.field("dest_ip", string: destination.description) }
        json.field("targets", raw: String(alert.targets))
        json.field("ports", raw: String(alert.ports))
        if let sources = alert.sources { json.field("sources", raw: String(sources)) }
        json.field("packets", raw: String(alert.packets))
        json.field("first_seen", string: UTCTime.rfc3339(alert.firstSeen))
        json.field("last_seen", string: UTCTime.rfc3339(alert.lastSeen))
        json.field("window_seconds", raw: String(alert.windowSeconds))
        json.field("severity", string: alert.severity.rawValue)
        json.field("tool", string: alert.tool)
        json.field("signature", string: alert.signature)
        json.field("method", string: alert.method.rawValue)
        if let ports = alert.sourcePorts { json.field("src_ports", raw: "[" + ports.map(String.init).joined(separator: ",") + "]") }
        if let baseline = alert.baseline { json.field("baseline", raw: Self.number(baseline)) }
        json.field("counts_exact", raw: alert.countsExact ? "true" : "false")
        json.append("}")
        return json
    }

    /// A JSON string literal: quotes, backslash and control characters escaped.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Two decimals, no exponent: `12.25`.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        let hundredths = Int64((value * 100).rounded())
        let sign = hundredths < 0 ? "-" : ""
        let magnitude = hundredths.magnitude
        let fraction = magnitude % 100
        return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

private extension String {
    mutating func field(_ name: String, string value: String?) {
        field(name, raw: value.map(AlertJSON.quoted) ?? "null")
    }

    mutating func field(_ name: String, raw value: String) {
        if count > 1 { append(",") }
        append("\"")
        append(name)
        append("\":")
        append(value)
    }
}
