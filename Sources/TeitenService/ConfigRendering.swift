/// Settings back to TOML: what `teiten check-config` prints (the effective
/// configuration, defaults filled in) and what Deploy/teiten.toml was made
/// from. Every key appears with its help text as a comment, so the output is
/// itself a valid, documented config file.
public enum ConfigRendering {
    public static func toml(_ settings: SensorSettings, header: String? = nil) -> String {
        var text = header.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map { "# \($0)".trimmingTrailingSpace() }.joined(separator: "\n") + "\n" } ?? ""
        var section: String?
        for key in ConfigSchema.all {
            if key.section != section {
                section = key.section
                if !key.section.isEmpty { text += "\n[\(key.section)]\n" }
            }
            text += "\n# \(key.help)\n\(key.name) = \(value(of: key, in: settings))\n"
        }
        return text
    }

    /// One key's value as TOML.
    public static func value(of key: ConfigKey, in settings: SensorSettings) -> String {
        switch key.value {
        case .integer(let path, _): String(settings[keyPath: path])
        case .real(let path, _): real(settings[keyPath: path])
        case .flag(let path): settings[keyPath: path] ? "true" : "false"
        case .text(let path, _): quoted(settings[keyPath: path])
        case .list(let path, _): "[" + settings[keyPath: path].map(quoted).joined(separator: ", ") + "]"
        }
    }

    /// A TOML float that reads back as the same Double (always with a point).
    static func real(_ number: Double) -> String {
        let text = "\(number)"
        return text.contains(".") || text.contains("e") ? text : text + ".0"
    }

    /// A TOML basic string.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

private extension String {
    func trimmingTrailingSpace() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}

private extension Substring {
    func trimmingTrailingSpace() -> String { String(self).trimmingTrailingSpace() }
}
