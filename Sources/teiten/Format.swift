/// Number formatting for human-facing lines (summary, progress), with no
/// locale: thin spaces and commas would differ between machines.
enum Format {
    /// 1234567 → "1,234,567".
    static func count(_ value: UInt64) -> String {
        let digits = String(value)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return out
    }

    static func fixed(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "-" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = String(rounded)
        if let dot = text.firstIndex(of: ".") {
            let have = text.distance(from: dot, to: text.endIndex) - 1
            if decimals == 0 { text = String(text[..<dot]) } else if have < decimals { text += String(repeating: "0", count: decimals - have) }
        } else if decimals > 0 {
            text += "." + String(repeating: "0", count: decimals)
        }
        return text
    }

    /// 2345678 → "2.35 M"; 12345 → "12.3 k".
    static func rate(_ value: Double) -> String {
        if value >= 1e6 { return fixed(value / 1e6, 2) + " M" }
        if value >= 1e3 { return fixed(value / 1e3, 1) + " k" }
        return fixed(value, 0)
    }

    static func bytes(_ value: UInt64) -> String {
        let v = Double(value)
        if v >= 1e9 { return fixed(v / 1e9, 2) + " GB" }
        if v >= 1e6 { return fixed(v / 1e6, 1) + " MB" }
        if v >= 1e3 { return fixed(v / 1e3, 1) + " kB" }
        return "\(value) B"
    }

    static func percent(_ share: Double) -> String { fixed(share * 100, 1) + " %" }

    static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return fixed(seconds, seconds < 10 ? 2 : 1) + " s" }
        let whole = Int(seconds)
        return whole >= 3600 ? "\(whole / 3600) h \(whole / 60 % 60) min" : "\(whole / 60) min \(whole % 60) s"
    }
}
