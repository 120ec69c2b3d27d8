#if canImport(Glibc)
internal import Glibc
#endif

/// Writes to standard error with one `write(2)` per call: whole lines, never
/// interleaved halves, and no stdio buffering (whose C globals Swift 6 does
/// not admit anyway).
public enum StandardError {
    public static func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(2, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    /// One line, `teiten: ` prefixed, newline added.
    public static func line(_ text: String) { write("teiten: \(text)\n") }

    public static var isTerminal: Bool { isatty(2) == 1 }
}
