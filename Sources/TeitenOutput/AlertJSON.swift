public import TeitenCore
internal import PacketDecoding

/// One alert as one JSON object on one line, fields in the contract's order
/// (docs/alerts.md), in the habits of Suricata's EVE JSON (`timestamp`,
/// `event_type`, `src_ip`, `dest_ip`, `proto`). Hand-written rather than
/// through JSONEncoder: the field order and number formats are a contract,
/// and this runs on every line (built as bytes: `JSONBytes`).
public enum AlertJSON {
    public static func line(_ alert: Alert, sensor: String) -> String {
        var json = JSONBytes()
        append(alert, sensor: sensor, to: &json)
        return String(decoding: json.bytes, as: UTF8.self)
    }

    /// Appends the alert's line (without its line end) to `json`.
    public static func append(_ alert: Alert, sensor: String, to json: inout JSONBytes) {
        json.byte(UInt8(ascii: "{"))
        json.key("timestamp"); json.time(alert.timestamp)
        json.key("event_type"); json.literal("\"scan\"")
        json.key("phase"); json.string(alert.phase.rawValue)
        json.key("kind"); json.string(alert.kind.rawValue)
        json.key("sensor"); json.string(sensor)
        json.key("episode_id"); json.unsigned(alert.episodeID)
        json.key("src_ip")
        if let source = alert.source { json.address(source) } else { json.literal("null") }
        json.key("src_country"); json.string(alert.sourceCountry)
        json.key("proto"); json.string(alert.transport.name)
        json.key("dest_ports"); json.array(alert.destinationPorts)
        if let destination = alert.destination { json.key("dest_ip"); json.address(destination) }
        json.key("targets"); json.integer(alert.targets)
        json.key("ports"); json.integer(alert.ports)
        if let sources = alert.sources { json.key("sources"); json.integer(sources) }
        json.key("packets"); json.unsigned(alert.packets)
        json.key("first_seen"); json.time(alert.firstSeen)
        json.key("last_seen"); json.time(alert.lastSeen)
        json.key("window_seconds"); json.integer(alert.windowSeconds)
        json.key("severity"); json.string(alert.severity.rawValue)
        json.key("tool"); json.string(alert.tool)
        json.key("signature"); json.string(alert.signature)
        json.key("method"); json.string(alert.method.rawValue)
        if let ports = alert.sourcePorts { json.key("src_ports"); json.array(ports) }
        if let baseline = alert.baseline {
            json.key("baseline")
            number(baseline).utf8.forEach { json.byte($0) }
        }
        json.key("counts_exact"); json.literal(alert.countsExact ? "true" : "false")
        json.byte(UInt8(ascii: "}"))
    }

    /// A JSON string literal: quotes, backslash and control characters
    /// escaped (`JSONBytes.string`), for texts built outside a line (sidecars).
    static func quoted(_ text: String) -> String {
        var json = JSONBytes(reservingCapacity: text.utf8.count + 2)
        json.string(text)
        return String(decoding: json.bytes, as: UTF8.self)
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
