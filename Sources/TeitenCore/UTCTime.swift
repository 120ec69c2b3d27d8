public import PacketDecoding

/// Calendar arithmetic for UTC packet time, without Foundation's formatters
/// (which allocate and consult locales): RFC 3339 text and hour boundaries.
public enum UTCTime {
    /// Year, month, day from days since 1970-01-01 (Howard Hinnant's
    /// civil_from_days, exact for the proleptic Gregorian calendar).
    public static func civil(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// A packet time's calendar fields in UTC.
    public struct Parts: Equatable, Sendable {
        public var year: Int64
        public var month: Int
        public var day: Int
        public var hour: Int
        public var minute: Int
        public var second: Int
        /// Within the second, 0 ..< 1,000,000,000.
        public var nanoseconds: Int64

        public init(_ time: PacketTime) {
            let seconds = time.seconds
            nanoseconds = time.nanoseconds - seconds &* PacketTime.nanosecondsPerSecond
            let (days, secondOfDay) = UTCTime.floorDivide(seconds, 86_400)
            (year, month, day) = UTCTime.civil(fromDays: days)
            hour = Int(secondOfDay / 3600)
            minute = Int(secondOfDay / 60 % 60)
            second = Int(secondOfDay % 60)
        }
    }

    /// `2026-11-21T13:05:09.123456Z` with `fractionDigits` (0, 3, 6 or 9) digits.
    public static func rfc3339(_ time: PacketTime, fractionDigits: Int = 6) -> String {
        let parts = Parts(time)
        var text = "\(pad(parts.year, 4))-\(pad(Int64(parts.month), 2))-\(pad(Int64(parts.day), 2))"
        text += "T\(pad(Int64(parts.hour), 2)):\(pad(Int64(parts.minute), 2)):\(pad(Int64(parts.second), 2))"
        if fractionDigits > 0 {
            var divisor: Int64 = 1
            for _ in 0..<(9 - min(9, fractionDigits)) { divisor *= 10 }
            text += "." + pad(parts.nanoseconds / divisor, min(9, fractionDigits))
        }
        return text + "Z"
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a / b, r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
