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
        var text: [UInt8] = []
        text.reserveCapacity(32)
        append(rfc3339: time, fractionDigits: fractionDigits, to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// `rfc3339`, appended to a byte buffer (the alert lines' times).
    public static func append(rfc3339 time: PacketTime, fractionDigits: Int = 6, to text: inout [UInt8]) {
        let parts = Parts(time)
        if parts.year < 0 { text.append(UInt8(ascii: "-")) }
        DecimalDigits.append(parts.year.magnitude, width: 4, to: &text)
        func field(_ separator: Unicode.Scalar, _ value: Int) {
            text.append(UInt8(ascii: separator))
            DecimalDigits.append(UInt64(value), width: 2, to: &text)
        }
        field("-", parts.month)
        field("-", parts.day)
        field("T", parts.hour)
        field(":", parts.minute)
        field(":", parts.second)
        if fractionDigits > 0 {
            let width = min(9, fractionDigits)
            var divisor: Int64 = 1
            for _ in 0..<(9 - width) { divisor *= 10 }
            text.append(UInt8(ascii: "."))
            DecimalDigits.append(UInt64(parts.nanoseconds / divisor), width: width, to: &text)
        }
        text.append(UInt8(ascii: "Z"))
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a / b, r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }
}
